/**
 * ksplice-diff's option table: it parses the arguments (src/diff/cli.ts, through runCli) and makes
 * `ksplice-diff --help` (src/util/cli.ts). Data only, so tests read it without running the tool.
 */
import { defineCli } from '../util/cli.ts';

export const DIFF_CLI = defineCli({
  name: 'ksplice-diff',
  summary: 'the object differ alone: which functions differ between PRE.o and POST.o, and whether the change is safe',
  usage: ['PRE.o POST.o [--json]'],
  positionals: true,
  options: {
    json: {
      type: 'boolean',
      default: false,
      description: 'print one JSON object: { changed, new, removed, unsafe: [{ rule, symbol, reason, acceptable }] }',
    },
  },
  notes: [
    'Without --json: one line per changed, new or removed function and per finding (`unsafe (RULE): SYMBOL: REASON`), or "No changes detected".',
  ],
  exitCodes: ['ok', 'error', 'unsafe', 'usage'],
});
