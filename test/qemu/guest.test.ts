// The guest harness (src/qemu/guest.ts) on Debian's real 6.1.0-50 kernel under QEMU, for what only
// a real guest proves: a module built against Debian's headers loads, a static program built with
// the host gcc runs, root reads /proc/kallsyms (KASLR), files arrive and the serial log is kept; a
// step that hangs is killed at its own timeout with everything it started, and the run goes on; a
// WARN followed by a hang is streamed on the kernel console before the whole-run timeout kills
// QEMU; a step that prints splat-like text is no splat (the two serial ports really are apart); a
// kernel panic ends the run at once; kernel text rewritten under running readers does not leave a
// vCPU on stale code (TCG_THREAD_DEFAULT). Every verdict rule (failing steps, keepGoing, taint,
// empty final dmesg, missing steps, ...) is tested without booting on recorded transcripts in
// judge.test.ts; QEMU's arguments in qemu-args.test.ts; the splat list line by line in
// splat-patterns.test.ts.
//
// Run: flock /tmp/ksa-guest.lock bash scripts/test.sh test/qemu/guest.test.ts   (about 2.5 min under TCG)
import assert from 'node:assert/strict';
import { readFile, rm, writeFile, copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeTaint, kvmUsable, runGuest, TAINT_EXPECTED_FROM_MODULES } from '../../src/qemu/guest.ts';
import { buildExternalModule } from '../../src/kbuild/external-module.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { run } from '../../src/util/exec.ts';
import { REPO as repo, scratchDir } from '../helpers/paths.ts';

const quiet = () => {};
let target: TargetKernel;
let scratch: string;

async function testModule(name: string): Promise<string> {
  const dir = path.join(scratch, name);
  await mkdir(dir, { recursive: true });
  await copyFile(path.join(repo, 'test/fixtures/qemu', `${name}.c`), path.join(dir, `${name}.c`));
  return buildExternalModule({ dir, moduleName: name, parts: [`${name}.o`], headersDir: target.headersDir });
}

before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('guest');
});
after(() => rm(scratch, { recursive: true, force: true }));

