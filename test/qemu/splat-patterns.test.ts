// The splat list (src/qemu/splat-patterns.ts) against real kernel lines, without booting: every
// pattern catches the 6.1 message it is for (lines as Debian's 6.1.0-50 prints them: captured from
// the guest where a guest can make them, else the format strings of the 6.1.176 source filled in),
// boot advice and a whole clean boot's dmesg pass, and an empty or missing list is refused.
// kernelLogLines (src/qemu/judge.ts) judges kernel lines once each, never a step's output.
//
// Run: bash scripts/test.sh test/qemu/splat-patterns.test.ts   (under a second, no QEMU)
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { kernelLogLines } from '../../src/qemu/judge.ts';
import { findSplats, SPLAT_PATTERNS } from '../../src/qemu/splat-patterns.ts';
import { fixture } from '../helpers/paths.ts';

const fixtures = fixture('qemu');

/** A captured log without the fixture's own "# " header. */
async function capturedLog(name: string): Promise<string> {
  return (await readFile(path.join(fixtures, name), 'latin1'))
    .split('\n')
    .filter((l) => !l.startsWith('# '))
    .join('\n');
}

/** Splat lines of 6.1 kernels, each as the kernel prints it on the console. */
const SPLATS: Record<string, string> = {
  warn: '[    2.424671] WARNING: CPU: 1 PID: 94 at warn/warn.c:13 warn_init+0x5/0x1000 [warn]',
  nullDeref: '[   12.345678] BUG: kernel NULL pointer dereference, address: 0000000000000008',
  pageFault: '[   12.345678] BUG: unable to handle page fault for address: ffffffffc0700000',
  sleeping: '[    3.210000] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580',
  oops: '[   12.346012] Oops: 0002 [#1] PREEMPT SMP NOPTI',
  gpf: '[   40.101010] general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI',
  bugAt: '[    7.000001] kernel BUG at mm/slub.c:435!',
  panic: '[    2.490086] Kernel panic - not syncing: sysrq triggered crash',
  panicEnd: '[    2.491000] ---[ end Kernel panic - not syncing: Fatal exception ]---',
  callTrace: '[    2.435631] Call Trace:',
  rip: '[    2.426632] RIP: 0010:warn_init+0x5/0x1000 [warn]',
  softLockup: '[   48.123456] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sh:98]',
  hardLockup: '[   60.000000] NMI watchdog: Watchdog detected hard LOCKUP on cpu 1',
  rcuSelf: '[   81.234567] rcu: INFO: rcu_sched self-detected stall on CPU',
  rcuPreempt: '[   81.234567] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:',
  rcuExpedited: '[   81.234567] rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21002 jiffies s: 485 root: 0x1/.',
  rcuTasks: '[  600.000000] rcu: INFO: rcu_tasks detected stalls on tasks:',
  hungTask: '[  242.881234] INFO: task sh:101 blocked for more than 120 seconds.',
  returnThunk: '[    0.912345] Unpatched return thunk in use. This should not happen!',
  ubsan: '[    5.555555] UBSAN: array-index-out-of-bounds in net/ipv4/arp.c:1234:17',
  kasan: '[    9.999999] BUG: KASAN: slab-out-of-bounds in arp_ioctl+0x2f/0x380',
};

/** Lines the kernel prints on a healthy boot or run that look alarming and are not splats. */
const NOT_SPLATS = [
  '[    0.051234] RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, data leaks possible!',
  '[    0.051300] RETBleed: WARNING: BTB untrained return thunk mitigation is only effective on AMD/Hygon!',
  '[    0.051400] Spectre V2 : WARNING: Unprivileged eBPF is enabled with eIBRS on, data leaks possible via Spectre v2 BHB attacks!',
  '[    0.051500] active return thunk: retbleed_return_thunk',
  '[    0.051600] [Firmware Bug]: TSC_DEADLINE disabled due to Errata; please update microcode to version: 0x3a (or later)',
  '[    0.943658] PCI: Using host bridge windows from ACPI; if necessary, use "pci=nocrs" and report a bug',
  '[    0.000000] rcu: Preemptible hierarchical RCU implementation.',
  '[    0.000000] rcu: RCU calculated value of scheduler-enlistment delay is 25 jiffies.',
  '[    0.312000] NMI watchdog: Perf NMI watchdog permanently disabled',
  '[    2.103820] warn: module verification failed: signature and/or required key missing - tainting kernel',
  '[    2.424113] ------------[ cut here ]------------',
  '[    5.100000] ksplice: Update cmdline1 applied successfully',
];

