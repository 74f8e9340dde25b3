// The Action's inputs (src/action/inputs.ts) and the decisions made from them alone: the project
// file (manifest) or the shortcuts (patch, id, hooks, accept, check-script), overwrite, the host
// packages every run ensures (warm cache or kernel-source, not only when the tree is prepared),
// whether the QEMU proof runs. Then one run of the Action from its sources (node on
// src/action/index.ts, the Actions environment set) with a ksplice.yml on a kernel-source tree
// whose config dir has no vmlinuz (the prepared Debian tree's): the update is built, the proof
// skipped with a notice and verdict 'skipped', never another kernel booted (about 1-2 min).
//
// Run: bash scripts/test.sh test/action/inputs.test.ts
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GUEST_PACKAGES, hostPackagesFor, parseAcceptInput, proofPlan, readInputs } from '../../src/action/inputs.ts';
import { parseImageReference } from '../../src/action/container.ts';
import { ProjectFileError } from '../../src/manifest/project-file.ts';
import { HOST_PACKAGES } from '../../src/setup/host-packages.ts';
import { ensureTarget, hostPackagesToEnsure } from '../../src/setup/target-kernel.ts';
import { runUnchecked } from '../../src/util/exec.ts';
import { corpusPatch, fixture, REPO, scratchDir } from '../helpers/paths.ts';

let scratch: string;
before(async () => {
  scratch = await scratchDir('action-inputs');
});
after(() => rm(scratch, { recursive: true, force: true }));

const getter = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';

