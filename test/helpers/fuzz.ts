/**
 * Test helper: seeded mutations of real inputs, for fuzzing the readers (test/fuzz/, bench/fuzz.ts).
 * The same seed gives the same inputs, so a failure names the seed and iteration to replay.
 *
 * Usage:
 *   const object = await realKernelObject();
 *   fuzz('readElf', object, elfHotFields(object), 1000, 1, (b) => readElf(b), (e) => e instanceof ElfFormatError);
 *   const bad = mutate(original, prng(42), [{ offset: 0x3c, size: 2 }]);   // hot fields hit more often
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeUpdateTarball } from '../../src/package/update-tarball.ts';
import { kbuildArgs } from '../../src/kbuild/flags.ts';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { run } from '../../src/util/exec.ts';
import { withLock } from '../../src/util/lock.ts';

/** mulberry32: small, fast, good enough to pick bytes. Returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A header field worth hitting more often than random bytes (counts, offsets, sizes). */
export interface HotField {
  offset: number;
  size: 1 | 2 | 4 | 8;
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff];

/** One to four mutations: byte flips, interesting values in hot fields, truncation, a cut-and-splice. */
export function mutate(input: Buffer, rng: () => number, hot: readonly HotField[] = []): Buffer {
  let out = Buffer.from(input);
  const pick = (n: number) => Math.floor(rng() * n);
  for (let k = 1 + pick(4); k > 0; k--) {
    const kind = pick(10);
    if (kind < 4 && out.length > 0) {
      out[pick(out.length)] ^= 1 << pick(8);
    } else if (kind < 7 && hot.length > 0) {
      const field = hot[pick(hot.length)];
      if (field.offset + field.size > out.length) continue;
      const value = INTERESTING[pick(INTERESTING.length)] + (pick(3) - 1);
      for (let i = 0; i < field.size; i++) out[field.offset + i] = i < 4 ? (value >>> (8 * i)) & 0xff : 0;
    } else if (kind < 9) {
      out = out.subarray(0, pick(out.length + 1));
    } else if (out.length > 8) {
      const from = pick(out.length);
      const to = pick(out.length);
      out = Buffer.concat([out.subarray(0, to), out.subarray(from, from + pick(64)), out.subarray(to)]);
    }
  }
  return out;
}

/** A mutant must be parsed or refused within this time. */
const PER_INPUT_MS = 2000;

/** e_shoff, e_shnum, e_shstrndx, and each section header's offset, size, link, info, entsize. */
export function elfHotFields(obj: Buffer): HotField[] {
  const fields: HotField[] = [
    { offset: 0x28, size: 8 },
    { offset: 0x3c, size: 2 },
    { offset: 0x3e, size: 2 },
  ];
  const shoff = Number(obj.readBigUInt64LE(0x28));
  const shnum = obj.readUInt16LE(0x3c);
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    fields.push(
      { offset: h + 0x18, size: 8 },
      { offset: h + 0x20, size: 8 },
      { offset: h + 0x28, size: 4 },
      { offset: h + 0x2c, size: 4 },
      { offset: h + 0x38, size: 8 },
    );
  }
  return fields;
}

/** Runs `parse` on `iterations` mutants; returns how many parsed. Fails on any other error or a slow parse. */
export function fuzz(
  name: string,
  input: Buffer,
  hot: HotField[],
  iterations: number,
  seed: number,
  parse: (b: Buffer) => void,
  ownError: (e: unknown) => boolean,
): number {
  const rng = prng(seed);
  let parsed = 0;
  for (let i = 0; i < iterations; i++) {
    const mutant = mutate(input, rng, hot);
    const started = Date.now();
    try {
      parse(mutant);
      parsed++;
    } catch (e) {
      if (!ownError(e)) {
        throw new Error(`${name}: seed ${seed}, iteration ${i}: ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
      }
      assert.ok((e as Error).message.length > 0, `${name}: seed ${seed}, iteration ${i}: an error without a message`);
    }
    assert.ok(Date.now() - started < PER_INPUT_MS, `${name}: seed ${seed}, iteration ${i} took ${Date.now() - started} ms`);
  }
  return parsed;
}

export async function realKernelObject(): Promise<Buffer> {
  const target = await ensureTarget();
  await withLock(`${target.sourceDir}.build.lock`, () => run('make', [...kbuildArgs(target.sourceDir, 2), 'fs/proc/cmdline.o']));
  return readFile(path.join(target.sourceDir, 'fs/proc/cmdline.o'));
}

export function sampleUpdateTarball(object: Buffer): Buffer {
  return writeUpdateTarball(
    {
      id: 'fuzz0001',
      kernelRelease: '6.1.0-50-amd64',
      sourceVersion: '6.1.176',
      toolchain: { cc: 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0', as: 24000, ld: 24000 },
      description: 'fuzz',
      patch: 'proc_cmdline.patch',
      coreModule: 'ksplice.ko',
      updateModule: 'ksplice_fuzz0001.ko',
      changed: [{ object: 'fs/proc/cmdline.o', function: 'cmdline_proc_show', address: 'ffffffff81400000' }],
      new: [],
    },
    [
      { path: 'ksplice.ko', data: object },
      { path: 'ksplice_fuzz0001.ko', data: object.subarray(0, 4096) },
      { path: 'objects/pre/fs/proc/cmdline.o', data: object },
      { path: 'ksplice-apply', data: Buffer.from('#!/bin/sh\n'), executable: true },
    ],
  );
}

/** Each 512-byte tar header's name, mode, size, checksum and type fields. */
export function tarHotFields(tar: Buffer): HotField[] {
  const fields: HotField[] = [];
  for (let h = 0; h + 512 <= tar.length && fields.length < 400; h += 512) {
    if (tar[h + 257] !== 0x75) continue; // "ustar" magic: a header block
    fields.push(
      { offset: h, size: 8 },
      { offset: h + 100, size: 8 },
      { offset: h + 124, size: 8 },
      { offset: h + 132, size: 4 },
      { offset: h + 148, size: 8 },
      { offset: h + 156, size: 1 },
    );
  }
  return fields;
}
