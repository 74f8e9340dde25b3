/**
 * ksplice-create's pipeline, as one readable list of named steps:
 *
 *   1. check the inputs        (tree, config dir, real System.map, headers, release)
 *   2. check the toolchain     (refuse a compiler or binutils other than the target's)
 *   3. double build            (only the touched objects, pre and post, function sections)
 *   4. reproduction check      (the pre build equals Debian's shipped vmlinux)
 *   5. diff                    (changed, new, removed functions; unsafe changes)
 *   6. safety verdict          (exit 2 with the reasons when the patch needs custom code)
 *   7. update module           (core + ksplice_<id>.ko from the pre and post objects: update-module.ts)
 *   8. tarball                 (ksplice-<id>.tar.gz in outputDir, default the current folder: update-package.ts)
 *
 * Errors come in three kinds, as in kpatch: bad input (the user's to fix: exit 1), a patch that
 * cannot be applied safely (exit 2), and no changes (exit 66). Anything else is a tool bug.
 *
 * Usage: `const result = await createUpdate({ sourceDir, patchPath, analyzeOnly: true })`.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { diffObjects, summarize, type DiffResult } from '../diff/diff.ts';
import { sourceSafetyFindings } from '../diff/source-rules.ts';
import { readElf } from '../elf/reader.ts';
import { checkToolchain } from '../kbuild/toolchain.ts';
import { Progress, stderrSink, type LogSink } from '../util/progress.ts';
import { doubleBuild, UnsupportedPatchError } from './double-build.ts';
import { resolveKernelInputs } from './kernel-inputs.ts';
import { checkReproduction, type ReproductionMismatch } from './reproduction-check.ts';
import { SystemMapIndex } from '../kbuild/system-map.ts';
import { openShippedKernel, type ShippedKernel } from './shipped-kernel.ts';
import { updateIdFor } from '../package/update-tarball.ts';
import { buildUpdateModule } from './update-module.ts';
import { buildCore } from '../kbuild/core-module.ts';
import { writeUpdatePackage } from '../package/update-package.ts';
import { projectPath } from '../util/repo-root.ts';

/** The engine's sources, from the sources or from the Action's bundle alike. */
const KMOD_DIR = projectPath('kmod');

export interface CreateOptions {
  sourceDir: string;
  patchPath: string;
  configDir?: string;
  id?: string;
  outputDir?: string;
  allowToolchainMismatch?: boolean;
  /**
   * Build without the shipped vmlinux in the config dir: the pre build is then not compared with
   * the running kernel's code until apply time (run-pre matching). Without it a missing vmlinux
   * is an error.
   */
  skipReproductionCheck?: boolean;
  /**
   * Findings the patch author has reviewed and handles (usually with hooks): each entry names a
   * finding's symbol (`free_uid`, `struct audit_context`, `kernel/sys.o`); accepted findings do
   * not refuse the update, the others still do. A name matching no finding is an error.
   */
  accept?: string[];
  /** C source of the author's hooks (kmod/ksplice_hooks.h), compiled into the update module. */
  hooksPath?: string;
  /** Stop after the safety verdict: report what the update would contain, write no tarball. */
  analyzeOnly?: boolean;
  log?: LogSink;
}

export interface CreateResult {
  id: string;
  tarball: string | null;
  kernelRelease: string;
  changed: { object: string; function: string }[];
  new: { object: string; function: string }[];
  unsafe: { symbol: string; reason: string; acceptable?: false }[];
  /** Findings accepted with --accept (they would otherwise be in `unsafe`). */
  accepted: { symbol: string; reason: string }[];
  notes: string[];
  reproduction: { checked: number; shippedVmlinux: boolean };
  timingsMs: Record<string, number>;
}

/** The patch changes no code of this kernel (ksplice-create exits 66: "No changes detected"). */
export class NoChangesError extends Error {
  constructor(readonly result: CreateResult) {
    super('No changes detected');
    this.name = 'NoChangesError';
  }
}

/** The patch cannot be applied safely without custom code (exit 2); `result.unsafe` says why. */
export class UnsafePatchError extends Error {
  constructor(readonly result: CreateResult) {
    super(`the patch cannot be applied safely without custom code:\n${result.unsafe.map((u) => `  ${u.symbol}: ${u.reason}`).join('\n')}`);
    this.name = 'UnsafePatchError';
  }
}

/** --accept named something the analysis did not find (a typo would silently accept nothing). */
export class UnknownAcceptError extends Error {
  constructor(names: string[], findings: { symbol: string }[]) {
    super(`--accept names no finding: ${names.join(', ')} (findings: ${findings.map((f) => f.symbol).join(', ') || 'none'})`);
    this.name = 'UnknownAcceptError';
  }
}

/** --accept named a finding no custom code can make safe (a function ftrace cannot redirect). */
export class UnacceptableError extends Error {
  constructor(findings: { symbol: string; reason: string }[]) {
    super(`cannot be accepted, change the patch instead:\n${findings.map((f) => `  ${f.symbol}: ${f.reason}`).join('\n')}`);
    this.name = 'UnacceptableError';
  }
}

