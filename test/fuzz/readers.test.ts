// Fuzzing the two readers that take outside input: the ELF reader (objects from a build, or from
// an update tarball) and the update-tarball reader (what an admin downloads). Real inputs — a
// Debian kernel object and a real update made by ksplice-create's packer — mutated with a seeded
// PRNG (test/helpers/mutate.ts). Every input must parse or be refused with the reader's own error
// (ElfFormatError / TarballError) and a message: no RangeError, TypeError or other crash, no
// hang. A few seconds each here; `npm run bench -- fuzz` runs longer.
//
// Run: bash scripts/test.sh test/fuzz/readers.test.ts
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { test } from 'node:test';
import { readElf } from '../../src/elf/reader.ts';
import { ElfFormatError } from '../../src/elf/types.ts';
import { TarballError } from '../../src/package/tar.ts';
import { readUpdateTarball } from '../../src/package/update-tarball.ts';
import { elfHotFields, fuzz, realKernelObject, sampleUpdateTarball, tarHotFields, type HotField } from '../helpers/fuzz.ts';

const ELF_ITERATIONS = 1500;
const TARBALL_ITERATIONS = 400;

test('the ELF reader parses or refuses every mutant of a real kernel object, with its own error', async () => {
  const object = await realKernelObject();
  assert.ok(readElf(object).sections.length > 10, 'the original parses');
  const parsed = fuzz('readElf', object, elfHotFields(object), ELF_ITERATIONS, 1, (b) => readElf(b), (e) => e instanceof ElfFormatError);
  assert.ok(parsed > 0 && parsed < ELF_ITERATIONS, `some mutants parse, some are refused (${parsed}/${ELF_ITERATIONS} parsed)`);
});

test('the update-tarball reader refuses every damaged tarball with its own error, and any mutant it takes is intact', async () => {
  const gz = sampleUpdateTarball(await realKernelObject());
  assert.equal(readUpdateTarball(gz).manifest.id, 'fuzz0001');
  // gzip header fields and the trailer (CRC32, size) are the hot spots of the compressed stream
  const hot: HotField[] = [{ offset: 3, size: 1 }, { offset: 4, size: 4 }, { offset: gz.length - 8, size: 4 }, { offset: gz.length - 4, size: 4 }];
  const original = readUpdateTarball(gz);
  fuzz('readUpdateTarball', gz, hot, TARBALL_ITERATIONS, 2, (b) => {
    const { manifest, files } = readUpdateTarball(b);
    // checksums are verified on read: whatever is accepted is the original content
    assert.deepEqual(manifest, original.manifest);
    assert.deepEqual(files.map((f) => [f.path, f.data.length]), original.files.map((f) => [f.path, f.data.length]));
  }, (e) => e instanceof TarballError);
  // and the tar stream itself, under a valid gzip wrapper: headers, sizes, names, types
  const tar = gunzipSync(gz);
  fuzz('readUpdateTarball (tar)', tar, tarHotFields(tar), TARBALL_ITERATIONS, 3, (b) => {
    const { manifest } = readUpdateTarball(gzipSync(b));
    assert.deepEqual(manifest, original.manifest);
  }, (e) => e instanceof TarballError);
});