describe('guest runs on the Debian kernel', () => {
  test("a module built against Debian's headers loads; root reads kallsyms with KASLR; files arrive; the serial log is kept", async () => {
    const hello = await testModule('hello');
    const program = path.join(scratch, 'static-hello');
    await run('gcc-12', ['-static', '-O2', '-o', program, path.join(repo, 'test/fixtures/qemu/static-hello.c')]);
    const serialLogPath = path.join(scratch, 'serial.log');
    const verdict = await runGuest({
      vmlinuz: target.vmlinuz,
      files: [
        { guestName: 'hello.ko', hostPath: hello },
        { guestName: 'note.txt', content: 'hello from the host\n' },
        { guestName: 'tool.sh', content: 'echo tool ran\n', mode: 0o755 },
        { guestName: 'static-hello', hostPath: program, executable: true },
      ],
      steps: [
        { name: 'files', run: 'cat note.txt && test -x tool.sh && ! test -x note.txt && tool.sh && ./static-hello' },
        {
          name: 'module',
          run: 'insmod hello.ko && dmesg | grep "ksplice-qemu hello: loaded" && rmmod hello && dmesg | grep "ksplice-qemu hello: unloaded"',
        },
        { name: 'kallsyms', run: 'uname -r; grep -m1 " T _printk$" /proc/kallsyms' },
      ],
      serialLogPath,
      log: quiet,
    });
    assert.ok(verdict.ok, `${verdict.failures.join('; ')}\n${verdict.serialLog.slice(-2000)}`);
    assert.deepEqual(
      verdict.steps.map((s) => [s.name, s.status]),
      [
        ['files', 'passed'],
        ['module', 'passed'],
        ['kallsyms', 'passed'],
      ],
    );
    assert.match(verdict.steps[0].output, /hello from the host\ntool ran\nstatic program ran as uid 0/);
    const kallsyms = /^([0-9a-f]{16}) T _printk/m.exec(verdict.steps[2].output);
    assert.ok(kallsyms, 'root sees _printk in kallsyms');
    assert.notEqual(kallsyms[1], '0000000000000000', 'root sees real addresses');
    assert.match(verdict.steps[2].output, /6\.1\.0-50-amd64/);
    // loading an out-of-tree, unsigned module taints O and E only: expected, so the run passes
    assert.equal(verdict.taint.before, 0);
    assert.equal(verdict.taint.after, (1 << 12) | (1 << 13));
    assert.equal(verdict.taint.unexpected, 0);
    assert.equal(verdict.accelerator, (await kvmUsable()) ? 'kvm' : 'tcg');
    assert.ok(verdict.timingsMs.boot! > 0 && verdict.timingsMs.boot! < verdict.timingsMs.total);
    const kept = await readFile(serialLogPath, 'utf8');
    assert.match(kept, /Linux version 6\.1\.0-50-amd64/);
    assert.match(kept, /KSPLICE-DMESG-END/);
  });

  test('a step that hangs is killed at its own timeout, with what it started, and the run goes on', async () => {
    const started = Date.now();
    const verdict = await runGuest({
      vmlinuz: target.vmlinuz,
      steps: [
        { name: 'hang', run: 'sleep 1000 & echo about to hang; sleep 1000', timeoutSeconds: 3 },
        { name: 'after', run: 'if pidof sleep; then echo a sleep survived; exit 1; fi; echo clean' },
      ],
      keepGoing: true,
      log: quiet,
    });
    assert.equal(verdict.timedOut, false);
    assert.deepEqual(
      verdict.steps.map((s) => s.status),
      ['timed-out', 'passed'],
    );
    assert.match(verdict.steps[0].output, /about to hang/);
    assert.match(verdict.steps[1].output, /^clean\n$/, 'pidof ran and found no sleep');
    assert.equal(verdict.ok, false);
    assert.ok(Date.now() - started < 60_000);
  });

  test('a WARNING and then a hang past the whole-run timeout: killed, reported timed out and with the WARNING splat', async () => {
    const warn = await testModule('warn');
    const started = Date.now();
    const verdict = await runGuest({
      vmlinuz: target.vmlinuz,
      files: [{ guestName: 'warn.ko', hostPath: warn }],
      steps: [
        { name: 'warn', run: 'insmod warn.ko' },
        { name: 'hang', run: 'echo about to hang; sleep 1000' },
      ],
      timeoutSeconds: 25,
      log: quiet,
    });
    assert.equal(verdict.timedOut, true);
    assert.equal(verdict.ok, false);
    assert.deepEqual(
      verdict.steps.map((s) => s.status),
      ['passed', 'failed'],
    );
    assert.match(verdict.steps[1].output, /about to hang\n\(the guest stopped during this step\)/);
    // killed before the final dmesg and taint: the kernel console had the WARN as it happened
    assert.equal(verdict.dmesg, '');
    assert.equal(verdict.taint.after, null);
    assert.match(verdict.kernelConsole, /------------\[ cut here \]------------\r?\n.*WARNING: CPU: \d+ PID: \d+ at .*warn\.c/);
    assert.ok(
      verdict.splats.some((l) => /WARNING: CPU: \d+ PID: \d+ at .*warn\.c:\d+ warn_init/.test(l)),
      verdict.splats.join('\n'),
    );
    assert.match(verdict.failures.join('\n'), /killed after 25 s/);
    assert.match(verdict.failures.join('\n'), /kernel splat line\(s\), first: .*WARNING: CPU:/);
    assert.ok(Date.now() - started < 40_000);
  });

  test("a step that prints splat-like text passes: only the kernel's own lines are judged", async () => {
    const fake = [
      '[    1.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000',
      'Oops: 0002 [#1] PREEMPT SMP NOPTI',
      'WARNING: CPU: 0 PID: 1 at fake.c:1 fake+0x0/0x1',
      'Kernel panic - not syncing: not really',
    ];
    const verdict = await runGuest({
      vmlinuz: target.vmlinuz,
      files: [{ guestName: 'fake.txt', content: fake.join('\n') + '\n' }],
      steps: [{ name: 'print', run: 'cat fake.txt; echo "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sh:1]" >&2' }],
      log: quiet,
    });
    assert.ok(verdict.ok, verdict.failures.join('; '));
    assert.deepEqual(verdict.splats, []);
    for (const line of fake) assert.ok(verdict.steps[0].output.includes(line), line);
    assert.match(verdict.steps[0].output, /soft lockup/);
    assert.match(verdict.serialLog, /not really/, 'the kept log has the step output too');
    assert.match(verdict.dmesg, /Linux version 6\.1\.0-50-amd64/);
  });

  test('kernel text patched under running readers (ftrace on/off 150 times) runs to its end: TCG does not run stale code', async () => {
    const script = path.join(repo, 'test/fixtures/qemu/ftrace-toggle-under-readers.sh');
    const verdict = await runGuest({
      vmlinuz: target.vmlinuz,
      files: [{ guestName: 'toggle.sh', hostPath: script }],
      steps: [{ name: 'toggle', run: 'sh ./toggle.sh 150', timeoutSeconds: 400 }],
      log: quiet,
    });
    assert.deepEqual(verdict.failures, [], verdict.serialLog.slice(-3000));
    const m = /toggles: (\d+), reads: (\d+) (\d+)/.exec(verdict.steps[0].output);
    assert.ok(m, verdict.steps[0].output);
    assert.equal(m[1], '150');
    assert.ok(Number(m[2]) > 0 && Number(m[3]) > 0, 'both readers ran all along');
  });

  test('a kernel that dies ends the run at once (panic, -no-reboot), reported in the step that killed it', async () => {
    const started = Date.now();
    const verdict = await runGuest({
      vmlinuz: target.vmlinuz,
      steps: [
        { name: 'crash', run: 'echo c > /proc/sysrq-trigger', timeoutSeconds: 200 },
        { name: 'never', run: 'true' },
      ],
      log: quiet,
    });
    assert.ok(Date.now() - started < 60_000, 'not waited out to the timeout');
    assert.equal(verdict.ok, false);
    assert.equal(verdict.timedOut, false);
    assert.deepEqual(
      verdict.steps.map((s) => s.status),
      ['failed', 'not-run'],
    );
    assert.match(verdict.steps[0].output, /the guest stopped during this step/);
    assert.ok(verdict.splats.some((l) => /Kernel panic/.test(l)));
  });
});

