// Fuzzing ksplice-apply, the reader of update tarballs on the target (test/fuzz/ksplice-apply-fuzz.ts):
// seeded mutants of a small package made by the real packer for the host's release, each run by
// dash over busybox's tar/sed/sha256sum with stand-in insmod/rmmod. Every mutant ends in exit 1
// with the tool's own message, within its timeout, with no module loaded (or the original module,
// byte for byte, when the damage was in bytes the format ignores), nothing left behind and
// nothing written outside. The untouched package is run first: it does reach insmod, so the
// "no insmod" check can fail. A smaller run goes under busybox sh, the shell of the guest. `npm run bench -- fuzz` runs more mutants.
//
// Run: bash scripts/test.sh test/fuzz/ksplice-apply.test.ts   (about a minute)
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { applyOnce, fuzzKspliceApply, prepareApplyFuzz, type ApplyFuzz } from './ksplice-apply-fuzz.ts';
import { scratchDir } from '../helpers/paths.ts';

/** Per arm; about 0.1-0.3 s a run on 2 cores. */
const ITERATIONS = 80;
/** Under busybox sh (the guest's shell) too: the same shell code parses the manifest there. */
const BUSYBOX_ITERATIONS = 40;

let dir = '';
let f: ApplyFuzz;

before(async () => {
  dir = await scratchDir('apply-fuzz');
  f = await prepareApplyFuzz(dir);
});
after(() => rm(dir, { recursive: true, force: true }));

test('the untouched package passes every check and reaches the stand-in insmod with its module', async () => {
  assert.equal((await applyOnce(f, f.gz, 'original')).intact, true);
});

for (const [arm, seed] of [
  ['gz', 11],
  ['tar', 12],
] as const) {
  test(`ksplice-apply refuses ${ITERATIONS} mutants of the ${arm === 'gz' ? 'compressed file' : 'tar stream'} with a message, loading nothing damaged`, async () => {
    const stats = await fuzzKspliceApply(f, arm, ITERATIONS, seed);
    assert.equal(stats.runs, ITERATIONS);
    assert.ok(stats.refused > ITERATIONS / 2, `most mutants are damaged and refused (${stats.refused} refused, ${stats.intact} intact)`);
  });
}

test(`under busybox sh, the guest's shell, ${BUSYBOX_ITERATIONS} mutants of the tar stream end the same way`, async () => {
  const stats = await fuzzKspliceApply(f, 'tar', BUSYBOX_ITERATIONS, 13, 'busybox');
  assert.equal(stats.runs, BUSYBOX_ITERATIONS);
  assert.ok(
    stats.refused > BUSYBOX_ITERATIONS / 2,
    `${stats.refused} refused for damage, ${stats.intact} intact (refused for the release)`,
  );
});
