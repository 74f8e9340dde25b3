/**
 * ksplice-create's pipeline, as one readable list of named steps (createUpdate below):
 *
 *   1. check the inputs        checkInputs: tree, config dir, real System.map, headers, release, shipped vmlinux
 *   2. check the toolchain     checkToolchain: refuse a compiler or binutils other than the target's
 *   3. double build            buildTwice: only the touched objects, pre and post, function sections
 *                              (a patch too wide to build is refused as `unsafe` when its source shows why)
 *   4. reproduction check      readAndCheckObjects: the pre build equals Debian's shipped vmlinux
 *   5. diff                    diffEachObject + sourceSafetyFindings: changed and new functions
 *                              (with their module), findings of every rule (src/diff/findings.ts)
 *   6. safety verdict          safetyVerdict: `unsafe` unless every finding is accepted, `no-changes`,
 *                              or `analyzed` (--analyze-only)
 *   7. update module           buildCore (src/kbuild/core-module.ts) + buildUpdateModule (update-module.ts),
 *                              both signed with the target's sign-file when a key is given (sign-module.ts)
 *   8. tarball                 writeUpdatePackage: ksplice-<id>.tar.gz in outputDir (`built`)
 *
 * The judgement is returned, never thrown: an outcome (outcome.ts) `built`, `analyzed`,
 * `no-changes` (exit 66) or `unsafe` (exit 2). Bad input (the user's to fix) and tool bugs are
 * exceptions (exit 1), as in kpatch.
 *
 * Usage: `const outcome = await createUpdate({ sourceDir, patchPath, analyzeOnly: true })`.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { diffObjects, summarize, type DiffResult } from '../diff/diff.ts';
import { describeFinding, finding, type Finding } from '../diff/findings.ts';
import { sourceSafetyFindings } from '../diff/source-rules.ts';
import { readElf } from '../elf/reader.ts';
import { checkToolchain } from '../kbuild/toolchain.ts';
import { Progress, stderrSink, type LogSink } from '../util/progress.ts';
import { doubleBuild, UnsupportedPatchError, type DoubleBuild } from './double-build.ts';
import { resolveKernelInputs, type KernelInputs } from './kernel-inputs.ts';
import { moduleOfObject } from './object-module.ts';
import { notCompiledNote, type CreateOutcome, type CreateReport, type FunctionEntry } from './outcome.ts';
import { checkReproduction, type ReproductionMismatch } from './reproduction-check.ts';
import { SystemMapIndex } from '../kbuild/system-map.ts';
import { openShippedKernel, type ShippedKernel } from './shipped-kernel.ts';
import { checkShippedModuleFor, linkShippedModule, moduleInfo, shippedModulePath, type LinkedModule } from './shipped-module.ts';
import { updateIdFor } from '../package/update-tarball.ts';
import { buildUpdateModule, ModuleSymbolsError } from './update-module.ts';
import { buildCore, signedCore } from '../kbuild/core-module.ts';
import { prepareSigner, type Signer, type SigningRequest } from '../kbuild/sign-module.ts';
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
  /**
   * Sign ksplice.ko and the update module for hosts that enforce module signatures (Secure Boot):
   * the key (PEM) and its certificate, checked before anything is built. The key is only handed to
   * the target's sign-file, never logged or packed; the manifest records the certificate's sha256.
   */
  signing?: SigningRequest;
  log?: LogSink;
}

/** --accept named something the analysis did not find (a typo would silently accept nothing). */
export class UnknownAcceptError extends Error {
  constructor(names: string[], findings: { symbol: string }[]) {
    super(`--accept names no finding: ${names.join(', ')} (findings: ${findings.map((f) => f.symbol).join(', ') || 'none'})`);
    this.name = 'UnknownAcceptError';
  }
}

/** --accept named a finding no custom code can make safe (a rule the table says is not acceptable). */
export class UnacceptableError extends Error {
  constructor(findings: Finding[]) {
    super(`cannot be accepted, change the patch instead:\n${findings.map((f) => `  ${describeFinding(f)}`).join('\n')}`);
    this.name = 'UnacceptableError';
  }
}

