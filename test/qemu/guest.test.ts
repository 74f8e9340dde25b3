// The guest runner on Debian's real 6.1.0-50 kernel under QEMU: a check that passes, a check
// that fails, a guest that hangs, and the splat list.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runGuest } from '../../src/qemu/guest.ts';
import { findSplats } from '../../src/qemu/splat-patterns.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';

let target: TargetKernel;
let scratch: string;
before(async () => {
  target = await ensureTarget();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'ksa-guest-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

test('the Debian kernel boots, root reads /proc/kallsyms with KASLR, files arrive, the run passes', async () => {
  const file = path.join(scratch, 'hello.txt');
  await writeFile(file, 'hello from the host\n');
  const verdict = await runGuest({
    vmlinuz: target.vmlinuz,
    files: [{ guestName: 'hello.txt', hostPath: file }],
    script: 'cat hello.txt; uname -r; grep -m1 " T _printk$" /proc/kallsyms',
    timeoutSeconds: 120,
    log: () => {},
  });
  assert.ok(verdict.ok, verdict.serialLog.slice(-2000));
  assert.match(verdict.scriptOutput, /hello from the host/);
  assert.match(verdict.scriptOutput, /6\.1\.0-50-amd64/);
  const kallsyms = /^([0-9a-f]{16}) T _printk/m.exec(verdict.scriptOutput);
  assert.ok(kallsyms, 'root sees real addresses');
  assert.notEqual(kallsyms[1], '0000000000000000');
  assert.match(verdict.dmesg, /Linux version 6\.1\.0-50-amd64/);
  assert.equal(verdict.accelerator, 'tcg');
});

test('a failing guest check is reported as failed, with its exit status', async () => {
  const verdict = await runGuest({ vmlinuz: target.vmlinuz, script: 'echo checking; test -e /no/such/file', timeoutSeconds: 120, log: () => {} });
  assert.equal(verdict.booted, true);
  assert.equal(verdict.scriptExitCode, 1);
  assert.equal(verdict.ok, false);
});

test('a hanging guest is killed at the timeout and reported', async () => {
  const started = Date.now();
  const verdict = await runGuest({ vmlinuz: target.vmlinuz, script: 'echo about to hang; sleep 1000', timeoutSeconds: 25, log: () => {} });
  assert.equal(verdict.timedOut, true);
  assert.equal(verdict.ok, false);
  assert.equal(verdict.scriptExitCode, null);
  assert.ok(Date.now() - started < 40_000);
});

test('splat patterns catch real splat lines and pass boot advice', () => {
  assert.deepEqual(findSplats('[ 1.0] RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable\n[ 2.0] ok'), []);
  assert.equal(findSplats('[ 3.1] WARNING: CPU: 1 PID: 77 at kmod/x.c:12 f+0x1/0x2\n').length, 1);
  assert.equal(findSplats('[ 3.1] BUG: kernel NULL pointer dereference, address: 0000000000000000\n').length, 1);
  assert.throws(() => findSplats('x', []), /no splat patterns/);
});
