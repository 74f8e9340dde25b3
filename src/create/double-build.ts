/**
 * The targeted double build: compile only the objects a patch touches, once on the pristine
 * tree ("pre") and once with the patch applied ("post"), with kbuild itself so every flag is the
 * one Debian's build used, plus function and data sections.
 *
 * Usage:
 *   const build = await doubleBuild({ tree: target.sourceDir, patchPath, outDir, log });
 *   build.objects        // ['kernel/printk/printk.o']
 *   build.preDir         // outDir/pre/kernel/printk/printk.o, ...
 *   build.postDir        // outDir/post/...
 *
 * The patch is dry-run before anything is built; the tree is pristine again when this returns or
 * throws (see pristine-tree.ts). One build at a time per tree (a lock), since it is shared.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kbuildArgs } from '../setup/kbuild-flags.ts';
import { run } from '../util/exec.ts';
import { withLock } from '../util/lock.ts';
import { Progress, stderrSink, type LogSink } from '../util/progress.ts';
import { assertPatchApplies, touchedFiles } from './patch-file.ts';
import { withPatchApplied } from './pristine-tree.ts';

/** A patch touches something a targeted build cannot turn into objects. */
export class UnsupportedPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedPatchError';
  }
}

export interface DoubleBuildOptions {
  tree: string;
  patchPath: string;
  outDir: string;
  log?: LogSink;
  jobs?: number;
}

export interface DoubleBuild {
  objects: string[];
  preDir: string;
  postDir: string;
  timingsMs: Record<string, number>;
}

/** Source files whose only effect is on the build of the object next to them. */
function isCompiledSource(file: string): boolean {
  return /\.(c|S)$/.test(file);
}

/** Files a patch may touch without changing any code (documentation, comments-only trees). */
function isOutsideTheBuild(file: string): boolean {
  return /^(Documentation|LICENSES|samples|tools)\//.test(file) || /(^|\/)(MAINTAINERS|CREDITS|README[^/]*)$/.test(file);
}

/**
 * The objects to build for a patch, by kbuild target name.
 *
 * Example: `kernel/printk/printk.c` → `kernel/printk/printk.o`. Headers need the objects that
 * include them, which this first version does not find yet: it refuses them by name rather than
 * build too little.
 */
export function objectsForTouchedFiles(files: readonly string[]): string[] {
  const objects: string[] = [];
  const unsupported: string[] = [];
  for (const file of files) {
    if (isCompiledSource(file)) objects.push(file.replace(/\.(c|S)$/, '.o'));
    else if (!isOutsideTheBuild(file)) unsupported.push(file);
  }
  if (unsupported.length > 0) {
    throw new UnsupportedPatchError(
      `the patch changes files that are not compiled sources: ${unsupported.join(', ')}; ` +
        'header, Kconfig and Makefile changes are not supported by the targeted build yet',
    );
  }
  return objects.sort();
}

export async function doubleBuild(options: DoubleBuildOptions): Promise<DoubleBuild> {
  const { tree, patchPath, outDir } = options;
  const log = options.log ?? stderrSink;
  const jobs = options.jobs ?? os.availableParallelism();
  const progress = new Progress('double build', 3, log);

  progress.step(`checking that ${path.basename(patchPath)} applies`);
  const objects = objectsForTouchedFiles(touchedFiles(await readFile(patchPath, 'utf8')));
  await assertPatchApplies(tree, patchPath);

  return withLock(`${tree}.build.lock`, async () => {
    const preDir = path.join(outDir, 'pre');
    const postDir = path.join(outDir, 'post');
    progress.step(`pre build: ${objects.join(' ')}`);
    await buildObjects(tree, objects, jobs, progress);
    await collectObjects(tree, objects, preDir);

    progress.step(`post build (patch applied): ${objects.join(' ')}`);
    await withPatchApplied(tree, patchPath, async () => {
      await buildObjects(tree, objects, jobs, progress);
      await collectObjects(tree, objects, postDir);
    });
    progress.done(`${objects.length} object(s) built twice; tree pristine again`);
    return { objects, preDir, postDir, timingsMs: progress.timings };
  }, log);
}

async function buildObjects(tree: string, objects: readonly string[], jobs: number, progress: Progress): Promise<void> {
  await run('make', [...kbuildArgs(tree, jobs), ...objects], {
    onLine: (line) => (/\b(warning|error):/i.test(line) ? progress.info(line.trim()) : progress.heartbeat(line)),
  });
}

async function collectObjects(tree: string, objects: readonly string[], dest: string): Promise<void> {
  for (const object of objects) {
    await mkdir(path.dirname(path.join(dest, object)), { recursive: true });
    await copyFile(path.join(tree, object), path.join(dest, object));
  }
}
