/**
 * Worker body for test/fuzz/fuzz-in-worker.ts: runs one in-process fuzz arm (test/helpers/fuzz.ts)
 * on the input it is given and posts a heartbeat before every mutant, so the main thread can
 * tell a hang from a slow run and name the iteration that hung. Not a test file; loaded by the
 * runner only.
 */
import assert from 'node:assert/strict';
import { parentPort, workerData } from 'node:worker_threads';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readElf } from '../../src/elf/reader.ts';
import { ElfFormatError } from '../../src/elf/types.ts';
import { TarballError } from '../../src/package/tar.ts';
import { readUpdateTarball } from '../../src/package/update-tarball.ts';
import { elfHotFields, fuzz, sampleUpdateTarball, tarHotFields, type HotField } from '../helpers/fuzz.ts';
import type { FuzzArm, WorkerReport } from './fuzz-in-worker.ts';

const { arm, input, iterations, seed } = workerData as { arm: FuzzArm; input: Uint8Array; iterations: number; seed: number };
const post = (m: WorkerReport) => parentPort!.postMessage(m);

interface Arm {
  input: Buffer;
  hot: HotField[];
  parse: (b: Buffer) => void;
  ownError: (e: unknown) => boolean;
}

/** The arms, by name; `input` is the real kernel object for the reader arms. */
function armOf(name: FuzzArm, given: Buffer): Arm {
  if (name === 'readElf')
    return { input: given, hot: elfHotFields(given), parse: (b) => void readElf(b), ownError: (e) => e instanceof ElfFormatError };
  if (name === 'spin-at-5') {
    // the guard's own test: a "reader" that never returns on its sixth input
    let n = 0;
    return {
      input: given,
      hot: [],
      parse: () => {
        if (n++ === 5) for (;;);
      },
      ownError: () => true,
    };
  }
  const gz = sampleUpdateTarball(given);
  const original = readUpdateTarball(gz);
  const isOwn = (e: unknown) => e instanceof TarballError;
  if (name === 'readUpdateTarball-gz') {
    // gzip header fields and the trailer (CRC32, size) are the hot spots of the compressed stream
    const hot: HotField[] = [
      { offset: 3, size: 1 },
      { offset: 4, size: 4 },
      { offset: gz.length - 8, size: 4 },
      { offset: gz.length - 4, size: 4 },
    ];
    return {
      input: gz,
      hot,
      ownError: isOwn,
      parse: (b) => {
        const { manifest, files } = readUpdateTarball(b);
        // checksums are verified on read: whatever is accepted is the original content
        assert.deepEqual(manifest, original.manifest);
        assert.deepEqual(
          files.map((f) => [f.path, f.data.length]),
          original.files.map((f) => [f.path, f.data.length]),
        );
      },
    };
  }
  // the tar stream itself, under a valid gzip wrapper: headers, sizes, names, types
  const tar = gunzipSync(gz);
  return {
    input: tar,
    hot: tarHotFields(tar),
    ownError: isOwn,
    parse: (b) => assert.deepEqual(readUpdateTarball(gzipSync(b)).manifest, original.manifest),
  };
}

try {
  const a = armOf(arm, Buffer.from(input));
  let i = 0;
  const parsed = fuzz(
    arm,
    a.input,
    a.hot,
    iterations,
    seed,
    (b) => {
      post({ kind: 'begin', iteration: i++ });
      a.parse(b);
    },
    a.ownError,
  );
  post({ kind: 'done', parsed });
} catch (e) {
  post({ kind: 'error', message: (e as Error).message });
}
