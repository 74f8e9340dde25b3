/**
 * The README's kernel table, filled from real runs: for each release, the setup (prepared tree,
 * source version), ksplice-create of the two examples (built? functions the reproduction check
 * found equal to Debian's shipped code), and the guest proof booting that release's own vmlinuz
 * (apply, check, undo; the console's `Linux version` line must name the release and its source
 * version). Each run's record goes into docs/kernel-table.json; the table is rendered from that
 * file between the README's `kernel-table` markers, so no cell is typed by hand.
 *
 * Usage:
 *   npx tsx scripts/kernel-table.ts --release=6.1.0-47-amd64[,latest,...] [--no-guest]   (runs, records, renders)
 *   npx tsx scripts/kernel-table.ts --render-only                                         (renders the recorded runs)
 * Guest runs take /tmp/ksa-guest.lock (shared with every other guest user of this machine).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTarget } from '../src/setup/target-kernel.ts';
import { runUnchecked } from '../src/util/exec.ts';
import { projectPath } from '../src/util/repo-root.ts';

const RESULTS = projectPath('docs/kernel-table.json');
const README = projectPath('README.md');
const START = '<!-- kernel-table:start (scripts/kernel-table.ts writes this table; do not edit by hand) -->';
const END = '<!-- kernel-table:end -->';

const EXAMPLES = [
  { name: 'printk', patch: 'examples/printk-6.1.patch', check: 'examples/printk-6.1.check.sh' },
  { name: 'proc_cmdline', patch: 'corpus/examples/proc_cmdline.patch', check: 'test/fixtures/qemu/check-cmdline.sh' },
] as const;

interface ExampleRun {
  outcome: string;
  /** Functions of the pre build found byte-equal (after relocation) to the shipped code. */
  reproduced: number | null;
  createSeconds: number;
  /** null: not run; else whether apply, the checks and undo passed in the guest. */
  guest: { ok: boolean; bootedLine: string | null; seconds: number; exitCode: number | null; failures: string[] } | null;
  error?: string;
}

interface KernelRun {
  release: string;
  sourceVersion: string;
  setupSeconds: number;
  examples: Record<string, ExampleRun>;
  ranAt: string;
}

type Results = Record<string, KernelRun>;

async function readResults(): Promise<Results> {
  return readFile(RESULTS, 'utf8')
    .then((t) => JSON.parse(t) as Results)
    .catch(() => ({}));
}

const tsx = projectPath('node_modules/.bin/tsx');

async function createExample(release: string, patch: string, outDir: string): Promise<{ run: ExampleRun; tarball: string | null }> {
  const begun = Date.now();
  const result = await runUnchecked(tsx, [
    projectPath('src/create/cli.ts'),
    `--kernel-release=${release}`,
    `--patch=${projectPath(patch)}`,
    `--output-dir=${outDir}`,
    '--json',
  ]);
  const seconds = Math.round((Date.now() - begun) / 1000);
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    const outcome = JSON.parse(line) as { outcome: string; tarball: string | null; reproduction: { checked: number } };
    return {
      run: { outcome: outcome.outcome, reproduced: outcome.reproduction.checked, createSeconds: seconds, guest: null },
      tarball: outcome.tarball,
    };
  } catch {
    const error = result.stderr.trim().split('\n').slice(-3).join(' | ');
    return { run: { outcome: 'error', reproduced: null, createSeconds: seconds, guest: null, error }, tarball: null };
  }
}

async function proveInGuest(
  release: string,
  sourceVersion: string,
  tarball: string,
  check: string,
  work: string,
): Promise<ExampleRun['guest']> {
  const serialLog = path.join(work, `serial-${path.basename(tarball)}.log`);
  const begun = Date.now();
  const result = await runUnchecked('flock', [
    '/tmp/ksa-guest.lock',
    tsx,
    projectPath('src/qemu/cli.ts'),
    `--kernel-release=${release}`,
    `--update=${tarball}`,
    `--check=${projectPath(check)}`,
    `--serial-log=${serialLog}`,
    '--json',
  ]);
  const seconds = Math.round((Date.now() - begun) / 1000);
  const console = await readFile(serialLog, 'utf8').catch(() => '');
  // `Linux version 6.1.0-47-amd64 (…) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, …) #1 SMP PREEMPT_DYNAMIC Debian 6.1.170-3 (2026-05-08)`
  const booted = /Linux version (\S+) .*Debian (\S+) \(\d{4}-\d\d-\d\d\)/.exec(console);
  const bootedLine = booted ? `${booted[1]} (Debian ${booted[2]})` : null;
  // The guest must have booted this release's own kernel, not the default one.
  const rightKernel = booted !== null && booted[1] === release && booted[2] === sourceVersion;
  const failures = result.exitCode === 0 ? [] : result.stderr.trim().split('\n').slice(-3);
  if (!rightKernel) failures.push(`booted ${bootedLine ?? 'no Linux version line'}, expected ${release} (Debian ${sourceVersion})`);
  return { ok: failures.length === 0, bootedLine, seconds, exitCode: result.exitCode, failures };
}

