// The toolchain image in a real container engine (podman, reached as `docker` through podman-docker;
// src/container/engine.ts), built here from docker/toolchain.Dockerfile on a debootstrap'd bookworm
// base (src/container/base-image.ts), and run as a non-root user, as GitHub's runner runs it:
//   - the image: what the Dockerfile promises (bookworm, the pinned gcc-12 and binutils, Node 24, no
//     apt lists), run as a uid it does not know, with no network;
//   - Debian's archive from inside it, as that user, with its empty apt lists: versions resolved and a
//     package downloaded (issue 18: "Debian's archive has no linux-image-6.1.0-50-amd64-unsigned");
//   - the Action's container mode: the two `docker run` lines of src/action/main.ts (dockerArgv),
//     ksplice-setup with the network, then ksplice-create without, on a copy of the prepared target,
//     with a bundle built from the sources; the tarball and the objects stay the runner's.
// The fake docker of test/action/action.test.ts stays for what needs no engine (the argv, the outputs).
//
// Run: bash scripts/test.sh test/container/real-engine.test.ts
//   (warm about 2 min; cold, on a fresh machine, the image build adds 3-5 min: debootstrap 45 s,
//   import 6 s, the Dockerfile's apt-get install 2.5 min, more on a loaded machine)
import assert from 'node:assert/strict';
import { chmod, copyFile, cp, mkdir, readdir, readFile, readlink, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dockerArgv, type PinnedImage } from '../../src/action/container.ts';
import { ensureToolchainImage } from '../../src/container/base-image.ts';
import { containerEngine, type ContainerEngine } from '../../src/container/engine.ts';
import { PINNED_NODE } from '../../src/container/node-binary.ts';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { run, runUnchecked } from '../../src/util/exec.ts';
import { withLock } from '../../src/util/lock.ts';
import { corpusPatch, REPO, scratchDir } from '../helpers/paths.ts';
import { buildActionBundle } from '../helpers/action-bundle.ts';

/** The runner's uid and gid on GitHub's hosted runners; unknown to the image (no passwd entry). */
const RUNNER = { uid: 1001, gid: 1001 };
const USER = `${RUNNER.uid}:${RUNNER.gid}`;
const RELEASE = '6.1.0-50-amd64';

let engine: ContainerEngine;
let image: PinnedImage;
let scratch: string;

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function docker(args: string[], onLine?: (line: string) => void) {
  return runUnchecked('docker', args, { env: engine.env, onLine });
}

/** The Action as the runner has it: dist/index.js built from these sources (not the committed bundle), and kmod/. */
async function actionFolder(dir: string): Promise<void> {
  await buildActionBundle(path.join(dir, 'dist/index.js'));
  await cp(path.join(REPO, 'kmod'), path.join(dir, 'kmod'), { recursive: true });
}

/**
 * A copy of the prepared target for the runner's user (a restored cache): the tree is built in, so
 * it must be the runner's, and its absolute links are made to point into the copy.
 */
async function copyTarget(cacheDir: string): Promise<void> {
  const host = await ensureTarget({ release: RELEASE, skipHostPackages: true });
  const from = host.root;
  const to = path.join(cacheDir, RELEASE);
  // Not while another test builds in the tree (src/create/double-build.ts takes this lock).
  await withLock(`${host.sourceDir}.build.lock`, () => run('cp', ['-a', from, to]));
  await rm(path.join(to, `${path.basename(host.sourceDir)}.build.lock`), { recursive: true, force: true });
  // The headers' Makefile includes the -common one by absolute path (src/setup/target-kernel.ts).
  for (const file of (await run('grep', ['-rlF', from, path.join(to, 'headers')])).split('\n').filter(Boolean)) {
    await writeFile(file, (await readFile(file, 'utf8')).replaceAll(from, to));
  }
  const links = (await run('find', [to, '-type', 'l', '-lname', `${from}/*`])).split('\n').filter(Boolean);
  for (const link of links) {
    const target = await readlink(link);
    await unlink(link);
    await symlink(to + target.slice(from.length), link);
  }
}

before(async () => {
  engine = await containerEngine();
  image = await ensureToolchainImage(engine, (line) => console.log(line));
  scratch = await scratchDir('container');
  await chmod(scratch, 0o755); // the runner's user must reach the folders below
});