/**
 * Splits findings into accepted and still-refusing ones. A name accepts every finding of that
 * symbol. Example: accept ['cmdline_reads'] with findings cmdline_reads and free_uid → free_uid
 * still refuses.
 */
export function applyAccepts(findings: { symbol: string; reason: string; acceptable?: false }[], accept: readonly string[]): { unsafe: typeof findings; accepted: typeof findings } {
  const names = new Set(accept);
  const unknown = [...names].filter((n) => !findings.some((f) => f.symbol === n));
  if (unknown.length > 0) throw new UnknownAcceptError(unknown, findings);
  const never = findings.filter((f) => names.has(f.symbol) && f.acceptable === false);
  if (never.length > 0) throw new UnacceptableError(never);
  return { unsafe: findings.filter((f) => !names.has(f.symbol)), accepted: findings.filter((f) => names.has(f.symbol)) };
}

/** No shipped vmlinux to check the pre build against, and no opt-out asked (exit 1). */
export class MissingVmlinuxError extends Error {
  constructor(configDir: string) {
    super(
      `no vmlinux in ${configDir}: the reproduction check compares the pre build with the shipped kernel's code; ` +
        `link the target's vmlinux there (Debian: from the linux-image-<release>-dbg package), ` +
        `or pass --skip-reproduction-check to leave that check to run-pre matching at apply time`,
    );
    this.name = 'MissingVmlinuxError';
  }
}

/** The pre build is not the running kernel's code: wrong source, config or toolchain (exit 1). */
export class ReproductionError extends Error {
  constructor(readonly mismatches: ReproductionMismatch[]) {
    super(
      `the pre build does not reproduce the shipped kernel (wrong source, config or toolchain):\n` +
        mismatches.slice(0, 10).map((m) => `  ${m.object}: ${m.function}+0x${m.offset.toString(16)}: ${m.reason}`).join('\n'),
    );
    this.name = 'ReproductionError';
  }
}

/**
 * A patch too wide to build (a header included by thousands of objects) may still say why it
 * needs custom code: a struct member added to `include/linux/sched.h` is a layout change of
 * struct task_struct, whatever the build would show. Refuse with those reasons (exit 2) rather
 * than only "too wide"; accepted or none, the build error stands.
 */
async function refuseWhatTheSourceShows(error: UnsupportedPatchError, patchText: Buffer, tree: string, ctx: { id: string; release: string; accept: string[] }): Promise<void> {
  const findings = await sourceSafetyFindings({ patchText: patchText.toString('utf8'), readPre: (file) => readFile(path.join(tree, file), 'utf8'), objects: [] });
  if (findings.length === 0) return;
  const names = new Set(ctx.accept);
  const unsafe = findings.filter((f) => !names.has(f.symbol));
  if (unsafe.length === 0) return;
  throw new UnsafePatchError({
    id: ctx.id, tarball: null, kernelRelease: ctx.release, changed: [], new: [], unsafe, accepted: findings.filter((f) => names.has(f.symbol)),
    notes: [`not built: ${error.message}`], reproduction: { checked: 0, shippedVmlinux: false }, timingsMs: {},
  });
}

/** The shipped kernel's `Linux version ...` line (it names the distribution's source version). */
function shippedBanner(shipped: ShippedKernel | null, map: SystemMapIndex): string | undefined {
  const at = map.unique('linux_banner');
  return (shipped && at !== undefined ? shipped.stringAt(at, 512) : null) ?? undefined;
}