async function runKernel(requested: string, withGuest: boolean): Promise<KernelRun> {
  const begun = Date.now();
  const target = await ensureTarget({ release: requested });
  const run: KernelRun = {
    release: target.release,
    sourceVersion: target.sourceVersion,
    setupSeconds: Math.round((Date.now() - begun) / 1000),
    examples: {},
    ranAt: new Date().toISOString(),
  };
  const work = await mkdtemp(path.join(os.tmpdir(), `ksa-table-${target.release}-`));
  try {
    for (const example of EXAMPLES) {
      process.stderr.write(`${target.release}: create ${example.name}\n`);
      const { run: exampleRun, tarball } = await createExample(target.release, example.patch, work);
      if (withGuest && tarball) {
        process.stderr.write(`${target.release}: guest proof of ${example.name}\n`);
        exampleRun.guest = await proveInGuest(target.release, target.sourceVersion, tarball, example.check, work);
      }
      run.examples[example.name] = exampleRun;
      process.stderr.write(`${target.release}: ${example.name} ${JSON.stringify(exampleRun)}\n`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return run;
}

/** The table's markdown, one row per recorded kernel, oldest ABI first. Pure. */
export function renderTable(results: Results): string {
  const cell = (runs: [string, ExampleRun][], show: (r: ExampleRun) => string) => runs.map(([name, r]) => `${name} ${show(r)}`).join(', ');
  const rows = Object.values(results)
    .sort((a, b) => a.release.localeCompare(b.release, 'en', { numeric: true }))
    .map((k) => {
      const runs = EXAMPLES.map((e) => [e.name, k.examples[e.name]] as [string, ExampleRun]).filter(([, r]) => r);
      const builds = cell(runs, (r) => (r.outcome === 'built' ? `✓ (${r.createSeconds} s)` : `✗ ${r.outcome}`));
      const reproduces = cell(runs, (r) => (r.reproduced ? `✓ ${r.reproduced} fn` : '✗'));
      const guest = cell(runs, (r) => (r.guest === null ? '–' : r.guest.ok ? '✓' : '✗'));
      const booted = runs.find(([, r]) => r.guest?.bootedLine)?.[1].guest?.bootedLine ?? '–';
      return `| ${k.release} | ${k.sourceVersion} | ${builds} | ${reproduces} | ${guest} | ${booted} | ${k.ranAt.slice(0, 10)} |`;
    });
  return [
    '| kernel | source version | builds (create time) | reproduces (functions equal to shipped code) | proven in guest (apply, check, undo) | guest booted | run on |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function writeReadme(results: Results): Promise<void> {
  const text = await readFile(README, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} markers`);
  await writeFile(README, text.slice(0, start + START.length) + '\n' + renderTable(results) + '\n' + text.slice(end));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      release: { type: 'string' },
      'no-guest': { type: 'boolean', default: false },
      'render-only': { type: 'boolean', default: false },
    },
  });
  const results = await readResults();
  if (!values['render-only']) {
    if (!values.release) throw new Error('give --release=R[,R...] or --render-only');
    for (const requested of values.release.split(',')) {
      const run = await runKernel(requested, !values['no-guest']);
      results[run.release] = run;
      await mkdir(path.dirname(RESULTS), { recursive: true });
      await writeFile(RESULTS, JSON.stringify(results, null, 2) + '\n');
    }
  }
  await writeReadme(results);
  process.stdout.write(renderTable(results) + '\n');
}

main().catch((e: Error) => {
  process.stderr.write(`kernel-table: ${e.message}\n`);
  process.exit(1);
});
