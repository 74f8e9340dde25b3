// The shipped workflows' shell steps in a real container (podman; src/container/engine.ts). Every job
// that runs in a debian:bookworm job container and restores the cache: its steps before the
// actions/cache step run for real in a bare bookworm (the debootstrap'd base of
// src/container/base-image.ts stands in for debian:bookworm; no registry here), as root, as a job
// container runs them; then tar and zstd must be on PATH for the cache's restore (without zstd the
// cache key's compression differs from the save's: a permanent miss, issue 18). The job's other
// shell steps are checked by bash -n there as a non-root user (they need GitHub's contexts, the
// Action's outputs or its API to run). workflowJobs (js-yaml) is unit-tested on a small workflow.
//
// Run: bash scripts/test.sh test/container/workflows.test.ts   (about 30 s once the base image is built)
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ensureBaseImage } from '../../src/container/base-image.ts';
import { containerEngine, type ContainerEngine } from '../../src/container/engine.ts';
import { expressionsIn, workflowJobs, type WorkflowJob } from '../../src/container/workflow-steps.ts';
import { runUnchecked } from '../../src/util/exec.ts';
import { REPO } from '../helpers/paths.ts';

test('workflowJobs: jobs, their container image, env and run steps in order, which come before the cache step', () => {
  const jobs = workflowJobs(
    [
      'env: { KERNEL_RELEASE: 6.1.0-50-amd64 }',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    container: { image: "debian:bookworm", options: --device=/dev/kvm }',
      '    env: { A: 1 }',
      '    steps:',
      '      - name: zstd',
      '        run: apt-get install -y zstd',
      '      - uses: actions/cache@0123 # v5',
      '      - id: report',
      '        env: { B: "${{ steps.x.outputs.y }}" }',
      '        run: |',
      '          echo "$B"',
      '  list:',
      '    runs-on: ubuntu-latest',
      '    container: node:24',
      '    steps:',
      '      - run: ls',
    ].join('\n'),
  );
  assert.deepEqual(jobs, [
    {
      id: 'build',
      image: 'debian:bookworm',
      env: { KERNEL_RELEASE: '6.1.0-50-amd64', A: '1' },
      cached: true,
      runSteps: [
        { name: 'zstd', script: 'apt-get install -y zstd', env: {}, beforeCache: true },
        { name: 'report', script: 'echo "$B"\n', env: { B: '${{ steps.x.outputs.y }}' }, beforeCache: false },
      ],
    },
    {
      id: 'list',
      image: 'node:24',
      env: { KERNEL_RELEASE: '6.1.0-50-amd64' },
      cached: false,
      runSteps: [{ name: 'ls', script: 'ls', env: {}, beforeCache: false }],
    },
  ]);
  assert.deepEqual(expressionsIn('a ${{ github.sha }} b ${{steps.x.outputs.y}}'), ['github.sha', 'steps.x.outputs.y']);
});

const RUNNER_UID = 1001;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * One container for the job: its before-cache steps as root with the job's env (bash -eo pipefail,
 * GitHub's default shell), then the tools the cache needs, then the other steps' syntax as a non-root uid.
 */
function jobScript(job: WorkflowJob): string {
  const lines = ['set -u', 'export DEBIAN_FRONTEND=noninteractive'];
  for (const [k, v] of Object.entries(job.env)) lines.push(`export ${k}=${shellQuote(v)}`);
  for (const step of job.runSteps.filter((s) => s.beforeCache)) {
    const env = Object.entries(step.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    lines.push(`echo "::step:: ${step.name.replace(/[^\w ,.()-]/g, '')}"`);
    lines.push(`env ${env.join(' ')} bash --noprofile --norc -eo pipefail -c ${shellQuote(step.script)} || exit 90`);
  }
  lines.push('for tool in tar zstd; do command -v "$tool" >/dev/null || { echo "missing before the cache step: $tool"; exit 91; }; done');
  for (const step of job.runSteps.filter((s) => !s.beforeCache)) {
    const script = step.script.replace(/\$\{\{.*?\}\}/g, 'EXPR');
    lines.push(
      `setpriv --reuid=${RUNNER_UID} --regid=${RUNNER_UID} --clear-groups bash -n -c ${shellQuote(script)} || { echo "syntax: ${step.name.replace(/["$`\\]/g, '')}"; exit 92; }`,
    );
  }
  lines.push('echo job-ok');
  return lines.join('\n');
}

describe('the workflows in a real container', () => {
  let engine: ContainerEngine;
  let base: string;
  before(async () => {
    engine = await containerEngine();
    base = await ensureBaseImage(engine, (line) => console.log(line));
  });

  test('each cached job in a debian:bookworm container: its steps before actions/cache run in a bare bookworm and leave tar and zstd; its other shell steps parse', async () => {
    const files = (await readdir(path.join(REPO, 'workflows'))).filter((f) => f.endsWith('.yml'));
    const jobs = (
      await Promise.all(
        files.map(async (f) => workflowJobs(await readFile(path.join(REPO, 'workflows', f), 'utf8')).map((j) => ({ file: f, job: j }))),
      )
    )
      .flat()
      .filter(({ job }) => job.cached && /^debian:bookworm(@|$)/.test(job.image ?? ''));
    assert.ok(jobs.length >= 3, `cached bookworm jobs: ${jobs.map((j) => `${j.file}:${j.job.id}`).join(', ')}`);
    for (const { file, job } of jobs) {
      const where = `${file}: job ${job.id}`;
      for (const step of job.runSteps.filter((s) => s.beforeCache)) {
        assert.deepEqual(
          expressionsIn(step.script + Object.values(step.env).join(' ')),
          [],
          `${where}: ${step.name} runs before the cache with no GitHub context`,
        );
      }
      const result = await runUnchecked('podman', ['run', '--rm', base, 'bash', '-c', jobScript(job)], { env: engine.env });
      assert.equal(result.exitCode, 0, `${where}:\n${(result.stdout + result.stderr).slice(-2000)}`);
      assert.match(result.stdout, /job-ok$/m);
    }
  });
});