export async function createUpdate(options: CreateOptions): Promise<CreateResult> {
  const log = options.log ?? stderrSink;
  const progress = new Progress('ksplice-create', options.analyzeOnly ? 6 : 8, log);
  const patchText = await readFile(options.patchPath);

  progress.step('checking the kernel inputs');
  const inputs = await resolveKernelInputs(options.sourceDir, options.configDir);
  progress.info(`target ${inputs.release}, config dir ${inputs.configDir}`);
  if (!inputs.vmlinux && !options.skipReproductionCheck) throw new MissingVmlinuxError(inputs.configDir);

  progress.step('checking the toolchain');
  await checkToolchain({ config: inputs.config, vmlinux: inputs.vmlinux }, { allowMismatch: options.allowToolchainMismatch, log });

  // The hooks are part of the update: other hook code, another update.
  const hooksText = options.hooksPath ? await readFile(options.hooksPath) : null;
  const id = options.id ?? (hooksText ? updateIdFor(patchText, inputs.release, hooksText) : updateIdFor(patchText, inputs.release));
  const scratch = await mkdtemp(path.join(os.tmpdir(), `ksplice-create-${id}-`));
  try {
    progress.step('double build');
    const build = await doubleBuild({ tree: inputs.sourceDir, patchPath: options.patchPath, outDir: scratch, log }).catch(async (e: unknown) => {
      if (e instanceof UnsupportedPatchError) await refuseWhatTheSourceShows(e, patchText, inputs.sourceDir, { id, release: inputs.release, accept: options.accept ?? [] });
      throw e;
    });

    progress.step('reproduction check against the shipped vmlinux');
    // One index of System.map serves the reproduction check and the run-pre targets.
    const map = new SystemMapIndex(inputs.symbols);
    const shipped = inputs.vmlinux ? await openShippedKernel(inputs.vmlinux) : null;
    if (!shipped) progress.info('WARNING: reproduction check skipped (no vmlinux, as asked): the pre build is checked at apply time only (run-pre matching)');
    let checked = 0;
    const mismatches: ReproductionMismatch[] = [];
    const objects = new Map<string, { pre: ReturnType<typeof readElf>; post: ReturnType<typeof readElf> }>();
    for (const object of build.objects) {
      const pre = readElf(await readFile(path.join(build.preDir, object)));
      const post = readElf(await readFile(path.join(build.postDir, object)));
      objects.set(object, { pre, post });
      // A module's code is not in vmlinux: a static name it shares with built-in code would be compared with the wrong function.
      if (!shipped || build.homes[object] === 'module') continue;
      const report = checkReproduction(pre, object, map, shipped);
      checked += report.checked.length;
      mismatches.push(...report.mismatches);
    }
    if (mismatches.length > 0) throw new ReproductionError(mismatches);
    if (shipped) progress.info(`${checked} functions of the pre build equal the shipped code`);

    progress.step('diff');
    const diffs: { object: string; diff: DiffResult }[] = [];
    const result: CreateResult = {
      id, tarball: null, kernelRelease: inputs.release, changed: [], new: [], unsafe: [], accepted: [], notes: [],
      reproduction: { checked, shippedVmlinux: shipped !== null }, timingsMs: progress.timings,
    };
    for (const [object, { pre, post }] of objects) {
      const diff = diffObjects(pre, post);
      diffs.push({ object, diff });
      const summary = summarize(diff);
      result.changed.push(...summary.changed.map((f) => ({ object, function: f })));
      result.new.push(...summary.new.map((f) => ({ object, function: f })));
      result.unsafe.push(...diff.unsafe);
      result.notes.push(...diff.notes.map((n) => `${object}: ${n}`));
      for (const f of summary.removed) result.notes.push(`${object}: ${f} removed (its callers changed and are replaced)`);
      result.unsafe.push(...diff.exportChanges);
      const home = build.homes[object];
      if (home === 'module' && (summary.changed.length > 0 || summary.new.length > 0)) {
        result.unsafe.push({ symbol: object, reason: 'the object is part of a loadable module; updates of module code are not supported yet' });
      }
    }
    result.unsafe.push(...(await sourceSafetyFindings({
      patchText: patchText.toString('utf8'),
      readPre: (file) => readFile(path.join(inputs.sourceDir, file), 'utf8'),
      objects: diffs.map(({ object, diff }) => ({ object, changedFunctions: summarize(diff).changed })),
    })));
    for (const c of result.changed) progress.info(`changed: ${c.function} (${c.object})`);
    for (const n of result.new) progress.info(`new: ${n.function} (${n.object})`);

    progress.step('safety verdict');
    ({ unsafe: result.unsafe, accepted: result.accepted } = applyAccepts(result.unsafe, options.accept ?? []));
    for (const a of result.accepted) progress.info(`accepted: ${a.symbol}: ${a.reason}`);
    if (result.unsafe.length > 0) throw new UnsafePatchError(result);
    if (result.changed.length === 0 && result.new.length === 0) throw new NoChangesError(result);
    if (options.analyzeOnly) {
      progress.done(`${result.changed.length} changed, ${result.new.length} new function(s)`);
      return result;
    }

    progress.step('update module');
    const core = await buildCore(inputs.headersDir, inputs.release);
    const built = await buildUpdateModule({
      id, release: inputs.release, headersDir: inputs.headersDir, kmodDir: core.dir, workDir: path.join(scratch, 'module'),
      map, objects: diffs, hooksPath: options.hooksPath, log: (line) => progress.info(line),
    });

    progress.step('tarball');
    result.tarball = await writeUpdatePackage({
      id, release: inputs.release, sourceDir: inputs.sourceDir, config: inputs.config, patchPath: options.patchPath,
      coreKo: core.ko, updateKo: built.ko, toolsDir: path.join(KMOD_DIR, 'tools'),
      changed: built.replaced, new: result.new,
      objects: build.objects.map((object) => ({ object, pre: path.join(build.preDir, object), post: path.join(build.postDir, object) })),
      outputDir: options.outputDir ?? process.cwd(),
      banner: shippedBanner(shipped, map),
    });
    progress.done(`${result.changed.length} changed, ${result.new.length} new function(s): ${result.tarball}`);
    return result;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