describe('the Action inputs', () => {
  test('a project file gives the updates and releases; shortcuts beside it are refused; its problems keep their lines', async () => {
    const manifestDir = fixture('manifest');
    const inputs = await readInputs(getter({ manifest: 'ksplice.yml' }), manifestDir);
    assert.deepEqual(inputs.kernelReleases, ['6.1.0-50-amd64', '6.1.0-47-amd64']);
    assert.deepEqual(
      inputs.updates.map((u) => [path.basename(u.patch), u.check && path.basename(u.check), u.accept.map((a) => a.symbol)]),
      [
        ['0001-first.patch', 'smoke.sh', ['free_uid']],
        ['0002-second.patch', 'second.sh', ['free_uid', 'cmdline_reads']],
      ],
    );
    await assert.rejects(
      readInputs(getter({ manifest: 'ksplice.yml', patch: 'patches/0001-first.patch', accept: 'x' }), manifestDir),
      /input patch, accept: the project file ksplice\.yml says what to build; give one or the other/,
    );
    await assert.rejects(
      readInputs(getter({ manifest: 'ksplice.yml', 'kernel-release': '6.1.0-50-amd64' }), manifestDir),
      /ksplice\.yml:2:1: kernel-releases is given in the project file; input kernel-release would contradict it/,
    );
    await assert.rejects(readInputs(getter({ manifest: 'unknown-key.yml' }), manifestDir), (e: unknown) => {
      assert.ok(e instanceof ProjectFileError);
      assert.deepEqual(
        e.problems.map((p) => [path.basename(p.at.file), p.at.line]),
        [['unknown-key.yml', 3]],
      );
      return true;
    });
  });

  test('the shortcuts: a series with hooks and accepted symbols; overwrite false unless set; the default release', async () => {
    const dir = fixture('manifest');
    const inputs = await readInputs(
      getter({ patch: 'patches/*.patch', hooks: 'hooks.c', accept: 'free_uid, cmdline_reads\nstruct foo' }),
      dir,
    );
    assert.deepEqual(inputs.kernelReleases, ['6.1.0-50-amd64']);
    assert.deepEqual(
      inputs.updates.map((u) => [path.basename(u.patch), u.hooks && path.basename(u.hooks), u.id]),
      [
        ['0001-first.patch', 'hooks.c', null],
        ['0002-second.patch', 'hooks.c', null],
      ],
    );
    assert.deepEqual(
      inputs.updates[0].accept.map((a) => [a.symbol, a.rule]),
      [
        ['free_uid', null],
        ['cmdline_reads', null],
        ['struct foo', null],
      ],
    );
    assert.equal(inputs.overwrite, false);
    assert.equal((await readInputs(getter({ patch: 'patches/0001-first.patch', overwrite: 'true' }), dir)).overwrite, true);
    await assert.rejects(
      readInputs(getter({ patch: 'patches/0001-first.patch', overwrite: 'yes' }), dir),
      /input overwrite: expected true or false/,
    );
    await assert.rejects(
      readInputs(getter({ patch: 'patches/0001-first.patch', hooks: 'nohooks.c' }), dir),
      /hooks nohooks\.c: no such file/,
    );
    await assert.rejects(readInputs(getter({}), dir), /input patch is required: .* or a project file in manifest/);
    assert.deepEqual(parseAcceptInput(' , \n'), []);
  });

  test('host packages are decided by the inputs, never by the cache: every build on the runner needs them, kernel-source too', () => {
    // The bug: ensureHostPackages ran only while a tree was prepared, so a warm cache or a
    // kernel-source tree went on without gcc-12 ('spawn gcc-12 ENOENT').
    assert.deepEqual(hostPackagesFor({ toolchainImage: undefined, qemuTest: true }), [...HOST_PACKAGES]);
    assert.deepEqual(hostPackagesFor({ toolchainImage: undefined, qemuTest: false }), [...HOST_PACKAGES]);
    assert.ok(hostPackagesFor({ toolchainImage: undefined, qemuTest: false }).includes('gcc-12'));
    const image = parseImageReference(`ghcr.io/org/tc@sha256:${'ab'.repeat(32)}`);
    assert.deepEqual(hostPackagesFor({ toolchainImage: image, qemuTest: true }), [...GUEST_PACKAGES], 'the runner boots the guest');
    assert.deepEqual(hostPackagesFor({ toolchainImage: image, qemuTest: false }), []);
    for (const p of GUEST_PACKAGES) assert.ok((HOST_PACKAGES as readonly string[]).includes(p), `${p} is a host package`);
  });

  test('ensureTarget on a warm cache (ksplice-setup, ksplice-create --kernel-release) still ensures the host packages (dpkg says gcc-12 is missing: apt installs it, or a non-root run names it)', async () => {
    // Only apt is faked (dpkg-query reporting gcc-12 absent, apt-get logging its arguments):
    // uninstalling the real gcc-12 is not a test's to do. The cache is the real, prepared one.
    await ensureTarget({ skipHostPackages: true });
    const bin = await mkdtemp(path.join(scratch, 'apt-'));
    const log = path.join(bin, 'apt.log');
    await writeFile(
      path.join(bin, 'dpkg-query'),
      '#!/bin/sh\nshift 2\nfor p in "$@"; do [ "$p" = gcc-12 ] && echo "$p not-installed" || echo "$p installed"; done\n',
      { mode: 0o755 },
    );
    await writeFile(path.join(bin, 'apt-get'), `#!/bin/sh\necho "$*" >> ${log}\n`, { mode: 0o755 });
    const script = `import { ensureTarget } from ${JSON.stringify(path.join(REPO, 'src/setup/target-kernel.ts'))};\nawait ensureTarget({ log: () => {} });\n`;
    const result = await runUnchecked('node', ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    if (process.getuid?.() === 0) {
      assert.equal(result.exitCode, 0, result.stderr);
      assert.match(await readFile(log, 'utf8').catch(() => ''), /install -y --no-install-recommends gcc-12$/m);
    } else {
      assert.notEqual(result.exitCode, 0);
      assert.match(result.stderr, /missing host packages: gcc-12; run as root/);
    }
    assert.deepEqual(hostPackagesToEnsure({}), HOST_PACKAGES);
    assert.deepEqual(hostPackagesToEnsure({ skipHostPackages: true }), []);
  });

  test('no vmlinuz in the config folder: the proof is skipped with a notice, not run on another kernel', () => {
    const skipped = proofPlan({ qemuTest: true }, { vmlinuz: null, configDir: '/src/ksplice' });
    assert.equal(skipped.prove, false);
    assert.match(!skipped.prove ? (skipped.notice ?? '') : '', /no vmlinuz in \/src\/ksplice: the QEMU proof is skipped/);
    assert.deepEqual(proofPlan({ qemuTest: false }, { vmlinuz: null }), { prove: false, notice: null });
    assert.deepEqual(proofPlan({ qemuTest: true }, { vmlinuz: '/boot/vmlinuz' }), { prove: true, vmlinuz: '/boot/vmlinuz' });
  });
});

/** The Action run from its sources (node on src/action/index.ts) in `cwd`, with these inputs. */
async function runAction(cwd: string, inputs: Record<string, string>) {
  const files = { GITHUB_OUTPUT: path.join(cwd, 'output'), GITHUB_STEP_SUMMARY: path.join(cwd, 'summary') };
  for (const f of Object.values(files)) await writeFile(f, '');
  const result = await runUnchecked('node', ['--import', import.meta.resolve('tsx'), path.join(REPO, 'src/action/index.ts')], {
    cwd,
    env: {
      ...process.env,
      ...files,
      GITHUB_WORKSPACE: cwd,
      RUNNER_TEMP: cwd,
      GITHUB_ACTIONS: 'true',
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    },
  });
  return { ...result, outputs: await readFile(files.GITHUB_OUTPUT, 'utf8') };
}

describe('the Action from its sources', () => {
  test("a project file's problems: one error annotation each, on its line of the file, before any work", async () => {
    const work = await mkdtemp(path.join(scratch, 'bad-'));
    await mkdir(path.join(work, 'ci'));
    await writeFile(path.join(work, 'ci/ksplice.yml'), 'patches:\n  - nope.patch\n  - patch: x.patch\n    hook: h.c\n');
    const run = await runAction(work, { manifest: 'ci/ksplice.yml' });
    assert.equal(run.exitCode, 1);
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error'));
    assert.equal(errors.length, 3, run.stdout);
    assert.match(
      errors[0],
      /^::error title=ksplice\.yml,file=ci\/ksplice\.yml,line=2,col=5::ci\/ksplice\.yml:2:5: patches\[0\]: nope\.patch: no such file/,
    );
    assert.match(
      errors[1],
      /^::error title=ksplice\.yml,file=ci\/ksplice\.yml,line=3,col=5::.*patches\[1\]\.patch: x\.patch: no such file/,
    );
    assert.match(errors[2], /^::error title=ksplice\.yml,file=ci\/ksplice\.yml,line=4,col=5::.*unknown key 'hook' in patches\[1\]/);
    assert.doesNotMatch(run.stdout, /::group::/, 'nothing started');
  });

  test('ksplice.yml on a kernel-source tree without vmlinuz: host packages checked, built, proof skipped with a notice, verdict skipped', async () => {
    const target = await ensureTarget();
    assert.ok(!existsSync(path.join(target.configDir, 'vmlinuz')), 'the prepared tree has no vmlinuz in its config dir');
    const work = await mkdtemp(path.join(scratch, 'run-'));
    await mkdir(path.join(work, 'patches'));
    await writeFile(path.join(work, 'patches/proc_cmdline.patch'), await readFile(corpusPatch('examples/proc_cmdline.patch')));
    await writeFile(path.join(work, 'check.sh'), '#!/bin/sh\nexit 0\n');
    await writeFile(
      path.join(work, 'ksplice.yml'),
      'patches:\n  - patch: patches/proc_cmdline.patch\n    check: check.sh\n    id: cmdline-fix\n',
    );
    const result = await runAction(work, {
      manifest: 'ksplice.yml',
      'kernel-source': target.sourceDir,
      'upload-artifact': 'false',
      'qemu-test': 'true',
    });
    assert.equal(result.exitCode, 0, result.stdout.slice(-3000) + result.stderr.slice(-2000));
    assert.match(result.stdout, /^::group::setup: host packages$/m);
    assert.match(result.stdout, /^::notice::proc_cmdline\.patch: no vmlinuz in .*\/ksplice: the QEMU proof is skipped/m);
    assert.doesNotMatch(result.stdout, /::group::QEMU/, 'no guest booted');
    const outputs = result.outputs;
    assert.match(outputs, /^verdict<<(\S+)\nskipped\n\1$/m);
    assert.match(outputs, /^update-id<<(\S+)\ncmdline-fix\n\1$/m);
    assert.ok(existsSync(path.join(work, 'ksplice-out/ksplice-cmdline-fix.tar.gz')));
  });
});
