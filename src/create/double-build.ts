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
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kbuildArgs } from '../kbuild/flags.ts';
import { CommandError, run } from '../util/exec.ts';
import { withLock } from '../util/lock.ts';
import { Progress, stderrSink, type LogSink } from '../util/progress.ts';
import { assertPatchApplies, touchedFiles } from './patch-file.ts';
import { recoverInterruptedRun, withPatchApplied } from './pristine-tree.ts';
import { forcedIncludes, objectDependsOn, readIncludeGraph, type IncludeGraph } from './header-users.ts';
import { kbuildObjects, type ObjectHome } from '../kbuild/objects.ts';

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
  /** Touched sources this configuration does not compile. */
  notBuilt: string[];
  /** Where each built object goes: vmlinux or a module. */
  homes: Record<string, ObjectHome>;
  preDir: string;
  postDir: string;
  timingsMs: Record<string, number>;
}

/** Source files compiled into an object of the same name. */
function isCompiledSource(file: string): boolean {
  return /\.(c|S)$/.test(file);
}

/** The kbuild target a source compiles to: `kernel/sys.c` → `kernel/sys.o`. */
function objectOf(source: string): string {
  return source.replace(/\.(c|S)$/, '.o');
}

function isHeader(file: string): boolean {
  return file.endsWith('.h');
}

/** Files a patch may touch without changing any code in the kernel image or its modules. */
function isOutsideTheBuild(file: string): boolean {
  return /^(Documentation|LICENSES|samples|tools)\//.test(file) || /(^|\/)(MAINTAINERS|CREDITS|README[^/]*)$/.test(file);
}

export interface PlannedObject {
  /** kbuild target, e.g. `kernel/printk/printk.o`. */
  object: string;
  home: ObjectHome;
  /** The touched files that make this object part of the build. */
  because: string[];
}

export interface BuildPlan {
  objects: PlannedObject[];
  /** Touched sources that this configuration does not compile: they cannot change the running kernel. */
  notBuilt: string[];
}

/** A header included by more objects than this is refused: the "targeted" build would be most of the kernel. */
export const MAX_OBJECTS_PER_UPDATE = 100;

/**
 * A header kbuild forces into every compile (`-include`), or one such a header includes, is in
 * every object without an include line naming it: refused as too wide, with the reason.
 */
function refuseForcedHeader(file: string, graph: IncludeGraph, forced: readonly string[]): void {
  const via = graph.forcedThrough(file, forced);
  if (!via) return;
  const how =
    via === file
      ? 'kbuild forces it into every compile with -include'
      : `${via} includes it and kbuild forces that into every compile with -include`;
  throw new UnsupportedPatchError(`${file} is in every object of the kernel (${how}): too wide for a targeted update`);
}

/**
 * The built sources a touched file reaches: a header's includers, and a `.c` file itself or the
 * `.c` files that #include it. The cheap 'c-files' graph is replaced by the full one as soon as
 * a header is on the way.
 */
async function builtUsersOf(
  file: string,
  graphs: { get(scope: 'all' | 'c-files'): Promise<IncludeGraph> },
  built: Map<string, ObjectHome>,
): Promise<string[]> {
  let graph = await graphs.get(isHeader(file) ? 'all' : 'c-files');
  if (graph.scope === 'c-files' && graph.filesIncluding(file).some(isHeader)) graph = await graphs.get('all');
  return graph.sourcesIncluding(file).filter((source) => built.has(objectOf(source)));
}

/** Each include graph read at most once per plan. */
function includeGraphs(tree: string) {
  const read = new Map<string, Promise<IncludeGraph>>();
  return {
    get(scope: 'all' | 'c-files'): Promise<IncludeGraph> {
      if (!read.has(scope)) read.set(scope, readIncludeGraph(tree, scope));
      return read.get(scope)!;
    },
  };
}

/**
 * The objects to build for a patch.
 *
 * Example: `kernel/printk/printk.c` → `kernel/printk/printk.o` (vmlinux). `kernel/audit.h` →
 * the six kernel/audit*.o that include it, directly or through other headers.
 * `kernel/sched/rt.c`, never compiled alone → `kernel/sched/build_policy.o`, which #includes it.
 * A touched source the config does not build (say a driver that is `# CONFIG_... is not set`)
 * lands in notBuilt. `include/linux/kconfig.h` (forced in with -include) is refused.
 */
export async function planObjects(tree: string, files: readonly string[], log?: LogSink): Promise<BuildPlan> {
  const unsupported = files.filter((f) => !isCompiledSource(f) && !isHeader(f) && !isOutsideTheBuild(f));
  if (unsupported.length > 0) {
    throw new UnsupportedPatchError(
      `the patch changes build files, not code: ${unsupported.join(', ')}; Kconfig and Makefile changes need a new kernel, not an update`,
    );
  }
  const built = await kbuildObjects(tree, log);
  const graphs = includeGraphs(tree);
  const forced = await forcedIncludes(tree);
  const planned = new Map<string, PlannedObject>();
  const notBuilt: string[] = [];
  const add = (source: string, because: string) => {
    const object = objectOf(source);
    const entry = planned.get(object) ?? { object, home: built.get(object)!, because: [] };
    entry.because.push(because);
    planned.set(object, entry);
  };
  for (const file of files.filter((f) => isCompiledSource(f) || isHeader(f))) {
    if (isHeader(file)) refuseForcedHeader(file, await graphs.get('all'), forced);
    const users = await builtUsersOf(file, graphs, built);
    if (users.length > MAX_OBJECTS_PER_UPDATE) {
      throw new UnsupportedPatchError(
        `${file} is included by ${users.length} objects of this config (more than ${MAX_OBJECTS_PER_UPDATE}): too wide for a targeted update`,
      );
    }
    if (users.length === 0 && isCompiledSource(file)) notBuilt.push(file);
    for (const source of users) add(source, file);
  }
  return { objects: [...planned.values()].sort((a, b) => a.object.localeCompare(b.object)), notBuilt };
}

