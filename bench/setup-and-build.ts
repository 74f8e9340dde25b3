/**
 * Bench: the target cache hit, the targeted double build of the article's printk patch with a
 * warm cache, and the update tarball's write/read throughput.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUpdate } from '../src/create/create.ts';
import { doubleBuild } from '../src/create/double-build.ts';
import { readUpdateTarball, writeUpdateTarball } from '../src/package/update-tarball.ts';
import { ensureTarget } from '../src/setup/target-kernel.ts';
import type { BenchRow } from './run.ts';

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../corpus');

async function timed<T>(work: () => Promise<T> | T): Promise<[T, number]> {
  const started = process.hrtime.bigint();
  const result = await work();
  return [result, Number(process.hrtime.bigint() - started) / 1e6];
}

export default async function bench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  await ensureTarget();
  const [target, hitMs] = await timed(() => ensureTarget());
  rows.push({ name: 'ensureTarget() with a warm cache', value: Math.round(hitMs), unit: 'ms', target: 1000 });

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'ksa-bench-'));
  try {
    const patchPath = path.join(corpus, 'examples/printk.patch');
    const [, buildMs] = await timed(() => doubleBuild({ tree: target.sourceDir, patchPath, outDir: scratch, log: () => {} }));
    rows.push({ name: 'double build of printk.patch (pre + post printk.o)', value: Math.round(buildMs), unit: 'ms' });

    const examplePatch = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../examples/printk-6.1.patch');
    const [update, createMs] = await timed(() =>
      createUpdate({ sourceDir: target.sourceDir, patchPath: examplePatch, outputDir: scratch, log: () => {} }),
    );
    rows.push({
      name: 'ksplice-create printk-6.1.patch, warm cache (tarball written)',
      value: Math.round(createMs),
      unit: 'ms',
      note: `update ${update.id}; the cold baseline, a full make -j2 vmlinux, is bench/full-build.ts`,
    });

    const payload = Array.from({ length: 40 }, (_, i) => ({ path: `objects/pre/f${i}.o`, data: Buffer.alloc(250_000, i) }));
    const fields = {
      id: 'benchxyz',
      kernelRelease: target.release,
      sourceVersion: target.sourceVersion,
      toolchain: { cc: 'gcc', as: 0, ld: 0 },
      description: '',
      patch: 'x.patch',
      coreModule: 'ksplice.ko',
      updateModule: 'ksplice_benchxyz.ko',
      changed: [],
      new: [],
    };
    const [gz, writeMs] = await timed(() => writeUpdateTarball(fields, payload));
    const [, readMs] = await timed(() => readUpdateTarball(gz));
    rows.push({ name: 'tarball write, 10 MB of objects', value: Math.round(writeMs), unit: 'ms' });
    rows.push({ name: 'tarball read + verify, 10 MB of objects', value: Math.round(readMs), unit: 'ms' });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  rows.push({ name: 'peak RSS of the bench process', value: Math.round(process.resourceUsage().maxRSS / 1024), unit: 'MiB' });
  return rows;
}
