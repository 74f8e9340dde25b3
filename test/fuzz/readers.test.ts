// Fuzzing the two readers that take outside input: the ELF reader (objects from a build, or from
// an update tarball) and the update-tarball reader (what an admin downloads). Real inputs — a
// Debian kernel object and a real update made by ksplice-create's packer — mutated with a seeded
// PRNG (test/helpers/fuzz.ts). Every input must parse or be refused with the reader's own error
// (ElfFormatError / TarballError) and a message: no RangeError, TypeError or other crash, no
// hang. Each arm runs in a worker thread with a watchdog (test/fuzz/fuzz-in-worker.ts), so an
// endless loop on one mutant fails the test, naming it, instead of hanging the run; the last test
// shows the watchdog does fire. A few seconds each here; `npm run bench -- fuzz` runs longer.
// The target's own reader, kmod/tools/ksplice-apply, is fuzzed in ksplice-apply.test.ts.
//
// Run: bash scripts/test.sh test/fuzz/readers.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readElf } from '../../src/elf/reader.ts';
import { readUpdateTarball } from '../../src/package/update-tarball.ts';
import { realKernelObject, sampleUpdateTarball } from '../helpers/fuzz.ts';
import { fuzzInWorker } from './fuzz-in-worker.ts';

const ELF_ITERATIONS = 1500;
const TARBALL_ITERATIONS = 400;

test('the ELF reader parses or refuses every mutant of a real kernel object, with its own error', async () => {
  const object = await realKernelObject();
  assert.ok(readElf(object).sections.length > 10, 'the original parses');
  const parsed = await fuzzInWorker('readElf', object, ELF_ITERATIONS, 1);
  assert.ok(parsed > 0 && parsed < ELF_ITERATIONS, `some mutants parse, some are refused (${parsed}/${ELF_ITERATIONS} parsed)`);
});

test('the update-tarball reader refuses every damaged tarball with its own error, and any mutant it takes is intact', async () => {
  const object = await realKernelObject();
  assert.equal(readUpdateTarball(sampleUpdateTarball(object)).manifest.id, 'fuzz0001');
  // the compressed file (gzip header, deflate stream, trailer), then the tar stream under a valid gzip wrapper
  const parsedGz = await fuzzInWorker('readUpdateTarball-gz', object, TARBALL_ITERATIONS, 2);
  const parsedTar = await fuzzInWorker('readUpdateTarball-tar', object, TARBALL_ITERATIONS, 3);
  assert.ok(
    parsedGz < TARBALL_ITERATIONS && parsedTar < TARBALL_ITERATIONS,
    `most are refused (${parsedGz}, ${parsedTar} of ${TARBALL_ITERATIONS} taken)`,
  );
});

test('the watchdog fails a reader that never returns, naming the iteration, instead of hanging', async () => {
  const started = Date.now();
  await assert.rejects(
    fuzzInWorker('spin-at-5', Buffer.alloc(64), 10, 9, 1500),
    /spin-at-5: seed 9, iteration 5: no answer in 1500 ms \(a hang\)/,
  );
  assert.ok(Date.now() - started < 15_000, 'terminated promptly');
});
