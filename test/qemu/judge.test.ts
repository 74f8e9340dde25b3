// The verdict rules (src/qemu/judge.ts) on transcripts of real guest runs of Debian's 6.1.0-50
// kernel (test/fixtures/qemu/transcript-*.json, recorded by scripts/record-guest-transcripts.ts),
// without booting: a passing update proof, a failing step with and without keepGoing, a step
// killed at its own timeout, a WARN then a hang killed at the whole-run timeout, a WARN with taint
// W, splat-like step output (ttyS1, no splat) against the same on the console (a splat), an empty
// final dmesg, a panic mid-step, and, cut or edited from those, a guest that never booted, ran no
// step, stopped between steps or left a step out.
//
// Run: bash scripts/test.sh test/qemu/judge.test.ts   (about a second)
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type { GuestStep } from '../../src/qemu/guest-init.ts';
import { describeTaint, judge, TAINT_EXPECTED_FROM_MODULES, type JudgePolicy } from '../../src/qemu/judge.ts';
import type { GuestTranscript } from '../../src/qemu/launch.ts';
import { fixture } from '../helpers/paths.ts';

interface Recorded {
  steps: GuestStep[];
  policy: JudgePolicy;
  transcript: GuestTranscript;
}

async function recorded(name: string): Promise<Recorded> {
  return JSON.parse(await readFile(fixture(`qemu/transcript-${name}.json`), 'utf8')) as Recorded;
}

/** A recorded run judged as it was run. */
async function judged(name: string) {
  const r = await recorded(name);
  return judge(r.transcript, r.steps, r.policy);
}

/** A fixture file without its `#` header lines. */
async function fixtureLog(name: string): Promise<string> {
  return (await readFile(fixture(`qemu/${name}`), 'utf8'))
    .split('\n')
    .filter((l) => !l.startsWith('# '))
    .join('\n');
}

/** The protocol cut just after the first line that contains `marker` (the guest stopped there). */
function cutAfter(protocol: string, marker: string): string {
  const at = protocol.indexOf(marker);
  assert.notEqual(at, -1, marker);
  return protocol.slice(0, protocol.indexOf('\n', at) + 1);
}

const statuses = (v: ReturnType<typeof judge>) => v.steps.map((s) => [s.name, s.status, s.exitCode]);

