/**
 * Test helper: an update module for a patch to a loadable module's source, made by the create
 * stage's own parts (doubleBuild, diffObjects, moduleOfObject, buildUpdateModule with each object's
 * module) without the rest of ksplice-create (no reproduction check, no safety rules, no tarball):
 * the guest test insmods the core and the update module directly, and a tampered copy of it.
 *
 * Usage:
 *   const u = await buildModuleUpdate(target, { id: 'bmstat', patch, outputDir });
 *   u.ko, u.core, u.replaced          // [{ object: 'fs/binfmt_misc.o', function: 'bm_status_read' }]
 *   await writeTamperedCopy(u, 'bmbad', 5);   // the same module with pre byte +5 of the first target flipped
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { diffObjects } from '../../src/diff/diff.ts';
import { readElf } from '../../src/elf/reader.ts';
import { STT_FUNC } from '../../src/elf/types.ts';
import { doubleBuild } from '../../src/create/double-build.ts';
import { resolveKernelInputs } from '../../src/create/kernel-inputs.ts';
import { moduleOfObject } from '../../src/create/object-module.ts';
import { buildUpdateModule, type ReplacedFunction } from '../../src/create/update-module.ts';
import { buildCore } from '../../src/kbuild/core-module.ts';
import { SystemMapIndex } from '../../src/kbuild/system-map.ts';
import type { TargetKernel } from '../../src/setup/target-kernel.ts';
import { flipPreByte } from './test-updates.ts';

export interface ModuleUpdate {
  id: string;
  ko: string;
  core: string;
  replaced: ReplacedFunction[];
  /** Each built object's module (`vmlinux` for built-in code). */
  modules: Record<string, string>;
  /** The pre code of each replaced function, from the pre object. */
  pre: Map<string, Buffer>;
}

export async function buildModuleUpdate(
  target: TargetKernel,
  options: { id: string; patch: string; outputDir: string },
): Promise<ModuleUpdate> {
  const inputs = await resolveKernelInputs(target.sourceDir);
  const work = path.join(options.outputDir, options.id);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const build = await doubleBuild({ tree: inputs.sourceDir, patchPath: options.patch, outDir: path.join(work, 'build'), log: () => {} });
  const objects = [];
  const modules: Record<string, string> = {};
  const pre = new Map<string, Buffer>();
  for (const object of build.objects) {
    const preObj = readElf(await readFile(path.join(build.preDir, object)));
    const postObj = readElf(await readFile(path.join(build.postDir, object)));
    const module = await moduleOfObject(inputs.sourceDir, object, build.homes[object] ?? 'vmlinux');
    modules[object] = module;
    objects.push({ object, diff: diffObjects(preObj, postObj), module });
    for (const s of preObj.symbols) {
      if (s.type === STT_FUNC && s.section) pre.set(s.name, Buffer.from(s.section.data.subarray(s.value, s.value + s.size)));
    }
  }
  const core = await buildCore(inputs.headersDir, inputs.release);
  const built = await buildUpdateModule({
    id: options.id,
    release: inputs.release,
    headersDir: inputs.headersDir,
    kmodDir: core.dir,
    workDir: path.join(work, 'module'),
    map: new SystemMapIndex(inputs.symbols),
    objects,
  });
  return { id: options.id, ko: built.ko, core: core.ko, replaced: built.replaced, modules, pre };
}

/**
 * A copy of the update module with byte `offset` of the first replaced function's pre code flipped
 * (a run-pre mismatch), written as `<dir>/tampered/<name of the module>.ko`; returns its path.
 */
export async function writeTamperedCopy(update: ModuleUpdate, offset: number): Promise<string> {
  const ko = Buffer.from(await readFile(update.ko));
  flipPreByte(ko, update.pre.get(update.replaced[0]!.function)!, offset);
  const dir = path.join(path.dirname(update.ko), 'tampered');
  await mkdir(dir, { recursive: true });
  const out = path.join(dir, path.basename(update.ko).replace(/\.ko$/, '_tampered.ko'));
  await writeFile(out, ko);
  return out;
}
