// The shipped workflows' container-job steps in a real container engine (podman, reached as
// `docker`: src/container/engine.ts), in a Debian bookworm image made here without a registry
// (debootstrap'd, src/container/base-image.ts: what `debian:bookworm` is, plus the pinned Node that
// setup-node would bring), run as GitHub runs a container job's `run:` step: `bash -e` as root,
// the workspace mounted, apt's lists empty as in the official image.
//   - the step before the cache restore leaves zstd and GNU tar, which actions/cache looks for, so
//     the restore and the post-job save use one cache version;
//   - the nightly `released` job's download step, with the Action's bundle built from these
//     sources (what `npm run build:action` makes), reaches a fake of GitHub's releases API on the
//     host and writes the verified tarballs and their list.
//
// Run: bash scripts/test.sh test/action/workflow-container.test.ts
//      (about a minute with the base image stored; its first build about 1 min more, as root)
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { load } from 'js-yaml';
import { CHECKSUMS_ASSET, formatSha256Sums, sha256Hex } from '../../src/action/publish.ts';
import { ensureBaseImage } from '../../src/container/base-image.ts';
import { containerEngine, type ContainerEngine } from '../../src/container/engine.ts';
import { runUnchecked } from '../../src/util/exec.ts';
import { fakeReleasesApi, updateTarball } from '../helpers/fake-github-releases.ts';
import { REPO, scratchDir } from '../helpers/paths.ts';
import { buildActionBundle } from '../helpers/action-bundle.ts';

interface Step {
  name?: string;
  run?: string;
  uses?: string;
}
interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, { container?: { image: string }; steps?: Step[] }>;
}

let scratch: string;
let engine: ContainerEngine;
let image: string;

before(async () => {
  scratch = await scratchDir('workflow-container');
  engine = await containerEngine();
  image = await ensureBaseImage(engine, (l) => process.stderr.write(`${l}\n`));
});
after(() => rm(scratch, { recursive: true, force: true }));

async function workflow(name: string): Promise<Workflow> {
  return load(await readFile(path.join(REPO, 'workflows', name), 'utf8')) as Workflow;
}

/** GitHub's container job: the workspace at /__w/repo/repo, the step's script run by bash -e as root. */
async function runStep(workspace: string, script: string, env: Record<string, string> = {}, network = 'host') {
  const inside = '/__w/repo/repo';
  const vars = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  return runUnchecked(
    'docker',
    ['run', '--rm', `--network=${network}`, '-v', `${workspace}:${inside}`, '-w', inside, ...vars, image, 'bash', '-e', '-c', script],
    { env: engine.env },
  );
}

describe('container-job steps in a real bookworm container (podman)', () => {
  test('the step before the cache restore, in every job that restores one, leaves zstd and GNU tar (apt lists empty at first)', async () => {
    const scripts = new Set<string>();
    for (const name of ['pr-check.yml', 'release.yml', 'nightly-qemu.yml']) {
      for (const [job, j] of Object.entries((await workflow(name)).jobs)) {
        const steps = j.steps ?? [];
        const cache = steps.findIndex((s) => (s.uses ?? '').startsWith('actions/cache@'));
        if (cache < 0) continue;
        assert.ok(j.container?.image.startsWith('debian:bookworm'), `${name} ${job}: a bookworm job container`);
        const before = steps.slice(0, cache).filter((s) => s.run);
        assert.ok(before.length > 0, `${name} ${job}: a step before the cache restore`);
        scripts.add(before.map((s) => s.run).join('\n'));
      }
    }
    assert.ok(scripts.size >= 1 && scripts.size <= 2, [...scripts].join('\n---\n'));
    const workspace = await mkdtemp(path.join(scratch, 'ws-'));
    for (const script of scripts) {
      const result = await runStep(
        workspace,
        // what actions/cache then runs to choose its compression (zstd --version) and to pack (tar)
        `test -z "$(ls /var/lib/apt/lists | grep -v -e '^partial$' -e '^lock$' || true)"\n${script}\nzstd --version\ntar --version | head -n1`,
      );
      assert.equal(result.exitCode, 0, result.stdout.slice(-2000) + result.stderr.slice(-2000));
      assert.match(result.stdout, /\*\*\* Zstandard CLI|zstd command line interface/);
      assert.match(result.stdout, /^tar \(GNU tar\)/m);
    }
  });

  test("the nightly released job's download step: the bundle's release-assets in the container, against the API, the verified tarballs listed", async () => {
    const files = {
      'ksplice-c1.tar.gz': updateTarball('c1', '6.1.0-50-amd64'),
      'ksplice-c2.tar.gz': updateTarball('c2', '6.1.0-50-amd64'),
    };
    const sums = formatSha256Sums(new Map(Object.entries(files).map(([n, b]) => [n, sha256Hex(b)])));
    const gh = await fakeReleasesApi({ releases: [{ tag: 'v1.0', assets: { ...files, [CHECKSUMS_ASSET]: sums } }] });
    try {
      const workspace = await mkdtemp(path.join(scratch, 'ws-'));
      // the Action as the job checks it out: its bundle (npm run build:action's command) and package.json
      await mkdir(path.join(workspace, '.ksplice-action/dist'), { recursive: true });
      await buildActionBundle(path.join(workspace, '.ksplice-action/dist/index.js'));
      await writeFile(path.join(workspace, '.ksplice-action/package.json'), await readFile(path.join(REPO, 'package.json')));
      const nightly = await workflow('nightly-qemu.yml');
      const step = nightly.jobs.released.steps!.find((s) => s.name === 'Download every released update');
      assert.ok(step?.run);
      const result = await runStep(workspace, step.run, {
        GITHUB_TOKEN: 'fake',
        GITHUB_REPOSITORY: 'org/kernel-fixes',
        GITHUB_API_URL: gh.base,
        KERNEL_RELEASE: '6.1.0-50-amd64', // the job's env: ${{ matrix.kernel }}
      });
      assert.equal(result.exitCode, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /^2 released update\(s\) for 6\.1\.0-50-amd64$/m);
      assert.match(result.stderr, /2 released update\(s\), 2 verified against SHA256SUMS/);
      assert.deepEqual((await readFile(path.join(workspace, 'tarballs.txt'), 'utf8')).trim().split('\n').sort(), [
        'released/v1.0/ksplice-c1.tar.gz',
        'released/v1.0/ksplice-c2.tar.gz',
      ]);
      assert.deepEqual((await readdir(path.join(workspace, 'released/v1.0'))).sort(), Object.keys(files));
    } finally {
      await gh.close();
    }
  });
});
