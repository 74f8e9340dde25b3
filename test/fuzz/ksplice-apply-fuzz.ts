/**
 * Fuzzing the target-side reader itself: kmod/tools/ksplice-apply (POSIX sh over busybox tar,
 * sed and sha256sum) run on seeded mutants of a small real-looking update tarball, written by the
 * real packer (writeUpdateTarball) for the host's own release so that a mutant passing every
 * check would go on to load its module. Each run goes through test/helpers/tools-sandbox.ts
 * (busybox applets, stand-in insmod/rmmod, a private run folder, a per-run timeout that kills
 * the whole process group).
 *
 * What every mutant must give: exit 1 with a "ksplice-apply: ..." line on stderr, in time, with
 * nothing left in its run folder and nothing written outside it. No insmod call, except for a
 * mutant whose damage the format ignores (tar padding, gzip header time): then the one call must
 * carry the original update module, byte for byte (its sha256), which the stand-in then refuses.
 * Runs under busybox sh (the guest's shell; its applets hide the stand-ins) use the same package
 * made for another release, so that even an intact mutant is refused before any insmod.
 * A failure names the seed and iteration and keeps the mutant for replay.
 *
 * Usage (test/fuzz/ksplice-apply.test.ts, bench/fuzz.ts):
 *   const f = await prepareApplyFuzz(dir);
 *   const stats = await fuzzKspliceApply(f, 'tar', 100, 7);   // { runs, refused, intact, maxMs }
 *   await fuzzKspliceApply(f, 'tar', 40, 8, 'busybox');         // under the guest's shell
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { writeUpdateTarball } from '../../src/package/update-tarball.ts';
import { mutate, prng, tarHotFields, type HotField } from '../helpers/fuzz.ts';
import { makeSandbox, outsideState, runTool, type Sandbox } from '../helpers/tools-sandbox.ts';

/** dash sees the stand-in insmod; busybox sh, the guest's shell, runs its own applets. */
export type Shell = 'dash' | 'busybox';

/** A run that takes longer is a hang (a valid run takes well under a second, even on a loaded machine). */
export const PER_RUN_TIMEOUT_MS = 15_000;

export interface ApplyFuzz {
  sb: Sandbox;
  dir: string;
  sysfs: string;
  gz: Buffer;
  tar: Buffer;
  /**
   * The same package made for another release, for runs under busybox sh (the guest's shell),
   * where the stand-ins cannot be seen: even an intact mutant stops at the release check there,
   * so no mutant can reach the host's real insmod.
   */
  foreignGz: Buffer;
  foreignTar: Buffer;
  /** sha256 of the update module the package carries: what an intact mutant hands to insmod. */
  moduleSha: string;
  outsideBefore: string;
}

export interface ApplyFuzzStats {
  runs: number;
  /** Refused before any module call. */
  refused: number;
  /** Damage the format ignores: the original module reached the stand-in insmod. */
  intact: number;
  maxMs: number;
}

/** The package: the modules and an object small, so mutations land in headers and the manifest often. */
function samplePackage(release: string): { gz: Buffer; moduleSha: string } {
  const module = Buffer.from('\x7fELF update module stand-in\n');
  const gz = writeUpdateTarball(
    {
      id: 'fz01',
      kernelRelease: release,
      sourceVersion: '6.1.176',
      toolchain: { cc: 'gcc-12', as: 24000, ld: 24000 },
      description: 'fuzz',
      patch: 'proc_cmdline.patch',
      coreModule: 'ksplice.ko',
      updateModule: 'ksplice_fz01.ko',
      changed: [{ object: 'fs/proc/cmdline.o', function: 'cmdline_proc_show', address: 'ffffffff81400000' }],
      new: [],
    },
    [
      { path: 'ksplice.ko', data: Buffer.from('\x7fELF core stand-in\n') },
      { path: 'ksplice_fz01.ko', data: module },
      { path: 'objects/pre/fs/proc/cmdline.o', data: Buffer.from('pre object\n') },
      { path: 'objects/post/fs/proc/cmdline.o', data: Buffer.from('post object\n') },
      { path: 'proc_cmdline.patch', data: Buffer.from('--- a\n+++ b\n') },
      { path: 'ksplice-apply', data: Buffer.from('#!/bin/sh\n'), executable: true },
    ],
  );
  return { gz, moduleSha: createHash('sha256').update(module).digest('hex') };
}

