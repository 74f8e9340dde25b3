/**
 * Kernel log lines that fail a guest run: the one list every guest check uses.
 *
 * "WARNING: CPU:" rather than "WARNING:": boot advice such as "RETBleed: WARNING: ..." is not a
 * splat. The harness refuses to run with an empty list, so a broken import cannot turn every
 * guest run green.
 */
export const SPLAT_PATTERNS: readonly RegExp[] = [
  /\bBUG: /,
  /WARNING: CPU: /,
  /\bOops\b/,
  /Kernel panic/,
  /general protection fault/,
  /kernel BUG at/,
  /Call Trace:/,
  /\bRIP: [0-9a-f]{4}:/,
  /soft lockup/,
  /hard LOCKUP/,
  /rcu: INFO: rcu_.* stall/,
  /Unpatched return thunk/,
  /UBSAN:/,
  /KASAN:/,
];

/** Lines of `log` matching a splat pattern. */
export function findSplats(log: string, patterns: readonly RegExp[] = SPLAT_PATTERNS): string[] {
  if (patterns.length === 0) throw new Error('no splat patterns: refusing to judge a guest log');
  return log.split('\n').filter((line) => patterns.some((p) => p.test(line)));
}