describe('harness rules', () => {
  test("taint bits are named as the kernel names them; our modules' bits are the expected ones", () => {
    assert.equal(describeTaint(TAINT_EXPECTED_FROM_MODULES), 'O(12) E(13) K(15)');
    assert.equal(describeTaint((1 << 9) | (1 << 7)), 'D(7) W(9)');
    assert.equal(describeTaint(0), 'none');
  });

  test('a run with nothing to check, a bad step name or a bad file is refused before booting', async () => {
    await assert.rejects(runGuest({ vmlinuz: target.vmlinuz, log: quiet }), /no steps to run/);
    await assert.rejects(runGuest({ vmlinuz: target.vmlinuz, steps: [{ name: 'two words', run: 'true' }], log: quiet }), /must be a word/);
    await assert.rejects(
      runGuest({
        vmlinuz: target.vmlinuz,
        steps: [
          { name: 'a', run: 'true' },
          { name: 'a', run: 'true' },
        ],
        log: quiet,
      }),
      /two steps named 'a'/,
    );
    await assert.rejects(
      runGuest({ vmlinuz: target.vmlinuz, script: 'true', files: [{ guestName: '../x', content: '' }], log: quiet }),
      /plain name/,
    );
    const file = path.join(scratch, 'both');
    await writeFile(file, '');
    await assert.rejects(
      runGuest({ vmlinuz: target.vmlinuz, script: 'true', files: [{ guestName: 'x', content: '', hostPath: file }], log: quiet }),
      /one of them/,
    );
    await assert.rejects(runGuest({ vmlinuz: target.vmlinuz, script: 'true', splatPatterns: [], log: quiet }), /no splat patterns/);
  });
});
