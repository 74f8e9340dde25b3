// ksplice-qemu, the harness's command line: proving a real update made by ksplice-create (the
// /proc/cmdline example) with a guest check in each phase, a JSON verdict and the serial log kept;
// a failing step exits 3 (guestFailed, src/util/exit-codes.ts) with the failure in the JSON; a slow
// step shows the progress ticker (seconds elapsed and the last console line every 5 s); usage errors
// exit 64 before any boot.
//
// Run: bash scripts/test.sh test/qemu/cli.test.ts   (about 70 s under TCG)
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { runUnchecked } from '../../src/util/exec.ts';
import { CORPUS as corpus, REPO as repo, scratchDir } from '../helpers/paths.ts';

let target: TargetKernel;
let scratch: string;

interface Verdict {
  ok: boolean;
  failures: string[];
  booted: boolean;
  steps: { name: string; status: string; exitCode: number | null; output: string }[];
  splats: string[];
  taint: { unexpected: number };
  serialLogPath: string;
  timingsMs: { boot: number; total: number };
}

function ksplice(tool: 'create' | 'qemu', ...args: string[]) {
  // run from the scratch folder (relative paths land there), with the repository's own tsx
  return runUnchecked(path.join(repo, 'node_modules/.bin/tsx'), [path.join(repo, `src/${tool}/cli.ts`), ...args], { cwd: scratch });
}

before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('qemu-cli');
});
after(() => rm(scratch, { recursive: true, force: true }));

test('--update proves a ksplice-create update: check original, apply, check applied, view, undo, check reverted', async () => {
  const made = await ksplice(
    'create',
    `--patch=${path.join(corpus, 'examples/proc_cmdline.patch')}`,
    `--output-dir=${scratch}`,
    '--json',
    target.sourceDir,
  );
  assert.equal(made.exitCode, 0, made.stderr);
  const { tarball, id } = JSON.parse(made.stdout.trim().split('\n').pop()!) as { tarball: string; id: string };
  const run = await ksplice(
    'qemu',
    `--update=${tarball}`,
    `--check=${path.join(repo, 'test/fixtures/qemu/check-cmdline.sh')}`,
    '--serial-log=serial.log',
    '--json',
  );
  assert.equal(run.exitCode, 0, run.stderr.slice(-3000));
  const verdict = JSON.parse(run.stdout) as Verdict;
  assert.equal(verdict.ok, true);
  assert.deepEqual(
    verdict.steps.map((s) => [s.name, s.status]),
    [
      ['tools', 'passed'],
      ['check-original', 'passed'],
      ['apply', 'passed'],
      ['check-applied', 'passed'],
      ['view', 'passed'],
      ['undo', 'passed'],
      ['check-reverted', 'passed'],
    ],
  );
  const step = (name: string) => verdict.steps.find((s) => s.name === name)!.output;
  assert.match(step('check-applied'), /\[rebootless update applied\]/);
  assert.doesNotMatch(step('check-reverted'), /rebootless/);
  assert.match(step('view'), new RegExp(`Update: ${id}`));
  assert.deepEqual(verdict.splats, []);
  assert.equal(verdict.serialLogPath, path.join(scratch, 'serial.log'));
  const serial = await readFile(verdict.serialLogPath, 'utf8');
  assert.match(serial, new RegExp(`ksplice: Update ${id} applied successfully`));
  assert.match(serial, new RegExp(`ksplice: Update ${id} reversed successfully`));
  assert.match(run.stderr, /\[qemu\] userspace after/, 'progress while booting');
  assert.match(run.stderr, /PASSED: TCG guest|PASSED: KVM guest/);
});

test('a failing step exits 3 (guestFailed) and says which in the JSON verdict', async () => {
  const run = await ksplice('qemu', '--step=ok=true', '--step=check=grep -q no-such-word /proc/cmdline', '--json', '--serial-log=fail.log');
  assert.equal(run.exitCode, 3);
  const verdict = JSON.parse(run.stdout) as Verdict;
  assert.equal(verdict.ok, false);
  assert.equal(verdict.booted, true);
  assert.deepEqual(
    verdict.steps.map((s) => [s.name, s.status, s.exitCode]),
    [
      ['ok', 'passed', 0],
      ['check', 'failed', 1],
    ],
  );
  assert.deepEqual(verdict.failures, ['step check failed (exit 1)']);
  assert.match(run.stderr, /FAILED/);
});

test('progress on stderr while the guest runs: every 5 s the seconds elapsed and the last console line', async () => {
  const run = await ksplice(
    'qemu',
    '--step=slow=for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "still waiting $i"; sleep 1; done',
    '--serial-log=slow.log',
  );
  assert.equal(run.exitCode, 0, run.stderr);
  const ticks = [...run.stderr.matchAll(/^\[qemu\] (\d+\.\d) s: (.*)$/gm)].map((m) => ({ at: Number(m[1]), line: m[2] }));
  assert.ok(ticks.length >= 3, `a 12 s step after a boot of seconds: at least 3 ticks\n${run.stderr}`);
  for (const [i, tick] of ticks.entries()) {
    assert.ok(Math.abs(tick.at - 5 * (i + 1)) < 1.5, `tick ${i + 1} at ${tick.at} s, about ${5 * (i + 1)} s expected`);
  }
  // the step's own lines, live: the count moved on between ticks
  const counts = ticks
    .map((t) => /^still waiting (\d+)$/.exec(t.line)?.[1])
    .filter((n) => n !== undefined)
    .map(Number);
  assert.ok(counts.length >= 2, `ticks show the step's last line:\n${run.stderr}`);
  assert.ok(counts[counts.length - 1] > counts[0], `the last line moved on: ${counts.join(', ')}`);
  // in order: booting, ticks and userspace, the step, its end
  assert.ok(run.stderr.indexOf('[qemu] booting') < run.stderr.indexOf('[qemu] step slow ...'));
  assert.ok(run.stderr.indexOf(`still waiting ${counts[0]}`) < run.stderr.indexOf('[qemu] step slow: exit 0'));
});

test('usage errors exit 64 with a message, before any boot', async () => {
  for (const [args, message] of [
    [[], /nothing to run/],
    [['--step=noequals'], /expected NAME=COMMAND/],
    [['--update=/no/such/ksplice-x.tar.gz'], /no such file/],
    [['--check=x.sh', '--step=a=true'], /--check goes with --update/],
    [['--frobnicate'], /Unknown option/],
    [['--step=a=true', '--timeout=-3'], /positive number/],
    [['--step=a=true', '--tcg-thread=many'], /expected single or multi/],
  ] as [string[], RegExp][]) {
    const run = await ksplice('qemu', ...args);
    assert.equal(run.exitCode, 64, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.match(run.stderr, /usage: ksplice-qemu/);
    assert.doesNotMatch(run.stderr, /\[qemu\] booting/);
  }
});
