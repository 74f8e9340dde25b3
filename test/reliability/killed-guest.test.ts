// A guest killed halfway through an apply, then booted again, two ways:
//  - from inside: the machine resets (sysrq 'b', an immediate reboot with no sync) once the update
//    module is loaded, while ksplice-apply is switching;
//  - from the host: QEMU itself is SIGKILLed while ksplice-apply waits in the update's pre_apply
//    hook (test/reliability/slow_pre_apply_hooks.c sleeps 5 s there).
// Each killed run must really have been killed mid-apply (the update's stage still "loaded" just
// before, no "applied successfully" ever printed) and show no kernel splat up to the kill; the
// next boot is clean — no splat, the same update applies, works and undoes. Nothing of an update
// survives a reboot: the engine keeps its state in memory only.
//
// Run: bash scripts/test.sh test/reliability/killed-guest.test.ts   (about 2-3 min under TCG)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { runGuest, type GuestVerdict } from '../../src/qemu/guest.ts';
import { findSplats } from '../../src/qemu/splat-patterns.ts';
import { updateSteps } from '../../src/qemu/update-steps.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { createTestUpdate } from '../helpers/test-updates.ts';
import { fixture, REPO as repo } from '../helpers/paths.ts';

const out = path.join(repo, '.tmp/killed-guest');
const check = fixture('qemu/check-cmdline.sh');

let target: TargetKernel;

before(async () => {
  target = await ensureTarget();
});

/**
 * Shell text: start ksplice-apply, wait until the core has the update's sysfs entry, and log its
 * stage with `marker` through /dev/kmsg at KERN_CRIT: the kernel prints that on its console
 * before the write returns, so the line reaches the host even when the machine resets at once
 * (a step's own output, on the other port, was seen lost to an immediate reset).
 */
function applyUntilLoaded(tarball: string, id: string, marker: string): string {
  const stage = `/sys/kernel/ksplice/${id}/stage`;
  return `ksplice-apply ./${path.basename(tarball)} & while [ ! -e ${stage} ]; do :; done; echo "<2>${marker} $(cat ${stage})" > /dev/kmsg`;
}

/** The killed run was killed mid-apply and clean up to the kill. */
function assertKilledMidApply(killed: GuestVerdict, marker: string): void {
  assert.equal(killed.booted, true);
  assert.equal(killed.timedOut, false, 'the kill ended the run, not the timeout');
  assert.equal(killed.steps[1].status, 'failed');
  assert.match(killed.steps[1].output, /the guest stopped during this step/);
  assert.match(killed.serialLog, new RegExp(`${marker} loaded\\r?\\n`), 'the update was loaded, not yet applied, just before the kill');
  assert.doesNotMatch(killed.serialLog, /applied successfully/, 'the apply never finished before the kill');
  assert.deepEqual(killed.splats, []);
  assert.deepEqual(findSplats(killed.serialLog), [], 'no splat up to the kill');
}

/** Then a clean boot: the same update applies, works, is seen, undoes. */
async function assertCleanBootApplies(tarball: string): Promise<void> {
  const proof = updateSteps({ tarball, check });
  const again = await runGuest({ vmlinuz: target.vmlinuz, files: proof.files, steps: proof.steps, log: () => {} });
  assert.ok(again.ok, again.failures.join('; '));
  assert.deepEqual(again.splats, []);
  assert.match(again.steps.find((s) => s.name === 'check-applied')!.output, /\[rebootless update applied\]/);
  assert.match(again.steps.find((s) => s.name === 'undo')!.output, /reversed successfully/);
}

test('a guest reset in the middle of ksplice-apply boots clean, and the update applies there', async () => {
  const update = await createTestUpdate(target, {
    id: 'killed',
    patch: path.join(repo, 'corpus/examples/proc_cmdline.patch'),
    outputDir: out,
  });
  const proof = updateSteps({ tarball: update.tarball, check });
  const tools = proof.steps.find((s) => s.name === 'tools')!;
  const killed = await runGuest({
    vmlinuz: target.vmlinuz,
    files: proof.files,
    log: () => {},
    steps: [
      tools,
      {
        name: 'apply-and-reset',
        // reset while the apply runs: after the update module is loaded, before or during the switch
        run: `${applyUntilLoaded(update.tarball, 'killed', 'KSPLICE-RESET-AT-STAGE')}; echo b > /proc/sysrq-trigger; sleep 30`,
        timeoutSeconds: 120,
      },
    ],
  });
  assertKilledMidApply(killed, 'KSPLICE-RESET-AT-STAGE');
  assert.match(killed.serialLog, /sysrq: Resetting/);
  await assertCleanBootApplies(update.tarball);
});

/** The qemu-system-x86_64 this process started (runGuest spawns it directly), by pid; null before it runs. */
async function ourQemuPid(): Promise<number | null> {
  const { stdout } = await promisify(execFile)('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]);
  const line = stdout.split('\n').find((l) => /qemu-system/.test(l));
  return line ? Number(line.trim().split(/\s+/)[0]) : null;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for our QEMU to start, watches the live serial log (removed beforehand: the last run's
 * has the marker too) for `marker`, then SIGKILLs that QEMU; resolves with the ms from marker
 * seen to kill.
 */
async function killQemuOnMarker(serialLogPath: string, marker: string, giveUpMs: number): Promise<number> {
  const until = Date.now() + giveUpMs;
  let pid: number | null = null;
  while (Date.now() < until && pid === null) {
    pid = await ourQemuPid();
    if (pid === null) await pause(100);
  }
  while (Date.now() < until) {
    const text = await readFile(serialLogPath, 'latin1').catch(() => '');
    if (text.includes(marker)) {
      const seen = Date.now();
      process.kill(pid!, 'SIGKILL');
      return Date.now() - seen;
    }
    await pause(20);
  }
  throw new Error(`${marker} never appeared in ${serialLogPath}`);
}

test('QEMU killed by the host in the middle of ksplice-apply: the next boot is clean, and the update applies and undoes', async () => {
  const update = await createTestUpdate(target, {
    id: 'hostkill',
    patch: path.join(repo, 'corpus/examples/proc_cmdline.patch'),
    hooks: path.join(repo, 'test/reliability/slow_pre_apply_hooks.c'),
    outputDir: out,
  });
  const proof = updateSteps({ tarball: update.tarball, check });
  const tools = proof.steps.find((s) => s.name === 'tools')!;
  const serialLogPath = path.join(out, 'hostkill-serial.log');
  await rm(serialLogPath, { force: true });
  const marker = 'KSPLICE-HOST-KILL-AT-STAGE';
  const [killed, killMs] = await Promise.all([
    runGuest({
      vmlinuz: target.vmlinuz,
      files: proof.files,
      log: () => {},
      serialLogPath,
      // the apply waits 5 s in pre_apply: the kill comes well inside it
      steps: [tools, { name: 'apply-and-wait', run: `${applyUntilLoaded(update.tarball, 'hostkill', marker)}; wait`, timeoutSeconds: 120 }],
    }),
    killQemuOnMarker(serialLogPath, marker, 300_000),
  ]);
  assert.ok(killMs < 2000, `killed ${killMs} ms after the marker, well inside the 5 s pre_apply`);
  assertKilledMidApply(killed, marker);
  assert.doesNotMatch(killed.serialLog, /sysrq: Resetting|reboot: Power down/, 'killed from outside, not stopped from inside');
  await assertCleanBootApplies(update.tarball);
});