after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the toolchain image in a real container engine (podman), as a non-root user', () => {
  test('the image: Debian bookworm, gcc-12 and binutils as pinned, the pinned Node, no apt lists; it runs as an unknown uid with no network', async () => {
    const dockerfile = await readFile(path.join(REPO, 'docker/toolchain.Dockerfile'), 'utf8');
    const gccPin = /gcc-12=(\S+)/.exec(dockerfile)![1];
    const binutilsPin = /binutils=(\S+)/.exec(dockerfile)![1];
    const script = [
      'id -u; id -g',
      '. /etc/os-release; echo "$VERSION_CODENAME"',
      'dpkg-query -W -f="\\${Version}\\n" gcc-12',
      'dpkg-query -W -f="\\${Version}\\n" binutils',
      'node --version',
      'ls -A /var/lib/apt/lists | wc -l',
      'test -w /var/lib/apt/lists && echo lists-writable || echo lists-read-only',
      'ls /sys/class/net | tr "\\n" " "; echo',
    ].join('; ');
    const result = await docker(['run', '--rm', '--network=none', '--user', USER, image.reference, 'bash', '-c', script]);
    assert.equal(result.exitCode, 0, result.stderr);
    const [uid, gid, codename, gcc, binutils, node, lists, writable, net] = result.stdout.split('\n');
    assert.deepEqual([uid, gid], [String(RUNNER.uid), String(RUNNER.gid)]);
    assert.equal(codename, 'bookworm');
    assert.equal(gcc, gccPin);
    assert.equal(binutils, binutilsPin);
    assert.equal(node, `v${PINNED_NODE.version}`);
    assert.equal(lists, '0', 'the Dockerfile removes the apt lists');
    assert.equal(writable, 'lists-read-only', 'a non-root user cannot refresh them in place');
    assert.equal(net.trim(), 'lo', 'no network: the loopback device only');
  });

  test("Debian's archive answers the runner's user inside the image, its apt lists empty: versions of the target's packages, a download (issue 18)", async () => {
    const cacheDir = path.join(scratch, 'archive-cache');
    await mkdir(cacheDir);
    await run('chown', [USER, cacheDir]);
    // The archive module itself, run by tsx from this checkout (mounted read-only) in the image.
    const script = `
      import { availableVersions, downloadPackage } from '${REPO}/src/setup/debian-archive.ts';
      const versions = await availableVersions('linux-image-${RELEASE}-unsigned');
      const kbuild = versions.length > 0 ? await downloadPackage('linux-kbuild-6.1', versions[0], '${cacheDir}/debs') : null;
      console.log(JSON.stringify({ versions, kbuild }));`;
    const result = await docker([
      'run',
      '--rm',
      '--user',
      USER,
      '-v',
      `${REPO}:${REPO}:ro`,
      '-v',
      `${cacheDir}:${cacheDir}`,
      '-w',
      REPO,
      '-e',
      'HOME=/tmp',
      '-e',
      `KSPLICE_CACHE_DIR=${cacheDir}`,
      image.reference,
      'node',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ]);
    assert.equal(result.exitCode, 0, result.stderr);
    const answer = JSON.parse(result.stdout.trim().split('\n').pop()!) as { versions: string[]; kbuild: string | null };
    assert.ok(
      answer.versions.length > 0,
      `Debian's archive has no linux-image-${RELEASE}-unsigned for uid ${RUNNER.uid} with empty apt lists: ${result.stderr.slice(-500)}`,
    );
    assert.ok(answer.versions.includes('6.1.176-1'), `versions ${answer.versions.join(', ')}`);
    assert.ok(answer.kbuild, 'downloaded');
    const deb = await stat(answer.kbuild);
    assert.ok(deb.size > 100_000, `${answer.kbuild}: ${deb.size} bytes`);
    assert.equal(deb.uid, RUNNER.uid, "the download is the runner's");
  });

  test("the Action's container mode (dockerArgv): ksplice-setup with the network, then ksplice-create without, as the runner's user; the tarball and the tree's objects are the runner's", async () => {
    const root = path.join(scratch, 'runner');
    const actionPath = path.join(root, 'action');
    const workspace = path.join(root, 'workspace');
    const cacheDir = path.join(root, 'cache');
    const outputDir = path.join(root, 'temp/ksplice-out');
    await mkdir(workspace, { recursive: true });
    await mkdir(cacheDir);
    await mkdir(outputDir, { recursive: true });
    await actionFolder(actionPath);
    const patch = path.join(workspace, 'patches/proc_cmdline.patch');
    await mkdir(path.dirname(patch));
    await copyFile(corpusPatch('examples/proc_cmdline.patch'), patch);
    let started = Date.now();
    await copyTarget(cacheDir);
    console.log(`copy of the prepared target: ${seconds(started)}`);
    await run('chown', ['-R', USER, root]); // what the runner's user has: its checkout, the Action, the restored cache

    const common = { image, actionPath, workspace, cacheDir, user: USER };
    started = Date.now();
    const setup = await docker(
      dockerArgv({ ...common, tool: 'setup', network: true, mounts: [], args: [`--release=${RELEASE}`, '--json'] }),
    );
    assert.equal(setup.exitCode, 0, setup.stderr.slice(-3000));
    const target = JSON.parse(setup.stdout) as {
      sourceDir: string;
      configDir: string;
      toolchain: { mismatches: unknown[]; local: { ccVersionText: string } };
    };
    assert.equal(target.sourceDir, path.join(cacheDir, RELEASE, 'linux-source-6.1'), 'paths mean the same on the runner');
    assert.deepEqual(target.toolchain.mismatches, [], "the image's gcc-12 and binutils are the target's");

    console.log(`ksplice-setup in the container: ${seconds(started)}`);
    started = Date.now();
    // The same arguments src/action/main.ts (buildInContainer) gives.
    const create = await docker(
      dockerArgv({
        ...common,
        tool: 'create',
        network: false,
        mounts: [outputDir, patch, target.configDir],
        args: [`--patch=${patch}`, `--output-dir=${outputDir}`, '--json', `--config=${target.configDir}`, target.sourceDir],
      }),
    );
    console.log(`ksplice-create in the container: ${seconds(started)}`);
    assert.equal(create.exitCode, 0, create.stderr.slice(-3000));
    const outcome = JSON.parse(create.stdout.trim().split('\n').pop()!) as {
      outcome: string;
      tarball: string;
    };
    assert.equal(outcome.outcome, 'built', create.stdout.slice(-2000));
    assert.equal(path.dirname(outcome.tarball), outputDir);
    const tarball = await stat(outcome.tarball);
    assert.ok(tarball.size > 10_000, `the tarball outlives the container (${tarball.size} bytes)`);
    assert.equal(tarball.uid, RUNNER.uid, "the tarball is the runner's");
    const object = await stat(path.join(target.sourceDir, 'fs/proc/cmdline.o'));
    assert.equal(object.uid, RUNNER.uid, "the objects left in the cached tree are the runner's to rebuild");
    const left = await readdir(outputDir);
    assert.ok(left.includes(path.basename(outcome.tarball)), left.join(', '));
  });
});
