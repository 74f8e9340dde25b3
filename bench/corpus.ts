/**
 * Bench: ksplice-create wall time for every corpus patch with a warm cache, then one guest boot
 * proving all the updates that build (apply, view, undo each): boot-to-verdict time, and the time
 * the machine stood still (stop_machine) for each apply, as the engine reports it. Each create
 * also reports the peak memory of the whole job: this process plus make, gcc, objtool and the
 * rest of its children, summed and sampled every 100 ms. The corpus's verbatim printk.patch is
 * built and timed but not applied (it passes a NULL va_list, which oopses on 6.1).
 *
 * Usage: npm run bench -- corpus
 */
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUpdate } from '../src/create/create.ts';
import { runGuest, type GuestFile, type GuestStep } from '../src/qemu/guest.ts';
import { updateSteps } from '../src/qemu/update-steps.ts';
import { ensureTarget } from '../src/setup/target-kernel.ts';
import type { BenchRow } from './run.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '../corpus');

/** Every corpus patch, with the printk example the guest can apply (the verbatim one oopses on 6.1). */
async function patches(): Promise<string[]> {
  const fixes = (await readdir(path.join(corpus, '6.1.176-to-6.1.190')))
    .filter((f) => f.endsWith('.patch'))
    .map((f) => path.join(corpus, '6.1.176-to-6.1.190', f));
  return [
    path.join(corpus, 'examples/printk.patch'),
    path.resolve(here, '../examples/printk-6.1.patch'),
    path.join(corpus, 'examples/proc_cmdline.patch'),
    ...fixes.sort(),
  ];
}

/** Built, never applied: the verbatim article patch oopses on 6.1 (examples/README.md). */
const BUILD_ONLY = new Set(['printk']);

/** Resident memory (kB) of `root` and every process below it, now. */
async function treeRssKb(root: number): Promise<number> {
  const parentOf = new Map<number, number>();
  const rssOf = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const ppid = /^PPid:\s+(\d+)/m.exec(status);
    if (!ppid) continue;
    parentOf.set(Number(entry), Number(ppid[1]));
    rssOf.set(Number(entry), Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0));
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parentOf.get(p), hops++)
      if (p === root) return true;
    return false;
  };
  let total = 0;
  for (const [pid, rss] of rssOf) if (inTree(pid)) total += rss;
  return total;
}

/** Samples treeRssKb(this process) until stopped; returns the peak in MiB. */
function peakMemorySampler(): () => Promise<number> {
  let peak = 0;
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(async () => {
      peak = Math.max(peak, await treeRssKb(process.pid));
    });
  }, 100);
  return async () => {
    clearInterval(timer);
    await sampling;
    return Math.round(peak / 1024);
  };
}

export default async function corpusBench(): Promise<BenchRow[]> {
  const target = await ensureTarget();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'ksa-bench-corpus-'));
  const rows: BenchRow[] = [];
  try {
    const files: GuestFile[] = [];
    const steps: GuestStep[] = [];
    const stepPrefix = new Map<string, string>();
    for (const patch of await patches()) {
      const name = path.basename(patch, '.patch');
      const started = Date.now();
      const stopSampling = peakMemorySampler();
      let outcome = 'tarball';
      try {
        const update = await createUpdate({
          sourceDir: target.sourceDir,
          patchPath: patch,
          outputDir: path.join(scratch, name),
          log: () => {},
        });
        if (update.outcome !== 'built') {
          outcome = `refused: ${update.outcome}${update.unsafe.length ? ` (${[...new Set(update.unsafe.map((f) => f.rule))].join(', ')})` : ''}`;
        } else if (BUILD_ONLY.has(name)) {
          outcome = 'tarball, built only';
        } else {
          const proof = updateSteps({ tarball: update.tarball, stepPrefix: name });
          files.push(...proof.files);
          steps.push(...proof.steps);
          stepPrefix.set(name, update.id);
        }
      } catch (e) {
        outcome = `failed: ${(e as Error).name}`;
      }
      const elapsed = Date.now() - started;
      const peakMiB = await stopSampling();
      rows.push({ name: `ksplice-create ${name}.patch, warm cache`, value: elapsed, unit: 'ms', note: outcome });
      rows.push({
        name: `peak memory of ksplice-create ${name}.patch (this process + its children)`,
        value: peakMiB,
        unit: 'MiB',
        note: 'sampled every 100 ms',
      });
    }
    const verdict = await runGuest({ vmlinuz: target.vmlinuz, files, steps, keepGoing: true, log: () => {} });
    if (!verdict.ok) throw new Error(`the guest proof failed: ${verdict.failures.join('; ')}`);
    rows.push({
      name: `QEMU boot to verdict, ${stepPrefix.size} updates applied and undone in one boot`,
      value: verdict.timingsMs.total,
      unit: 'ms',
      note: `${verdict.accelerator}, userspace after ${verdict.timingsMs.boot} ms`,
    });
    for (const name of stepPrefix.keys()) {
      const view = verdict.steps.find((s) => s.name === `${name}-view`)?.output ?? '';
      const stop = /Last stop: (\d+) ns/.exec(view);
      if (stop)
        rows.push({
          name: `machine stopped while applying ${name}`,
          value: Math.round(Number(stop[1]) / 1000),
          unit: 'µs',
          note: verdict.accelerator,
        });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return rows;
}