/**
 * The one accept filter: splits findings into accepted and still-refusing ones. A name accepts
 * every finding of that symbol; a finding whose rule is not acceptable cannot be accepted.
 * `complete`: the findings are the whole analysis (a built patch), so a name that matches none is
 * a typo and an error; for a patch too wide to build only the source rules ran, and a name may
 * stand for a finding the build would have shown.
 *
 * Example: accept ['cmdline_reads'] with findings cmdline_reads and free_uid → free_uid still refuses.
 */
export function applyAccepts(findings: Finding[], accept: readonly string[], complete = true): { unsafe: Finding[]; accepted: Finding[] } {
  const names = new Set(accept);
  const unknown = [...names].filter((n) => !findings.some((f) => f.symbol === n));
  if (complete && unknown.length > 0) throw new UnknownAcceptError(unknown, findings);
  const never = findings.filter((f) => names.has(f.symbol) && !f.acceptable);
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
        mismatches
          .slice(0, 10)
          .map((m) => `  ${m.object}: ${m.function}+0x${m.offset.toString(16)}: ${m.reason}`)
          .join('\n'),
    );
    this.name = 'ReproductionError';
  }
}

/**
 * A patch too wide to build (a header included by thousands of objects) may still say why it
 * needs custom code: a struct member added to `include/linux/sched.h` is a layout change of
 * struct task_struct, whatever the build would show. Those findings, through the one accept
 * filter, make an `unsafe` outcome rather than only "too wide"; none left, and null: the build
 * error stands.
 */
async function refuseWhatTheSourceShows(
  error: UnsupportedPatchError,
  patchText: Buffer,
  tree: string,
  report: CreateReport,
  accept: readonly string[],
): Promise<CreateOutcome | null> {
  const findings = await sourceSafetyFindings({
    patchText: patchText.toString('utf8'),
    readPre: (file) => readFile(path.join(tree, file), 'utf8'),
    objects: [],
  });
  const { unsafe, accepted } = applyAccepts(findings, accept, false);
  if (unsafe.length === 0) return null;
  return { ...report, outcome: 'unsafe', tarball: null, unsafe, accepted, notes: [`not built: ${error.message}`] };
}

/** The shipped kernel's `Linux version ...` line (it names the distribution's source version). */
function shippedBanner(shipped: ShippedKernel | null, map: SystemMapIndex): string | undefined {
  const at = map.unique('linux_banner');
  return (shipped && at !== undefined ? shipped.stringAt(at, 512) : null) ?? undefined;
}

/** Step 1: the tree, its config dir and the shipped vmlinux the reproduction check needs. */
async function checkInputs(options: CreateOptions, progress: Progress): Promise<KernelInputs> {
  const inputs = await resolveKernelInputs(options.sourceDir, options.configDir);
  progress.info(`target ${inputs.release}, config dir ${inputs.configDir}`);
  if (!inputs.vmlinux && !options.skipReproductionCheck) throw new MissingVmlinuxError(inputs.configDir);
  return inputs;
}

/**
 * Step 1 too: a signing key is checked before anything is built (readable, the certificate's pair,
 * a target that checks module signatures), so a refusal costs no build.
 */
async function prepareSigning(options: CreateOptions, inputs: KernelInputs, progress: Progress): Promise<Signer | null> {
  if (!options.signing) return null;
  const signer = await prepareSigner({
    ...options.signing,
    configText: await readFile(inputs.config, 'utf8'),
    sourceDir: inputs.sourceDir,
    headersDir: inputs.headersDir,
  });
  progress.info(`modules will be signed: ${signer.identity.hashAlgorithm}, certificate ${signer.identity.certificateSubject}`);
  return signer;
}

