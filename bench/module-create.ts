/**
 * Bench: ksplice-create wall time for a fix of a loadable module next to a fix of vmlinux, on a
 * warm cache (prepared tree, core module built): each patch is created once to warm up, then
 * timed over the given number of runs (median). The vmlinux fix is the baseline measured in the
 * same run; the module fixes are a single-file module (sch_multiq) and one object of a composite
 * module (ext4's namei.o, 30 changed functions, 341 references into ext4). The update-module step
 * of each is reported apart, since that is where module code differs (references into the module).
 *
 * Usage: npm run bench -- module-create     (KSPLICE_BENCH_RUNS=N, default 3)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUpdate } from '../src/create/create.ts';
import { ensureTarget } from '../src/setup/target-kernel.ts';
import type { BenchRow } from './run.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '../corpus');

const CASES = [
  { name: 'vmlinux fix net_ipv4_arp (baseline)', patch: path.join(corpus, '6.1.176-to-6.1.190/net_ipv4_arp.patch') },
  { name: 'module fix sch_multiq (one-file module)', patch: path.join(corpus, 'modules-6.1.176-to-6.1.190/net_sched_sch_multiq.patch') },
  { name: 'module fix ext4 namei.o (composite module)', patch: path.join(corpus, 'modules-6.1.176-to-6.1.190/fs_ext4_namei.patch') },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export default async function bench(): Promise<BenchRow[]> {
  const target = await ensureTarget();
  const runs = Number(process.env.KSPLICE_BENCH_RUNS ?? 3);
  const out = await mkdtemp(path.join(os.tmpdir(), 'ksplice-bench-module-'));
  const rows: BenchRow[] = [];
  try {
    for (const c of CASES) {
      const once = async () => {
        const started = Date.now();
        const r = await createUpdate({ sourceDir: target.sourceDir, patchPath: c.patch, outputDir: out, log: () => {} });
        if (r.outcome !== 'built') throw new Error(`${c.name}: ${r.outcome}`);
        return { total: Date.now() - started, module: r.timingsMs['update module'] ?? 0 };
      };
      await once(); // warm-up: objects of the pristine tree, core module
      const timings = [];
      for (let i = 0; i < runs; i++) {
        timings.push(await once());
        process.stderr.write(`[bench] ${c.name}: run ${i + 1}/${runs}: ${(timings.at(-1)!.total / 1000).toFixed(1)} s\n`);
      }
      rows.push(
        { name: `create, ${c.name}`, value: median(timings.map((t) => t.total)), unit: 'ms', note: `median of ${runs}, warm cache` },
        { name: `update-module step, ${c.name}`, value: median(timings.map((t) => t.module)), unit: 'ms' },
      );
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  return rows;
}
