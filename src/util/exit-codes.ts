/**
 * The exit codes of the outcomes the command-line tools report, as one table (DESIGN's fixed
 * interface): 0 an update built or analysed, 66 "No changes detected", 2 the patch cannot be
 * applied safely without custom code. Any other error exits 1; an interrupt 128 + the signal.
 *
 * Usage: process.exit(OUTCOME_EXIT_CODES[outcome.outcome])   (src/create/outcome.ts: exitCodeOf)
 */
export const OUTCOME_EXIT_CODES = {
  built: 0,
  analyzed: 0,
  'no-changes': 66,
  unsafe: 2,
} as const;

/** What a create (or a diff) came to: `built` with a tarball, `analyzed` without (--analyze-only, ksplice-diff). */
export type OutcomeKind = keyof typeof OUTCOME_EXIT_CODES;

/** Bad input, a failed tool or any other error. */
export const EXIT_ERROR = 1;