export async function doubleBuild(options: DoubleBuildOptions): Promise<DoubleBuild> {
  const { tree, patchPath, outDir } = options;
  const log = options.log ?? stderrSink;
  const jobs = options.jobs ?? os.availableParallelism();
  const progress = new Progress('double build', 3, log);

  // Everything that reads the tree runs under its lock: another ksplice-create on the same tree
  // has the patch applied for a while, and its dry run would see that, not the pristine source.
  return withLock(
    `${tree}.build.lock`,
    async () => {
      progress.step(`checking that ${path.basename(patchPath)} applies; planning objects`);
      await recoverInterruptedRun(tree, (l) => progress.info(l));
      await assertPatchApplies(tree, patchPath);
      const plan = await planObjects(tree, touchedFiles(await readFile(patchPath, 'utf8')), (l) => progress.info(l));
      for (const source of plan.notBuilt) progress.info(`${source} is not compiled in this configuration: skipped`);
      const preDir = path.join(outDir, 'pre');
      const postDir = path.join(outDir, 'post');
      progress.step(`pre build: ${plan.objects.length} object(s)`);
      await removeObjects(
        tree,
        plan.objects.map((o) => o.object),
      );
      await buildObjects(
        tree,
        plan.objects.map((o) => o.object),
        jobs,
        progress,
      );
      const objects = await dropObjectsNotDependingOnTheirHeaders(tree, plan.objects);
      await collectObjects(tree, objects, preDir);

      progress.step(`post build (patch applied): ${objects.join(' ')}`);
      if (objects.length === 0) {
        progress.done('no object of this configuration is affected by the patch');
        return {
          objects,
          notBuilt: plan.notBuilt,
          homes: Object.fromEntries(plan.objects.map((o) => [o.object, o.home])),
          preDir,
          postDir,
          timingsMs: progress.timings,
        };
      }
      await withPatchApplied(
        tree,
        patchPath,
        async () => {
          await buildObjects(tree, objects, jobs, progress);
          await collectObjects(tree, objects, postDir);
        },
        log,
      );
      progress.done(`${objects.length} object(s) built twice; tree pristine again`);
      return {
        objects,
        notBuilt: plan.notBuilt,
        homes: Object.fromEntries(plan.objects.map((o) => [o.object, o.home])),
        preDir,
        postDir,
        timingsMs: progress.timings,
      };
    },
    log,
  );
}

/**
 * A file's textual includers over-approximate (includes under `#if`): after the pre build,
 * kbuild's dependency files say which objects really read the header (or the #included `.c`).
 * Objects planned for their own touched source are always kept.
 */
async function dropObjectsNotDependingOnTheirHeaders(tree: string, planned: readonly PlannedObject[]): Promise<string[]> {
  const kept: string[] = [];
  for (const entry of planned) {
    for (const reason of entry.because) {
      if (objectOf(reason) === entry.object || (await objectDependsOn(tree, entry.object, reason))) {
        kept.push(entry.object);
        break;
      }
    }
  }
  return kept;
}

/**
 * `make <objects>` in the tree. A parallel build that fails is run once more serially: kbuild can
 * reach one folder by two paths in a single-target build, and both build the same object at once.
 *
 * Example: `make -j2 arch/x86/lib/hweight.o` assembles hweight.o twice in parallel and one run
 * fails with "fixdep: error opening file: arch/x86/lib/.hweight.o.d"; `-j1` builds it. A real
 * compile error fails the serial run too, and that is the error reported.
 */
async function buildObjects(tree: string, objects: readonly string[], jobs: number, progress: Progress): Promise<void> {
  // No object (a file this config does not compile): `make` without a target would build the whole tree.
  if (objects.length === 0) return;
  const make = (j: number) =>
    run('make', [...kbuildArgs(tree, j), ...objects], {
      onLine: (line) => (/\b(warning|error):/i.test(line) ? progress.info(line.trim()) : progress.heartbeat(line)),
    });
  if (jobs === 1) return void (await make(1));
  try {
    await make(jobs);
  } catch (e) {
    // A make killed by a signal (Ctrl-C reaches the whole job) was stopped, not confused: no retry.
    if (!(e instanceof CommandError) || e.exitCode === null) throw e;
    progress.info(`the parallel build failed (exit ${e.exitCode}); building again with one job`);
    await make(1);
  }
}

/**
 * The pre build compiles each object afresh: one left by an interrupted run (a make still
 * finishing after its ksplice-create exited) can be newer than its restored source and yet
 * compiled from the patched one. Every run's post build leaves post objects in the tree, so the
 * pre build recompiles them anyway.
 */
async function removeObjects(tree: string, objects: readonly string[]): Promise<void> {
  for (const object of objects) await rm(path.join(tree, object), { force: true });
}

async function collectObjects(tree: string, objects: readonly string[], dest: string): Promise<void> {
  for (const object of objects) {
    await mkdir(path.dirname(path.join(dest, object)), { recursive: true });
    await copyFile(path.join(tree, object), path.join(dest, object));
  }
}
