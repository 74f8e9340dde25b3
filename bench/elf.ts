/**
 * Bench: the ELF toolkit and the differ. Parsing (and writing) an object with 66,000 sections;
 * reading and diffing every object a one-file kernel patch produces (the article's printk patch:
 * kernel/printk/printk.o, the largest of the corpus objects); extracting the changed function.
 * Times are the median of five runs after one warm-up.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { doubleBuild } from '../src/create/double-build.ts';
import { diffObjects, shippedFunctions } from '../src/diff/diff.ts';
import { extractFunctions } from '../src/diff/extract.ts';
import { readElf } from '../src/elf/reader.ts';
import { writeElf } from '../src/elf/writer.ts';
import { ensureTarget } from '../src/setup/target-kernel.ts';
import { assembleManySections, scratchDir } from '../test/fixtures/elf/build.ts';
import type { BenchRow } from './run.ts';

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../corpus');

function median(work: () => unknown, runs = 5): number {
  work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    work();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(runs / 2)]! * 10) / 10;
}

export default async function bench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const scratch = await scratchDir('bench-elf');
  try {
    const many = await readFile(await assembleManySections(scratch, 33000));
    const sections = readElf(many).sections.length + 4;
    rows.push({
      name: `readElf, ${sections} sections (${(many.length / 2 ** 20).toFixed(1)} MiB)`,
      value: median(() => readElf(many)),
      unit: 'ms',
      target: 1000,
    });
    const parsed = readElf(many);
    rows.push({ name: `writeElf, ${sections} sections`, value: median(() => writeElf(parsed)), unit: 'ms' });

    const target = await ensureTarget();
    const build = await doubleBuild({
      tree: target.sourceDir,
      patchPath: path.join(corpus, 'examples/printk.patch'),
      outDir: path.join(scratch, 'printk'),
      log: () => {},
    });
    const pairs = await Promise.all(
      build.objects.map(async (o) => [await readFile(path.join(build.preDir, o)), await readFile(path.join(build.postDir, o))] as const),
    );
    const diffAll = () => pairs.map(([pre, post]) => diffObjects(readElf(pre), readElf(post)));
    rows.push({
      name: `read + diff all objects of printk.patch (${build.objects.join(', ')})`,
      value: median(diffAll),
      unit: 'ms',
      target: 1000,
    });
    const [result] = diffAll();
    rows.push({
      name: 'extractFunctions + writeElf of the changed functions (printk.o)',
      value: median(() => writeElf(extractFunctions(result!.post, shippedFunctions(result!)))),
      unit: 'ms',
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return rows;
}
