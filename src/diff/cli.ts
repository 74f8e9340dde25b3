/**
 * `ksplice-diff PRE.o POST.o [--json]`: the object differ alone (options: cli-spec.ts, --help).
 *
 * Prints which functions differ between an object built before and after a patch. Exit codes
 * from the one table (src/util/exit-codes.ts): 2 when a finding says the change is unsafe without
 * custom code (as ksplice-create), 0 otherwise, changed or not; 1 on an error (unreadable or
 * malformed object); 64 bad usage.
 * `--json` prints one object: { changed, new, removed, unsafe: [{ rule, symbol, reason, acceptable }] }
 * (rule: a code of src/diff/findings.ts).
 */
import { readFile } from 'node:fs/promises';
import { readElf } from '../elf/reader.ts';
import { runCli, UsageError } from '../util/cli.ts';
import { OUTCOME_EXIT_CODES } from '../util/exit-codes.ts';
import { DIFF_CLI } from './cli-spec.ts';
import { diffObjects, summarize, type DiffResult } from './diff.ts';

function humanReport(result: DiffResult): string {
  const lines: string[] = [];
  for (const g of result.changed) {
    lines.push(`changed: ${g.name}`);
    for (const p of g.parts)
      if (p.status !== 'unchanged') lines.push(`  ${p.name} (${p.section.name}): ${p.status}${p.reason ? `, ${p.reason}` : ''}`);
  }
  for (const g of result.new) lines.push(`new: ${g.name}`);
  for (const name of result.removed) lines.push(`removed: ${name}`);
  for (const u of [...result.unsafe, ...result.exportChanges]) lines.push(`unsafe (${u.rule}): ${u.symbol}: ${u.reason}`);
  for (const n of result.notes) lines.push(`note: ${n}`);
  if (lines.length === 0) lines.push('No changes detected');
  return lines.join('\n') + '\n';
}

runCli(DIFF_CLI, async ({ values, positionals: files }) => {
  if (files.length !== 2) throw new UsageError(`expected two objects, PRE.o and POST.o, got ${files.length}`);
  const [pre, post] = await Promise.all(files.map(async (f) => readElf(await readFile(f))));
  const result = diffObjects(pre!, post!);
  const summary = summarize(result);
  process.stdout.write(values.json ? JSON.stringify(summary) + '\n' : humanReport(result));
  return OUTCOME_EXIT_CODES[summary.unsafe.length > 0 ? 'unsafe' : 'analyzed'];
});
