/**
 * Bench: longer fuzz runs than the test suite makes, of the ELF reader and the update-tarball
 * reader (test/fuzz/readers.test.ts, each in a worker with a hang watchdog) and of the target's
 * own reader, kmod/tools/ksplice-apply under busybox (test/fuzz/ksplice-apply.test.ts): mutants
 * per second, and the proof that none crashed or hung (a failure throws here, naming the seed and
 * iteration to replay).
 *
 * Usage: npm run bench -- fuzz
 *   KSPLICE_FUZZ_ITERATIONS        mutants per in-process reader (default 5000)
 *   KSPLICE_APPLY_FUZZ_ITERATIONS  mutants per ksplice-apply arm (default 500; about 0.1 s each;
 *                                  two arms under dash with the stand-ins, one under busybox sh)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { realKernelObject } from '../test/helpers/fuzz.ts';
import { fuzzInWorker, type FuzzArm } from '../test/fuzz/fuzz-in-worker.ts';
import { fuzzKspliceApply, prepareApplyFuzz } from '../test/fuzz/ksplice-apply-fuzz.ts';
import type { BenchRow } from './run.ts';

async function readerRows(iterations: number): Promise<BenchRow[]> {
  const object = await realKernelObject();
  const rows: BenchRow[] = [];
  const arms: [string, FuzzArm, number][] = [
    ['readElf (fs/proc/cmdline.o)', 'readElf', 101],
    ['readUpdateTarball (tar stream)', 'readUpdateTarball-tar', 102],
    ['readUpdateTarball (compressed file)', 'readUpdateTarball-gz', 103],
  ];
  for (const [name, arm, seed] of arms) {
    const started = Date.now();
    const parsed = await fuzzInWorker(arm, object, iterations, seed);
    const seconds = (Date.now() - started) / 1000;
    rows.push({
      name: `fuzz ${name}: ${iterations} mutants, 0 crashes, 0 hangs`,
      value: Math.round(iterations / seconds),
      unit: 'mutants/s',
      note: `${parsed} parsed, the rest refused with the reader's own error`,
    });
  }
  return rows;
}

async function applyRows(iterations: number): Promise<BenchRow[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ksplice-apply-fuzz-bench-'));
  try {
    const f = await prepareApplyFuzz(dir);
    const rows: BenchRow[] = [];
    for (const [arm, seed, shell] of [
      ['gz', 201, 'dash'],
      ['tar', 202, 'dash'],
      ['tar', 203, 'busybox'],
    ] as const) {
      const started = Date.now();
      const s = await fuzzKspliceApply(f, arm, iterations, seed, shell);
      const seconds = (Date.now() - started) / 1000;
      rows.push({
        name: `fuzz ksplice-apply (${shell === 'dash' ? 'dash, busybox applets' : 'busybox sh'}, ${arm === 'gz' ? 'compressed file' : 'tar stream'}): ${iterations} mutants, 0 crashes, 0 hangs`,
        value: Math.round((iterations / seconds) * 10) / 10,
        unit: 'mutants/s',
        note: `${s.refused} refused before any insmod, ${s.intact} intact (${shell === 'dash' ? 'original module reached the stand-in insmod' : 'refused for the release'}); slowest run ${s.maxMs} ms`,
      });
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export default async function fuzzBench(): Promise<BenchRow[]> {
  const rows = await readerRows(Number(process.env.KSPLICE_FUZZ_ITERATIONS ?? 5000));
  rows.push(...(await applyRows(Number(process.env.KSPLICE_APPLY_FUZZ_ITERATIONS ?? 500))));
  return rows;
}