describe('verdicts of recorded runs', () => {
  test("pass: an update proved (apply, view, undo, checks in each phase); every step passed, our modules' taint only", async () => {
    const r = await recorded('update');
    const v = judge(r.transcript, r.steps, r.policy);
    assert.deepEqual(v.failures, []);
    assert.equal(v.ok, true);
    assert.equal(v.booted, true);
    assert.equal(v.timedOut, false);
    assert.deepEqual(
      v.steps.map((s) => [s.name, s.status]),
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
    const output = (name: string) => v.steps.find((s) => s.name === name)!.output;
    assert.match(output('apply'), /applied successfully/);
    assert.match(output('check-applied'), /\[rebootless update applied\]/);
    assert.match(output('undo'), /reversed successfully/);
    assert.match(v.dmesg, /ksplice: Update \w+ applied successfully/);
    assert.deepEqual(v.splats, []);
    assert.equal(v.taint.before, 0);
    assert.notEqual(v.taint.after, 0);
    assert.equal(v.taint.after! & ~TAINT_EXPECTED_FROM_MODULES, 0, describeTaint(v.taint.after!));
    assert.equal(v.taint.unexpected, 0);
    // the facts of the run pass through; step durations come from the launcher's marks
    assert.equal(v.accelerator, r.transcript.accelerator);
    assert.equal(v.kernel, r.transcript.kernel);
    assert.equal(v.kernelConsole, r.transcript.console);
    assert.equal(v.timingsMs.boot, r.transcript.timingsMs.userspace);
    assert.equal(v.timingsMs.total, r.transcript.timingsMs.total);
    assert.equal(v.steps[2].durationMs, r.transcript.timingsMs.stepEnded[2] - r.transcript.timingsMs.stepBegun[2]);
    assert.equal(
      v.timingsMs.steps,
      v.steps.reduce((s, x) => s + x.durationMs!, 0),
    );
    assert.equal(v.scriptExitCode, 0);
    assert.equal(v.scriptOutput, v.steps[0].output);
  });

  test('a failing step fails the run and, without keepGoing, the steps after it are not run (no failure of their own)', async () => {
    const v = await judged('failing-step');
    assert.deepEqual(statuses(v), [
      ['first', 'passed', 0],
      ['check', 'failed', 1],
      ['later', 'not-run', null],
    ]);
    assert.equal(v.steps[1].output, 'checking\n');
    assert.deepEqual(v.failures, ['step check failed (exit 1)']);
    assert.equal(v.ok, false);
  });

  test('keepGoing: the steps after a failure run and are judged; the run still fails', async () => {
    const v = await judged('failing-step-keep-going');
    assert.deepEqual(statuses(v), [
      ['first', 'passed', 0],
      ['check', 'failed', 1],
      ['later', 'passed', 0],
    ]);
    assert.equal(v.steps[2].output, 'later\n');
    assert.deepEqual(v.failures, ['step check failed (exit 1)']);
  });

  test('keepGoing vs stop: a run judged with keepGoing whose later step never began is missing that step', async () => {
    const r = await recorded('failing-step');
    const v = judge(r.transcript, r.steps, { ...r.policy, keepGoing: true });
    assert.deepEqual(v.failures, ['step check failed (exit 1)', 'step later never ran']);
  });

  test('a step killed at its own timeout is timed-out, with its output; the next step runs (keepGoing) and nothing of it survived', async () => {
    const v = await judged('step-timeout');
    assert.deepEqual(statuses(v), [
      ['hang', 'timed-out', 137],
      ['after', 'passed', 0],
    ]);
    assert.match(v.steps[0].output, /about to hang/);
    assert.doesNotMatch(v.steps[0].output, /KSPLICE-/);
    assert.match(v.steps[1].output, /clean/);
    assert.equal(v.timedOut, false);
    assert.deepEqual(v.failures, ['step hang timed-out (exit 137)']);
    assert.ok(v.steps[0].durationMs! >= 3000, `killed after its 3 s: ${v.steps[0].durationMs} ms`);
  });

  test('a WARN then a hang killed at the whole-run timeout: timed out, the step stopped, the WARN caught on the console alone', async () => {
    const v = await judged('warn-then-hang');
    assert.equal(v.timedOut, true);
    assert.deepEqual(statuses(v), [
      ['warn', 'passed', 0],
      ['hang', 'failed', null],
    ]);
    assert.match(v.steps[1].output, /about to hang\n\(the guest stopped during this step\)$/);
    assert.equal(v.steps[1].durationMs, null);
    // no final dmesg and no second taint line: the console is all there is
    assert.equal(v.dmesg, '');
    assert.deepEqual(v.taint, { before: 0, after: null, unexpected: 0 });
    assert.ok(
      v.splats.some((l) => /WARNING: CPU: \d+ PID: \d+ at .*warn\.c:\d+ warn_init/.test(l)),
      v.splats.join('\n'),
    );
    assert.equal(v.failures[0], 'the run was killed after 25 s');
    assert.equal(v.failures[1], 'step hang failed');
    assert.match(v.failures[2], /^\d+ kernel splat line\(s\), first: .*WARNING: CPU:/);
    assert.equal(v.failures.length, 3, 'killed by us: not also "did not finish"');
  });

  test('a WARN in a step that passes: splat (judged once, though on the console and in dmesg) and unexpected taint W', async () => {
    const v = await judged('warn');
    assert.deepEqual(statuses(v), [['script', 'passed', 0]]);
    assert.equal(v.splats.filter((l) => /WARNING: CPU:/.test(l)).length, 1, v.splats.join('\n'));
    assert.match(v.kernelConsole, /WARNING: CPU: \d+ PID: \d+ at .*warn\.c/);
    assert.match(v.dmesg, /WARNING: CPU: \d+ PID: \d+ at .*warn\.c/);
    assert.equal(v.taint.unexpected, 1 << 9);
    assert.equal(v.failures.length, 2);
    assert.match(v.failures[0], /kernel splat line\(s\), first: .*WARNING: CPU:/);
    assert.equal(v.failures[1], 'the kernel gained taint W(9)');
  });

  test("unexpected taint: only bits beyond the allowed ones count, and the allowed ones are the policy's", async () => {
    const warn = await recorded('warn');
    const allowingW = judge(warn.transcript, warn.steps, { allowedTaint: TAINT_EXPECTED_FROM_MODULES | (1 << 9) });
    assert.equal(allowingW.taint.unexpected, 0);
    assert.ok(!allowingW.failures.some((f) => /taint/.test(f)), allowingW.failures.join('; '));
    const update = await recorded('update');
    const strict = judge(update.transcript, update.steps, { allowedTaint: 0 });
    assert.equal(strict.ok, false);
    assert.equal(strict.taint.unexpected, strict.taint.after);
    assert.match(strict.failures.join('\n'), /^the kernel gained taint .*O\(12\) E\(13\)/m);
  });

  test('"Oops" in a step\'s output (ttyS1) is no splat; the same lines on the kernel console (ttyS0) are', async () => {
    const r = await recorded('splat-like-output');
    const v = judge(r.transcript, r.steps, r.policy);
    assert.deepEqual(v.failures, []);
    assert.deepEqual(v.splats, []);
    assert.match(v.steps[0].output, /Oops: 0002 \[#1\]/);
    assert.match(v.steps[0].output, /soft lockup/);
    const fakeLines = v.steps[0].output.split('\n').filter((l) => l !== '');
    const onConsole = judge({ ...r.transcript, console: r.transcript.console + fakeLines.join('\r\n') + '\r\n' }, r.steps, r.policy);
    assert.equal(onConsole.splats.length, fakeLines.length, onConsole.splats.join('\n'));
    assert.match(onConsole.failures.join('\n'), /5 kernel splat line\(s\), first: \[ +1\.000000\] BUG: kernel NULL pointer/);
    // a real console: warn.ko's WARNING, then a panic (sysrq c), each with its registers and trace
    const realConsole = await fixtureLog('console-warn-then-panic-6.1.0-50.txt');
    const real = judge({ ...r.transcript, console: realConsole }, r.steps, r.policy);
    for (const kind of [
      /WARNING: CPU: \d+ PID: \d+ at warn\/warn\.c/,
      /RIP: 0010:warn_init/,
      /Kernel panic - not syncing: sysrq triggered crash/,
      /Call Trace:/,
    ]) {
      assert.ok(
        real.splats.some((l) => kind.test(l)),
        `${kind}:\n${real.splats.join('\n')}`,
      );
    }
    assert.equal(real.ok, false);
  });

  test("a clean boot's whole dmesg as the final dmesg holds no splat", async () => {
    const r = await recorded('update');
    const dmesg = await fixtureLog('dmesg-boot-6.1.0-50.txt');
    const protocol = r.transcript.protocol.replace(
      /KSPLICE-DMESG-BEGIN\r?\n[^]*KSPLICE-DMESG-END/,
      `KSPLICE-DMESG-BEGIN\n${dmesg}\nKSPLICE-DMESG-END`,
    );
    const v = judge({ ...r.transcript, protocol }, r.steps, r.policy);
    assert.match(v.dmesg, /Linux version 6\.1\.0-50-amd64/);
    assert.deepEqual(v.splats, []);
    assert.deepEqual(v.failures, []);
  });

  test('an empty final dmesg (a step cleared the log) fails the run: nothing to judge', async () => {
    const v = await judged('empty-dmesg');
    assert.deepEqual(statuses(v), [['script', 'passed', 0]]);
    assert.equal(v.dmesg.trim(), '');
    assert.deepEqual(v.failures, ['the guest finished without its dmesg: no kernel log to judge']);
  });

  test('a panic mid-step: that step failed (the guest stopped during it), the next not run, the panic a splat; not "timed out"', async () => {
    const v = await judged('panic');
    assert.deepEqual(statuses(v), [
      ['crash', 'failed', null],
      ['never', 'not-run', null],
    ]);
    assert.match(v.steps[0].output, /the guest stopped during this step/);
    assert.equal(v.timedOut, false);
    assert.ok(v.splats.some((l) => /Kernel panic/.test(l)));
    assert.equal(v.failures[0], 'step crash failed');
    assert.match(v.failures[1], /kernel splat line\(s\)/);
    assert.equal(v.failures.length, 2, v.failures.join('; '));
  });
});

describe('verdicts of recorded runs, cut or edited', () => {
  test('a guest that never reached userspace (its protocol port silent, a panic on the console)', async () => {
    const r = await recorded('failing-step');
    const v = judge(
      {
        ...r.transcript,
        protocol: '',
        console: await fixtureLog('console-warn-then-panic-6.1.0-50.txt'),
        timingsMs: { ...r.transcript.timingsMs, userspace: null, stepBegun: {}, stepEnded: {} },
      },
      r.steps,
      r.policy,
    );
    assert.equal(v.booted, false);
    assert.equal(v.failures[0], 'the guest never reached userspace');
    assert.ok(!v.failures.includes('no step ran'), 'not booted says it');
    assert.deepEqual(
      v.steps.map((s) => s.status),
      ['not-run', 'not-run', 'not-run'],
    );
    assert.equal(v.timingsMs.boot, null);
    assert.equal(v.scriptExitCode, null);
  });

  test('no step ran: booted, then the guest stopped before its first step', async () => {
    const r = await recorded('failing-step');
    const v = judge({ ...r.transcript, protocol: cutAfter(r.transcript.protocol, 'KSPLICE-TAINT=') }, r.steps, r.policy);
    assert.equal(v.booted, true);
    assert.deepEqual(v.failures, ['no step ran', 'the guest did not finish its run']);
  });

  test('a step missing: the guest stopped between two steps, or finished without one it was given', async () => {
    const r = await recorded('update');
    const between = judge({ ...r.transcript, protocol: cutAfter(r.transcript.protocol, 'KSPLICE-STEP-END 2 ') }, r.steps, r.policy);
    assert.deepEqual(
      between.steps.map((s) => s.status),
      ['passed', 'passed', 'passed', 'not-run', 'not-run', 'not-run', 'not-run'],
    );
    assert.deepEqual(between.failures, ['the guest did not finish its run']);
    const extra = judge(r.transcript, [...r.steps, { name: 'extra', run: 'true' }], r.policy);
    assert.deepEqual(extra.failures, ['step extra never ran']);
  });

  test('an empty list of splat patterns is refused: nothing would ever count as a splat', async () => {
    const r = await recorded('warn');
    assert.throws(() => judge(r.transcript, r.steps, { splatPatterns: [] }), /no splat patterns/);
  });
});
