/**
 * The one exit-code table of every command-line tool (ksplice-create, ksplice-diff, ksplice-qemu,
 * ksplice-setup) and of the Action's bundled tools (`node dist/index.js create ...`). DESIGN's fixed
 * interface: 0 an update built or analysed, 66 "No changes detected", 2 the patch cannot be applied
 * safely without custom code, 1 any other error. Added here: 3 a guest run that failed its proof,
 * 64 a usage error (EX_USAGE of sysexits.h), 130/143 interrupted by SIGINT/SIGTERM (128 + signal).
 *
 * README's "Exit codes" table is this table (test/util/cli.test.ts compares them); each tool's
 * --help lists the rows that tool can give (src/util/cli.ts). The outcomes of a create or a diff
 * map through OUTCOME_EXIT_CODES.
 *
 * Usage: process.exit(OUTCOME_EXIT_CODES[outcome.outcome])   (src/create/outcome.ts: exitCodeOf)
 *        return verdict.ok ? EXIT.ok : EXIT.guestFailed;   throw new UsageError(...)  → EXIT.usage
 */

/** Every exit code, by name. */
export const EXIT = {
  ok: 0,
  error: 1,
  unsafe: 2,
  guestFailed: 3,
  usage: 64,
  noChanges: 66,
  sigint: 130,
  sigterm: 143,
} as const;

export type ExitName = keyof typeof EXIT;

/** What each code means, in the words of README's table and of --help. */
export const EXIT_MEANINGS: Record<ExitName, string> = {
  ok: 'success: an update built or analysed, a guest proof passed, a target ready; --help',
  error: 'any other error: a file missing or malformed, a patch that does not apply, a failed tool (reason on stderr)',
  unsafe: 'the patch cannot be applied safely without custom code (the findings and their rule printed)',
  guestFailed: 'the guest run failed: a step failed or timed out, a kernel splat, unexpected taint, no boot',
  usage: 'usage error: unknown option, missing or conflicting arguments (one line on stderr, then the usage)',
  noChanges: '"No changes detected": the patch changes no shipped code',
  sigint: 'interrupted by SIGINT (Ctrl-C); a kernel tree being patched is restored first',
  sigterm: 'interrupted by SIGTERM; a kernel tree being patched is restored first',
};

/** The exit codes of the outcomes of a create (or a diff). */
export const OUTCOME_EXIT_CODES = {
  built: EXIT.ok,
  analyzed: EXIT.ok,
  'no-changes': EXIT.noChanges,
  unsafe: EXIT.unsafe,
} as const;

/** What a create (or a diff) came to: `built` with a tarball, `analyzed` without (--analyze-only, ksplice-diff). */
export type OutcomeKind = keyof typeof OUTCOME_EXIT_CODES;

/** Bad input, a failed tool or any other error. */
export const EXIT_ERROR = EXIT.error;

/** The rows of the table in code order: [code, name, meaning]. */
export function exitCodeTable(names: readonly ExitName[] = Object.keys(EXIT) as ExitName[]): [number, ExitName, string][] {
  return names.map((n) => [EXIT[n], n, EXIT_MEANINGS[n]] as [number, ExitName, string]).sort((a, b) => a[0] - b[0]);
}
