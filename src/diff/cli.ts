/**
 * `ksplice-diff PRE.o POST.o [--json]`: the object differ alone.
 *
 * Prints which functions differ between an object built before and after a patch. Exit 0 whether
 * or not anything changed; 1 on an error (unreadable or malformed object, bad usage).
 * `--json` prints one object: { changed, new, removed, unsafe: [{ symbol, reason }] }.
 */
import { readFile } from 'node:fs/promises';
import { readElf } from '../elf/reader.ts';
import { diffObjects, summarize, type DiffResult } from './diff.ts';

const usage = 'usage: ksplice-diff PRE.o POST.o [--json]';

function humanReport(result: DiffResult): string {
  const lines: string[] = [];
  for (const g of result.changed) {
    lines.push(`changed: ${g.name}`);
    for (const p of g.parts) if (p.status !== 'unchanged') lines.push(`  ${p.name} (${p.section.name}): ${p.status}${p.reason ? `, ${p.reason}` : ''}`);
  }
  for (const g of result.new) lines.push(`new: ${g.name}`);
  for (const name of result.removed) lines.push(`removed: ${name}`);
  for (const u of [...result.unsafe, ...result.exportChanges]) lines.push(`unsafe: ${u.symbol}: ${u.reason}`);
  for (const n of result.notes) lines.push(`note: ${n}`);
  if (lines.length === 0) lines.push('No changes detected');
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const files = argv.filter((a) => a !== '--json');
  if (files.length !== 2 || files.some((f) => f.startsWith('-'))) {
    process.stderr.write(`${usage}\n`);
    return 1;
  }
  const [pre, post] = await Promise.all(files.map(async (f) => readElf(await readFile(f))));
  const result = diffObjects(pre!, post!);
  const summary = summarize(result);
  summary.unsafe.push(...result.exportChanges);
  process.stdout.write(json ? JSON.stringify(summary) + '\n' : humanReport(result));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`ksplice-diff: ${e.message}\n`);
    process.exit(1);
  },
);