/** Step 3: the double build, or the `unsafe` outcome of a patch too wide to build whose source shows why. */
async function buildTwice(
  options: CreateOptions,
  patchText: Buffer,
  inputs: KernelInputs,
  outDir: string,
  report: CreateReport,
  log: LogSink,
): Promise<DoubleBuild | CreateOutcome> {
  try {
    return await doubleBuild({ tree: inputs.sourceDir, patchPath: options.patchPath, outDir, log });
  } catch (e) {
    const refusal =
      e instanceof UnsupportedPatchError
        ? await refuseWhatTheSourceShows(e, patchText, inputs.sourceDir, report, options.accept ?? [])
        : null;
    if (refusal) return refusal;
    throw e;
  }
}

type ObjectPair = { pre: ReturnType<typeof readElf>; post: ReturnType<typeof readElf> };

/** No shipped modules to check a module's pre build against, and no opt-out asked (exit 1). */
export class MissingShippedModulesError extends Error {
  constructor(configDir: string, objects: string[]) {
    super(
      `no modules in ${configDir}: the reproduction check compares the pre build of ${objects.join(', ')} with the shipped module; ` +
        `link the target's /lib/modules/<release> there as modules, or pass --skip-reproduction-check`,
    );
    this.name = 'MissingShippedModulesError';
  }
}

interface ShippedCode {
  /** The shipped vmlinux and its System.map; null: the check was skipped, as asked. */
  vmlinux: { kernel: ShippedKernel; map: SystemMapIndex } | null;
  /** The target's /lib/modules/<release>, for module objects. */
  modulesDir: string | undefined;
  /** The target's release: every shipped module must have been built for it. */
  release: string;
  configDir: string;
}

/**
 * Step 4: reads each pre and post object, and checks that every function of each pre object
 * equals the shipped code (ReproductionError otherwise): built-in code against the shipped
 * vmlinux, a module's code against that module's shipped .ko (src/create/shipped-module.ts),
 * never against vmlinux, where a static name it shares with built-in code would be another
 * function.
 */
async function readAndCheckObjects(
  build: DoubleBuild,
  tree: string,
  shipped: ShippedCode,
): Promise<{ objects: Map<string, ObjectPair>; checked: number; linked: Map<string, LinkedModule> }> {
  let checked = 0;
  const mismatches: ReproductionMismatch[] = [];
  const objects = new Map<string, ObjectPair>();
  const linked = new Map<string, LinkedModule>();
  const moduleObjects = build.objects.filter((o) => build.homes[o] === 'module');
  if (shipped.vmlinux && moduleObjects.length > 0 && !shipped.modulesDir)
    throw new MissingShippedModulesError(shipped.configDir, moduleObjects);
  for (const object of build.objects) {
    const pre = readElf(await readFile(path.join(build.preDir, object)));
    const post = readElf(await readFile(path.join(build.postDir, object)));
    objects.set(object, { pre, post });
    if (!shipped.vmlinux) continue;
    let against: { kernel: ShippedKernel; map: SystemMapIndex } = shipped.vmlinux;
    if (build.homes[object] === 'module') {
      const module = await moduleOfObject(tree, object, 'module');
      if (!linked.has(module)) {
        const where = await shippedModulePath(shipped.modulesDir!, module);
        const ko = readElf(await readFile(where));
        checkShippedModuleFor(shipped.release, module, moduleInfo(ko), where);
        linked.set(module, linkShippedModule(ko));
      }
      against = linked.get(module)!;
    }
    const report = checkReproduction(pre, object, against.map, against.kernel);
    checked += report.checked.length;
    mismatches.push(...report.mismatches);
  }
  if (mismatches.length > 0) throw new ReproductionError(mismatches);
  return { objects, checked, linked };
}

/**
 * Step 5: each object's diff, its changed and new functions named with their module, its notes,
 * and the findings of the object rules. Module code is updated like built-in code (the engine
 * locates it in the loaded module); what it cannot do yet is refused at the update module step.
 */
