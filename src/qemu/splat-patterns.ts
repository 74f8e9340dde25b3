/**
 * Kernel log lines that fail a guest run: the one list every guest check uses.
 *
 * Usage: `findSplats(kernelLogLines(kernelConsole, dmesg).join('\n'))` (judge.ts) → matching lines.
 * Give it kernel lines only: step output is no kernel log, and a check that prints "Oops" is fine.
 *
 * Each pattern names the 6.1 message it is for (test/qemu/splat-patterns.test.ts has real lines of
 * each, and the boot lines that must pass). "WARNING: CPU:" rather than "WARNING:": boot advice
 * such as "RETBleed: WARNING: ..." is not a splat. An empty or missing list is refused (findSplats
 * throws, and runGuest before booting), so a broken import cannot turn every guest run green.
 */
export const SPLAT_PATTERNS: readonly RegExp[] = [
  // "BUG: kernel NULL pointer dereference, address: ...", "BUG: unable to handle page fault ...",
  // "BUG: scheduling while atomic: ...", "BUG: KASAN: ...", "watchdog: BUG: soft lockup - ..."
  /\bBUG: /,
  // __warn(): "WARNING: CPU: 1 PID: 77 at <file>:<line> <function>"
  /WARNING: CPU: /,
  // __die_header(): "Oops: 0002 [#1] PREEMPT SMP NOPTI"
  /\bOops\b/,
  // panic(): "Kernel panic - not syncing: ..."
  /Kernel panic/,
  // "general protection fault, probably for non-canonical address 0x...: 0000 [#1] ..."
  /general protection fault/,
  // BUG() / BUG_ON(): "kernel BUG at mm/slub.c:123!"
  /kernel BUG at/,
  // any stack dump: an oops, a WARN, a lockup, an RCU stall, dump_stack()
  /Call Trace:/,
  // the register dump of the same: "RIP: 0010:warn_init+0x5/0x1000 [warn]"
  /\bRIP: [0-9a-f]{4}:/,
  // watchdog: "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sh:123]"
  /soft lockup/,
  // watchdog_hld.c: "NMI watchdog: Watchdog detected hard LOCKUP on cpu 1"
  /hard LOCKUP/,
  // "rcu: INFO: rcu_preempt self-detected stall on CPU", "... detected stalls on CPUs/tasks:",
  // "... detected expedited stalls ...", "rcu: INFO: rcu_tasks detected stalls on tasks:"
  /rcu: INFO: rcu_.* stall/,
  // hung_task.c: "INFO: task sh:123 blocked for more than 120 seconds."
  /INFO: task .* blocked for more than \d+ seconds/,
  // __warn_thunk() of kernels that have it (6.1.176 has not): a return site left unpatched,
  // "Unpatched return thunk in use. This should not happen!"
  /Unpatched return thunk/,
  // "UBSAN: array-index-out-of-bounds in net/x.c:12:3" (kernels built with UBSAN)
  /UBSAN:/,
  // "BUG: KASAN: slab-out-of-bounds in f+0x1/0x2" (kernels built with KASAN)
  /KASAN:/,
];

/** Lines of `log` matching a splat pattern. */
export function findSplats(log: string, patterns: readonly RegExp[] = SPLAT_PATTERNS): string[] {
  if (!Array.isArray(patterns) || patterns.length === 0) throw new Error('no splat patterns: refusing to judge a guest log');
  return log.split('\n').filter((line) => patterns.some((p) => p.test(line)));
}