export async function prepareApplyFuzz(dir: string): Promise<ApplyFuzz> {
  const sb = await makeSandbox(path.join(dir, 'sandbox'));
  const sysfs = path.join(dir, 'sysfs'); // exists: "the core is loaded", so only the update module is insmod'ed
  await mkdir(sysfs);
  await mkdir(path.join(dir, 'mutants'));
  const release = (await promisify(execFile)('/bin/busybox', ['uname', '-r'])).stdout.trim();
  const { gz, moduleSha } = samplePackage(release);
  const foreign = samplePackage(`${release}-not-this-one`).gz;
  return {
    sb,
    dir,
    sysfs,
    gz,
    tar: gunzipSync(gz),
    foreignGz: foreign,
    foreignTar: gunzipSync(foreign),
    moduleSha,
    outsideBefore: await outsideState(sb),
  };
}

/** Runs ksplice-apply on one tarball (bytes) and checks the outcome; returns whether the module reached insmod. */
export async function applyOnce(
  f: ApplyFuzz,
  bytes: Buffer,
  label: string,
  shell: Shell = 'dash',
): Promise<{ intact: boolean; ms: number }> {
  const file = path.join(f.dir, 'mutants', `${label}.tar.gz`);
  await writeFile(file, bytes);
  const r = await runTool(f.sb, 'ksplice-apply', [file], { sysfs: f.sysfs, timeoutMs: PER_RUN_TIMEOUT_MS, shell });
  const where = `${label} (kept in ${file})`;
  assert.equal(r.timedOut, false, `${where}: ksplice-apply hung, killed after ${PER_RUN_TIMEOUT_MS} ms`);
  assert.equal(r.status, 1, `${where}: exit ${r.status}, stderr: ${r.stderr}`);
  assert.match(r.stderr, /^ksplice-apply: \S/m, `${where}: no message of its own on stderr: ${r.stderr}`);
  assert.deepEqual(r.leftovers, [], `${where}: left in its run folder`);
  assert.equal(await outsideState(f.sb), f.outsideBefore, `${where}: wrote outside its run folder`);
  // under busybox sh the package is for another release: an intact mutant is refused there
  const intact = shell === 'busybox' ? /is for kernel \S+-not-this-one, this kernel is/.test(r.stderr) : r.calls.length > 0;
  if (shell === 'busybox') {
    await rm(file);
    return { intact, ms: r.ms };
  }
  if (intact) {
    assert.equal(r.calls.length, 1, `${where}: ${r.calls.join('; ')}`);
    assert.match(
      r.calls[0],
      new RegExp(`^insmod \\S+/ksplice-fz01/ksplice_fz01\\.ko ${f.moduleSha}$`),
      `${where}: insmod given something else than the original module`,
    );
    assert.match(r.stderr, /cannot load update module ksplice_fz01\.ko/, where);
  }
  await rm(file); // kept only when an assertion above failed
  return { intact, ms: r.ms };
}

/** Gzip header bytes (flags, mtime) and the trailer (CRC32, length): the hot spots of the compressed stream. */
function gzHotFields(gz: Buffer): HotField[] {
  return [
    { offset: 3, size: 1 },
    { offset: 4, size: 4 },
    { offset: gz.length - 8, size: 4 },
    { offset: gz.length - 4, size: 4 },
  ];
}

/**
 * `iterations` mutants of the compressed file ('gz': byte flips, truncations of the .tar.gz as
 * downloaded) or of the tar stream under a valid gzip wrapper ('tar': headers, names, sizes,
 * the manifest's text).
 */
export async function fuzzKspliceApply(
  f: ApplyFuzz,
  arm: 'gz' | 'tar',
  iterations: number,
  seed: number,
  shell: Shell = 'dash',
): Promise<ApplyFuzzStats> {
  const rng = prng(seed);
  const gz = shell === 'busybox' ? f.foreignGz : f.gz;
  const input = arm === 'gz' ? gz : shell === 'busybox' ? f.foreignTar : f.tar;
  const hot = arm === 'gz' ? gzHotFields(gz) : tarHotFields(input);
  const stats: ApplyFuzzStats = { runs: 0, refused: 0, intact: 0, maxMs: 0 };
  for (let i = 0; i < iterations; i++) {
    const mutant = mutate(input, rng, hot);
    const { intact, ms } = await applyOnce(f, arm === 'gz' ? mutant : gzipSync(mutant), `${shell}-${arm}-seed${seed}-i${i}`, shell);
    stats.runs++;
    if (intact) stats.intact++;
    else stats.refused++;
    stats.maxMs = Math.max(stats.maxMs, ms);
  }
  return stats;
}