async function diffEachObject(
  objects: Map<string, ObjectPair>,
  build: DoubleBuild,
  tree: string,
): Promise<{
  diffs: { object: string; diff: DiffResult; module: string }[];
  changed: FunctionEntry[];
  new: FunctionEntry[];
  notes: string[];
  findings: Finding[];
}> {
  const out = {
    diffs: [] as { object: string; diff: DiffResult; module: string }[],
    changed: [] as FunctionEntry[],
    new: [] as FunctionEntry[],
    notes: [] as string[],
    findings: [] as Finding[],
  };
  for (const [object, { pre, post }] of objects) {
    const diff = diffObjects(pre, post);
    const summary = summarize(diff);
    const module = await moduleOfObject(tree, object, build.homes[object] ?? 'vmlinux');
    out.diffs.push({ object, diff, module });
    out.changed.push(...summary.changed.map((f) => ({ object, function: f, module })));
    out.new.push(...summary.new.map((f) => ({ object, function: f, module })));
    out.findings.push(...summary.unsafe);
    out.notes.push(...diff.notes.map((n) => `${object}: ${n}`));
    for (const f of summary.removed) out.notes.push(`${object}: ${f} removed (its callers changed and are replaced)`);
  }
  return out;
}

/**
 * Step 6: the findings not accepted refuse the update (`unsafe`); with none, an update that
 * replaces and adds nothing is `no-changes`; otherwise null: the update is made.
 */
function safetyVerdict(report: CreateReport, findings: Finding[], accept: readonly string[]): 'unsafe' | 'no-changes' | null {
  ({ unsafe: report.unsafe, accepted: report.accepted } = applyAccepts(findings, accept));
  if (report.unsafe.length > 0) return 'unsafe';
  if (report.changed.length === 0 && report.new.length === 0) return 'no-changes';
  return null;
}

