/**
 * Bench: longer fuzz runs of the ELF reader and the update-tarball reader than the test suite
 * makes (test/fuzz/readers.test.ts): mutants per second, and the proof that none crashed (a
 * crash throws here, naming the seed and iteration to replay).
 *
 * Usage: npm run bench -- fuzz        (KSPLICE_FUZZ_ITERATIONS, default 5000 per reader)
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { readElf } from '../src/elf/reader.ts';
import { ElfFormatError } from '../src/elf/types.ts';
import { TarballError } from '../src/package/tar.ts';
import { readUpdateTarball } from '../src/package/update-tarball.ts';
import { elfHotFields, fuzz, realKernelObject, sampleUpdateTarball, tarHotFields } from '../test/helpers/fuzz.ts';
import type { BenchRow } from './run.ts';

export default async function fuzzBench(): Promise<BenchRow[]> {
  const iterations = Number(process.env.KSPLICE_FUZZ_ITERATIONS ?? 5000);
  const object = await realKernelObject();
  const tar = gunzipSync(sampleUpdateTarball(object));
  const rows: BenchRow[] = [];
  const arms: [string, () => number][] = [
    ['readElf (fs/proc/cmdline.o)', () => fuzz('readElf', object, elfHotFields(object), iterations, 101, (b) => readElf(b), (e) => e instanceof ElfFormatError)],
    ['readUpdateTarball (tar stream)', () => fuzz('readUpdateTarball', tar, tarHotFields(tar), iterations, 102, (b) => readUpdateTarball(gzipSync(b)), (e) => e instanceof TarballError)],
  ];
  for (const [name, arm] of arms) {
    const started = Date.now();
    const parsed = arm();
    const seconds = (Date.now() - started) / 1000;
    rows.push({ name: `fuzz ${name}: ${iterations} mutants, 0 crashes`, value: Math.round(iterations / seconds), unit: 'mutants/s', note: `${parsed} parsed, the rest refused with the reader's own error` });
  }
  return rows;
}
