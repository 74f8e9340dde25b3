/**
 * `npm run bench`: speed and memory figures, kept out of the tests (which assert behaviour, not
 * time). Each bench/*.ts module other than this one exports `default async (): Promise<BenchRow[]>`;
 * this runner calls them in turn, prints one table and writes bench/results.json with the date
 * and the machine. Rows of benches not run this time are kept from the previous results.json,
 * each with the date it was measured; so are rows marked `rare` (a figure measured once, like the
 * real full build) until their bench measures a row of the same name again.
 *
 * Usage: npm run bench [-- NAME ...]     (NAME: a bench file without .ts, e.g. setup)
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** The goal, in the same unit, when the project has one (e.g. parse under 1000 ms). */
  target?: number;
  note?: string;
  /** Measured only on request (e.g. a 23-minute build): kept by later runs that do not measure it. */
  rare?: boolean;
}

type StoredRow = BenchRow & { bench: string; date: string };

/** The rows of the last results.json, each dated (older files dated the whole run once). */
async function previousRows(file: string): Promise<StoredRow[]> {
  try {
    const old = JSON.parse(await readFile(file, 'utf8')) as { date: string; rows: (BenchRow & { bench: string; date?: string })[] };
    return old.rows.map((r) => ({ ...r, date: r.date ?? old.date }));
  } catch {
    return [];
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = (await readdir(here)).filter((f) => f.endsWith('.ts') && f !== 'run.ts').sort();
  const date = new Date().toISOString();
  const rows: StoredRow[] = [];
  const ran = new Set<string>();
  for (const file of files) {
    const bench = file.replace(/\.ts$/, '');
    if (only.length > 0 && !only.includes(bench)) continue;
    process.stderr.write(`[bench] ${bench}\n`);
    const mod = (await import(path.join(here, file))) as { default?: () => Promise<BenchRow[]> };
    if (typeof mod.default !== 'function') continue;
    ran.add(bench);
    for (const row of await mod.default()) rows.push({ bench, ...row, date });
  }
  const resultsFile = path.join(here, 'results.json');
  const measured = new Set(rows.map((r) => `${r.bench}\0${r.name}`));
  const kept = (await previousRows(resultsFile)).filter(
    (r) => !ran.has(r.bench) || (r.rare === true && !measured.has(`${r.bench}\0${r.name}`)),
  );
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  const result = { date, machine, rows: [...kept, ...rows] };
  await writeFile(resultsFile, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(
    `bench results, ${date}, ${machine}${kept.length ? ` (${kept.length} row(s) of other benches kept from earlier runs in results.json)` : ''}\n`,
  );
  process.stdout.write(`| bench | measure | value | target |\n|---|---|---|---|\n`);
  for (const r of rows) {
    const verdict = r.target === undefined ? '' : `${r.value <= r.target ? 'met' : 'MISSED'} (${r.target} ${r.unit})`;
    process.stdout.write(`| ${r.bench} | ${r.name}${r.note ? ` (${r.note})` : ''} | ${r.value} ${r.unit} | ${verdict} |\n`);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
