/**
 * Test helper: real updates made by ksplice-create (createUpdate) from small patches, and
 * deliberately broken copies of them for the engine's refusals. A broken copy is the real tarball
 * with its update module edited in place and the manifest's checksums recomputed, as an attacker or
 * a corrupted build would leave it: the tools accept it, the engine must refuse it.
 *
 * Usage:
 *   const t = await createTestUpdate(target, { id: 'cmdbad', patch, outputDir });
 *   await tamperUpdate(t, (ko, parts) => flipPreByte(ko, parts.preFunction('fs/proc/cmdline.o', 'cmdline_proc_show'), 6));
 *   t.ko, t.core          // the update module and the core, unpacked next to the tarball
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createUpdate } from '../../src/create/create.ts';
import { readElf } from '../../src/elf/reader.ts';
import { STT_FUNC } from '../../src/elf/types.ts';
import { packagedObjectPath } from '../../src/package/update-package.ts';
import { readUpdateTarball, writeUpdateTarball, type ManifestFields, type PackedFile } from '../../src/package/update-tarball.ts';
import type { TargetKernel } from '../../src/setup/target-kernel.ts';
import { run } from '../../src/util/exec.ts';

export interface TestUpdate {
  id: string;
  tarball: string;
  /** ksplice_<id>.ko and ksplice.ko, unpacked from the tarball (again after tampering). */
  ko: string;
  core: string;
}

async function unpack(tarball: string, id: string): Promise<{ ko: string; core: string }> {
  const dir = path.join(path.dirname(tarball), 'unpacked');
  await mkdir(dir, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', dir]);
  return { ko: path.join(dir, `ksplice-${id}`, `ksplice_${id}.ko`), core: path.join(dir, `ksplice-${id}`, 'ksplice.ko') };
}

export async function createTestUpdate(
  target: TargetKernel,
  options: { id: string; patch: string; hooks?: string; outputDir: string },
): Promise<TestUpdate> {
  const outputDir = path.join(options.outputDir, options.id);
  const result = await createUpdate({
    sourceDir: target.sourceDir,
    patchPath: options.patch,
    id: options.id,
    hooksPath: options.hooks,
    outputDir,
    log: () => {},
  });
  return { id: result.id, tarball: result.tarball!, ...(await unpack(result.tarball!, result.id)) };
}

/** What a tampering function may read: the pre objects shipped in the tarball. */
export interface UpdateParts {
  manifest: ManifestFields;
  /** The pre code of `fn` in the shipped pre object of `object` (e.g. 'fs/proc/cmdline.o'). */
  preFunction(object: string, fn: string): Buffer;
}

/** Rewrites the tarball with `edit` applied to its update module (and manifest), checksums recomputed. */
export async function tamperUpdate(update: TestUpdate, edit: (ko: Buffer, parts: UpdateParts) => void): Promise<void> {
  const { manifest, files } = readUpdateTarball(await readFile(update.tarball));
  const fields: ManifestFields = { ...manifest };
  delete (fields as Partial<typeof manifest>).formatVersion;
  delete (fields as Partial<typeof manifest>).files;
  const byPath = new Map(files.map((f) => [f.path, f]));
  const parts: UpdateParts = {
    manifest: fields,
    preFunction(object, fn) {
      const file = byPath.get(packagedObjectPath('pre', object));
      if (!file) throw new Error(`no pre object for ${object} in ${update.tarball}: ${[...byPath.keys()].join(' ')}`);
      const sym = readElf(file.data).symbols.find((s) => s.name === fn && s.type === STT_FUNC);
      if (!sym?.section) throw new Error(`${fn} is not in ${file.path}`);
      return Buffer.from(sym.section.data.subarray(sym.value, sym.value + sym.size));
    },
  };
  const module = byPath.get(manifest.updateModule);
  if (!module) throw new Error(`${update.tarball}: no ${manifest.updateModule}`);
  const ko = Buffer.from(module.data);
  edit(ko, parts);
  const rewritten: PackedFile[] = files.map((f) => (f === module ? { ...f, data: ko } : f));
  await writeFile(update.tarball, writeUpdateTarball(parts.manifest, rewritten));
  Object.assign(update, await unpack(update.tarball, update.id));
}

/** Replaces every occurrence of `from` in `buffer` (the same length); throws when there is none. */
export function replaceAll(buffer: Buffer, from: Buffer, to: Buffer): number {
  if (from.length !== to.length) throw new Error('replaceAll: same length only');
  let count = 0;
  for (let at = buffer.indexOf(from); at !== -1; at = buffer.indexOf(from, at + from.length)) {
    to.copy(buffer, at);
    count++;
  }
  if (count === 0) throw new Error(`replaceAll: ${from.toString('hex')} not found`);
  return count;
}

/** Flips byte `offset` of the pre code `pre` where the module embeds it (exactly once). */
export function flipPreByte(ko: Buffer, pre: Buffer, offset: number): void {
  const at = ko.indexOf(pre);
  if (at === -1 || ko.indexOf(pre, at + 1) !== -1) throw new Error('the pre code is not in the module exactly once');
  ko[at + offset] ^= 0xff;
}

/** A 64-bit little-endian address, as the descriptor stores it. */
export function le64(address: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(address);
  return b;
}