export async function createUpdate(options: CreateOptions): Promise<CreateOutcome> {
  const log = options.log ?? stderrSink;
  const progress = new Progress('ksplice-create', options.analyzeOnly ? 6 : 8, log);
  const patchText = await readFile(options.patchPath);

  progress.step('checking the kernel inputs');
  const inputs = await checkInputs(options, progress);
  const signer = await prepareSigning(options, inputs, progress);

  progress.step('checking the toolchain');
  await checkToolchain({ config: inputs.config, vmlinux: inputs.vmlinux }, { allowMismatch: options.allowToolchainMismatch, log });

  // The hooks are part of the update: other hook code, another update.
  const hooksText = options.hooksPath ? await readFile(options.hooksPath) : null;
  const id = options.id ?? (hooksText ? updateIdFor(patchText, inputs.release, hooksText) : updateIdFor(patchText, inputs.release));
  const report: CreateReport = {
    id,
    kernelRelease: inputs.release,
    changed: [],
    new: [],
    unsafe: [],
    accepted: [],
    notes: [],
    reproduction: { checked: 0, shippedVmlinux: false, shippedModules: [] },
    timingsMs: progress.timings,
  };
  const scratch = await mkdtemp(path.join(os.tmpdir(), `ksplice-create-${id}-`));
  try {
    progress.step('double build');
    const build = await buildTwice(options, patchText, inputs, scratch, report, log);
    if ('outcome' in build) return build;

    progress.step('reproduction check against the shipped vmlinux and modules');
    // One index of System.map serves the reproduction check and the run-pre targets.
    const map = new SystemMapIndex(inputs.symbols);
    const shipped = inputs.vmlinux ? await openShippedKernel(inputs.vmlinux) : null;
    if (!shipped)
      progress.info(
        'WARNING: reproduction check skipped (no vmlinux, as asked): the pre build is checked at apply time only (run-pre matching)',
      );
    const { objects, checked, linked } = await readAndCheckObjects(build, inputs.sourceDir, {
      vmlinux: shipped ? { kernel: shipped, map } : null,
      modulesDir: inputs.modulesDir,
      configDir: inputs.configDir,
      release: inputs.release,
    });
    const modules = [...linked.keys()];
    report.reproduction = { checked, shippedVmlinux: shipped !== null, shippedModules: modules };
    if (shipped)
      progress.info(
        `${checked} functions of the pre build equal the shipped code${modules.length > 0 ? ` (vmlinux, ${modules.map((m) => `${m}.ko`).join(', ')})` : ''}`,
      );

    progress.step('diff');
    const { diffs, changed, new: added, notes, findings } = await diffEachObject(objects, build, inputs.sourceDir);
    // A touched file this config does not compile (a module that is `not set`): said, by name.
    const notCompiled = build.notBuilt.map((f) => notCompiledNote(f, inputs.release));
    Object.assign(report, { changed, new: added, notes: [...notCompiled, ...notes] });
    findings.push(
      ...(await sourceSafetyFindings({
        patchText: patchText.toString('utf8'),
        readPre: (file) => readFile(path.join(inputs.sourceDir, file), 'utf8'),
        objects: diffs.map(({ object, diff }) => ({ object, changedFunctions: summarize(diff).changed })),
      })),
    );
    for (const c of report.changed) progress.info(`changed: ${c.function} (${c.object}, ${c.module})`);
    for (const n of report.new) progress.info(`new: ${n.function} (${n.object}, ${n.module})`);

    progress.step('safety verdict');
    const refusal = safetyVerdict(report, findings, options.accept ?? []);
    for (const a of report.accepted) progress.info(`accepted: ${describeFinding(a)}`);
    if (refusal) return { ...report, outcome: refusal, tarball: null };
    if (options.analyzeOnly) {
      progress.done(`${report.changed.length} changed, ${report.new.length} new function(s)`);
      return { ...report, outcome: 'analyzed', tarball: null };
    }

    progress.step('update module');
    const core = await buildCore(inputs.headersDir, inputs.release);
    const coreKo = signer ? await signedCore(core, signer, path.join(scratch, 'ksplice.ko')) : core.ko;
    let built;
    try {
      built = await buildUpdateModule({
        id,
        release: inputs.release,
        headersDir: inputs.headersDir,
        kmodDir: core.dir,
        workDir: path.join(scratch, 'module'),
        map,
        objects: diffs,
        shippedModules: linked,
        hooksPath: options.hooksPath,
        log: (line) => progress.info(line),
      });
    } catch (e) {
      // Module code whose jump labels or static calls refer to the module's own symbols.
      if (!(e instanceof ModuleSymbolsError)) throw e;
      const refusal = finding(
        'module-code',
        e.object,
        `the object is part of a loadable module (${e.module}); entries the kernel reads when the update loads refer to the module's own ${e.names.slice(0, 5).join(', ')}${e.names.length > 5 ? ` and ${e.names.length - 5} more` : ''}`,
      );
      return { ...report, outcome: 'unsafe', tarball: null, unsafe: [refusal] };
    }
    if (signer) {
      await signer.sign(built.ko, built.ko);
      progress.info(
        `signed ksplice.ko and ${path.basename(built.ko)} (${signer.identity.hashAlgorithm}, certificate sha256 ${signer.identity.certificateSha256})`,
      );
    }

    progress.step('tarball');
    const tarball = await writeUpdatePackage({
      id,
      release: inputs.release,
      sourceDir: inputs.sourceDir,
      config: inputs.config,
      patchPath: options.patchPath,
      coreKo,
      updateKo: built.ko,
      toolsDir: path.join(KMOD_DIR, 'tools'),
      changed: built.replaced,
      new: report.new.map(({ object, function: fn }) => ({ object, function: fn })),
      objects: build.objects.map((object) => ({ object, pre: path.join(build.preDir, object), post: path.join(build.postDir, object) })),
      outputDir: options.outputDir ?? process.cwd(),
      banner: shippedBanner(shipped, map),
      moduleSignature: signer?.identity,
    });
    progress.done(`${report.changed.length} changed, ${report.new.length} new function(s): ${tarball}`);
    return { ...report, outcome: 'built', tarball };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
