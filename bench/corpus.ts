/**
 * Bench: ksplice-create wall time for every corpus patch with a warm cache, then one guest boot
 * proving all the updates that build (apply, view, undo each): boot-to-verdict time, and the time
 * the machine stood still (stop_machine) for each apply, as the engine reports it.
 *
 * Usage: npm run bench -- corpus
 */
import { readdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUpdate } from '../src/create/create.ts';
import { runGuest, type GuestFile, type GuestStep } from '../src/qemu/guest.ts';
import { updateSteps } from '../src/qemu/update-steps.ts';
import { ensureTarget } from '../src/setup/target-kernel.ts';
import type { BenchRow } from './run.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '../../shared/corpus');

/** Every corpus patch, with the printk example the guest can apply (the verbatim one oopses on 6.1). */
async function patches(): Promise<string[]> {
  const fixes = (await readdir(path.join(corpus, '6.1.176-to-6.1.190'))).filter((f) => f.endsWith('.patch')).map((f) => path.join(corpus, '6.1.176-to-6.1.190', f));
  return [path.resolve(here, '../examples/printk-6.1.patch'), path.join(corpus, 'examples/proc_cmdline.patch'), ...fixes.sort()];
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
      let outcome = 'tarball';
      try {
        const update = await createUpdate({ sourceDir: target.sourceDir, patchPath: patch, outputDir: path.join(scratch, name), log: () => {} });
        const proof = updateSteps({ tarball: update.tarball!, stepPrefix: name });
        files.push(...proof.files);
        steps.push(...proof.steps);
        stepPrefix.set(name, update.id);
      } catch (e) {
        outcome = `refused: ${(e as Error).name}`;
      }
      rows.push({ name: `ksplice-create ${name}.patch, warm cache`, value: Date.now() - started, unit: 'ms', note: outcome });
    }
    const verdict = await runGuest({ vmlinuz: target.vmlinuz, files, steps, keepGoing: true, log: () => {} });
    if (!verdict.ok) throw new Error(`the guest proof failed: ${verdict.failures.join('; ')}`);
    rows.push({ name: `QEMU boot to verdict, ${stepPrefix.size} updates applied and undone in one boot`, value: verdict.timingsMs.total, unit: 'ms', note: `${verdict.accelerator}, userspace after ${verdict.timingsMs.boot} ms` });
    for (const name of stepPrefix.keys()) {
      const view = verdict.steps.find((s) => s.name === `${name}-view`)?.output ?? '';
      const stop = /Last stop: (\d+) ns/.exec(view);
      if (stop) rows.push({ name: `machine stopped while applying ${name}`, value: Math.round(Number(stop[1]) / 1000), unit: 'µs', note: verdict.accelerator });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return rows;
}