describe('splat patterns on 6.1 kernel lines', () => {
  for (const [name, line] of Object.entries(SPLATS)) {
    test(`${name}: ${line.slice(15, 75)}`, () => {
      assert.deepEqual(findSplats(`[    1.000000] ok before\n${line}\n[    1.000001] ok after\n`), [line]);
    });
  }

  test('every pattern in the list is exercised by one of those lines (a new pattern needs its real line here)', () => {
    for (const pattern of SPLAT_PATTERNS)
      assert.ok(
        Object.values(SPLATS).some((l) => pattern.test(l)),
        `no sample line for ${pattern}`,
      );
  });

  test('boot advice and ordinary messages are no splats', () => {
    for (const line of NOT_SPLATS) assert.deepEqual(findSplats(line), [], line);
  });

  test('the whole dmesg of a clean Debian 6.1.0-50 boot in the guest has no splat', async () => {
    const dmesg = await capturedLog('dmesg-boot-6.1.0-50.txt');
    assert.ok(dmesg.split('\n').length > 300 && /Linux version 6\.1\.0-50-amd64/.test(dmesg), 'the fixture is a whole boot log');
    assert.deepEqual(findSplats(dmesg), []);
  });

  test('a captured WARN_ON(1) then sysrq panic: exactly its WARNING, register, trace and panic lines', async () => {
    const console = await capturedLog('console-warn-then-panic-6.1.0-50.txt');
    const found = findSplats(console).map((l) => l.replace(/^\[\s*[\d.]+\] /, ''));
    assert.deepEqual(found, [
      'WARNING: CPU: 1 PID: 94 at warn/warn.c:13 warn_init+0x5/0x1000 [warn]',
      'RIP: 0010:warn_init+0x5/0x1000 [warn]',
      'Call Trace:',
      'RIP: 0033:0x47fbe9',
      'Kernel panic - not syncing: sysrq triggered crash',
      'Call Trace:',
      'RIP: 0033:0x47b7a0',
    ]);
  });
});

describe('the list is required', () => {
  test('an empty or missing list is refused, not taken as "no splat"', () => {
    assert.ok(SPLAT_PATTERNS.length >= 10);
    assert.throws(() => findSplats('[ 1.0] Kernel panic - not syncing: x', []), /no splat patterns/);
    assert.throws(() => findSplats('x', null as unknown as RegExp[]), /no splat patterns/);
  });
});

describe('kernel lines only', () => {
  test('console and dmesg lines are judged once each; \\r and blank lines dropped', () => {
    const dmesg = '[    1.0] boot\r\n[    2.0] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x1\r\n';
    const console = '[    2.0] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x1\r\n\r\n[    3.0] Kernel panic - not syncing: after the dump\r\n';
    assert.deepEqual(kernelLogLines(console, dmesg), [
      '[    1.0] boot',
      '[    2.0] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0/0x1',
      '[    3.0] Kernel panic - not syncing: after the dump',
    ]);
    assert.equal(findSplats(kernelLogLines(console, dmesg).join('\n')).length, 2);
  });

  test('with no dmesg (a guest killed or dead before its end) the console alone is judged', () => {
    assert.deepEqual(findSplats(kernelLogLines(`${SPLATS.rcuSelf}\r\n${SPLATS.softLockup}\r\n`, '').join('\n')), [
      SPLATS.rcuSelf,
      SPLATS.softLockup,
    ]);
  });
});
