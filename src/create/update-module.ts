/**
 * Step 7 of ksplice-create: the per-update module `ksplice_<id>.ko`, made from the PRE and POST
 * objects of the double build.
 *
 *   1. the new code: every shipped post function extracted (src/diff/extract.ts) with the
 *      special-section entries that travel with it, renamed `ksplice_new_<name>` so no kernel
 *      name is defined twice, written as an object that kbuild links in as a prebuilt part;
 *   2. the descriptor `descriptor.c`: each replaced function's pre code, sites and System.map
 *      address(es) (run-pre-sites.ts), its `.cold` part as a companion, `new_func` pointing at
 *      the renamed post code;
 *   3. kbuild against the target's headers and the core's Module.symvers (modversions);
 *   4. references to kernel symbols neither in the module nor exported become livepatch
 *      relocations the module loader resolves (klp-relocations.ts), `livepatch=Y` in modinfo.
 *
 * Targets in a loadable module (objects[].module) carry the module's name and no System.map address
 * (run-pre-sites.ts runPreModuleTarget); the engine finds them in the loaded module.
 *
 * Limits (refused with a message, or left to the engine): new code of a module referring to that
 * module's non-exported symbols (its statics: the engine would have to relocate against the loaded
 * instance); new code referring to anonymous data of the patched file (a section with
 * no symbol: no kallsyms name to resolve; literal-constant pools are copied instead, extract.ts);
 * a jump label whose target lies outside its function; notrace functions (ftrace cannot redirect
 * them). Among several kernel symbols of one name, the copy nearest to where the patched object
 * landed in System.map is chosen (sympos).
 *
 * Usage:
 *   const built = await buildUpdateModule({ id, release, headersDir, kmodDir, workDir, map, objects: [{ object, diff }] });
 *   built.ko   // path of ksplice_<id>.ko
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { shippedFunctions, type DiffResult } from '../diff/diff.ts';
import { extractFunctions, type ExtractedObject } from '../diff/extract.ts';
import { isColdPart } from '../diff/names.ts';
import { readElf } from '../elf/reader.ts';
import { STB_GLOBAL, STT_FUNC, type ElfObject } from '../elf/types.ts';
import { writeElf } from '../elf/writer.ts';
import { buildExternalModule } from '../kbuild/external-module.ts';
import {
  MODULE_REF_PREFIX,
  moduleOwnNames,
  readExportOwners,
  renameModuleRefs,
  toKlpRelocations,
  toModuleKlpRelocations,
  unresolvedNames,
} from './klp-relocations.ts';
import type { LinkedModule } from './shipped-module.ts';
import {
  anchorFor,
  coldPartOf,
  nearestPosition,
  objectAnchor,
  RunPreError,
  runPreModuleTarget,
  runPreTarget,
  type RunPreTarget,
} from './run-pre-sites.ts';
import type { SystemMapIndex } from '../kbuild/system-map.ts';
import { descriptorSource, newFunctionName, type LoadedSymbol } from './update-descriptor.ts';
import { HOOK_SYMBOL_PREFIX, hookRegistrations, unregisteredHooks, type HookRegistration } from './hooks.ts';

export interface UpdateModuleInput {
  id: string;
  release: string;
  headersDir: string;
  /** The built core's folder (buildCore, src/kbuild/core-module.ts): ksplice_update.h and the core's Module.symvers. */
  kmodDir: string;
  /** An empty scratch folder for the kbuild run. */
  workDir: string;
  map: SystemMapIndex;
  /** `module`: the loadable module the object is part of (object-module.ts); absent or 'vmlinux' for built-in code. */
  objects: { object: string; diff: DiffResult; module?: string }[];
  /** The shipped modules the reproduction check linked, by name: where a module-own name has several copies, which one. */
  shippedModules?: ReadonlyMap<string, LinkedModule>;
  /** The patch author's hook source (kmod/ksplice_hooks.h), compiled in as hooks.o. */
  hooksPath?: string;
  log?: (line: string) => void;
}

export interface ReplacedFunction {
  object: string;
  function: string;
  /** System.map address (hex) of the replaced copy; absent in a loadable module (located by name at apply). */
  address?: string;
}

export interface BuiltUpdateModule {
  ko: string;
  moduleName: string;
  replaced: ReplacedFunction[];
  /** `.klp.sym.vmlinux.NAME,POS` symbols the loader resolves; empty when every reference is exported. */
  klpSymbols: string[];
}

export class UpdateModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpdateModuleError';
  }
}

/**
 * New code of a module's object that refers to that module's own symbols from a section the
 * kernel reads when the update module loads (a jump label or static call entry): the core writes
 * those references only once the target module is there, too late. create.ts turns it into a
 * `module-code` refusal.
 */
export class ModuleSymbolsError extends UpdateModuleError {
  constructor(
    readonly object: string,
    readonly module: string,
    readonly names: string[],
  ) {
    super(`${object}: the new code's load-time entries refer to ${names.join(', ')} of module ${module}: not supported`);
    this.name = 'ModuleSymbolsError';
  }
}

/** Renames every copied function `ksplice_new_<name>` and makes it global (the descriptor names it). */
function renameNewCode(code: ExtractedObject): void {
  for (const sym of code.symbols) {
    if (sym.type !== STT_FUNC || sym.section === null) continue;
    sym.name = newFunctionName(sym.name);
    sym.bind = STB_GLOBAL;
  }
}

/**
 * The engine's entries for one object: a target per changed part (redirected to its renamed post
 * copy), and the pre `.cold` part of each target as a companion (the old code may be in it).
 *
 * Example: `_printk` changed, pre has no `_printk.cold` → one target `_printk` → `ksplice_new__printk`.
 */
function targetsOf(
  diff: DiffResult,
  map: SystemMapIndex,
  module?: string,
  shipped?: LinkedModule,
): (RunPreTarget & { newFunction?: string })[] {
  const targets: (RunPreTarget & { newFunction?: string })[] = [];
  const runPre = (name: string, companion = false): RunPreTarget =>
    module
      ? { ...runPreModuleTarget(diff.pre, name, map, module, companion), sympos: moduleFunctionPosition(name, diff.pre, shipped) }
      : runPreTarget(diff.pre, name, map, companion);
  const companions = new Set<string>();
  for (const change of diff.changed) {
    for (const part of change.parts) {
      if (part.status !== 'changed' || !part.pre) continue;
      if (isColdPart(part.pre.name)) {
        companions.add(part.pre.name);
        continue;
      }
      targets.push({ ...runPre(part.pre.name), newFunction: newFunctionName(part.name) });
      const cold = coldPartOf(diff.pre, part.pre.name);
      if (cold) companions.add(cold);
    }
  }
  for (const name of companions) targets.push(runPre(name, true));
  return targets;
}

/**
 * kallsyms position of a non-exported name for its klp symbol: 0 when System.map has it once,
 * else the copy nearest to where the patched object landed.
 */
function klpPosition(name: string, map: SystemMapIndex, anchor: bigint): number {
  const candidates = map.addresses(name);
  if (candidates.length === 0) throw new UpdateModuleError(`the new code refers to '${name}', which is neither exported nor in System.map`);
  if (candidates.length === 1) return 0;
  return nearestPosition(candidates, anchor);
}

/**
 * What the core checks the loader's resolution against: for each non-exported name, the System.map
 * address of the copy its klp position selects (the unique one, or candidates[pos - 1]).
 */
function loadedSymbolsOf(unresolved: ReadonlyMap<string, bigint>, map: SystemMapIndex): LoadedSymbol[] {
  return [...unresolved.entries()].map(([name, anchor]) => {
    const position = klpPosition(name, map, anchor);
    const mapAddr = map.addresses(name)[Math.max(position, 1) - 1]!;
    return { name, mapAddr, isPercpu: map.isPerCpu(mapAddr) };
  });
}

/** An update module (or a test's stub): built against the target's headers with the core's Module.symvers and ABI header. */
export function kbuildModule(opts: {
  dir: string;
  moduleName: string;
  parts: string[];
  headersDir: string;
  kmodDir: string;
  unresolvedAllowed: boolean;
}): Promise<string> {
  const { kmodDir, ...rest } = opts;
  return buildExternalModule({ ...rest, extraSymbols: [path.join(kmodDir, 'Module.symvers')], includeDirs: [kmodDir] });
}

export async function buildUpdateModule(input: UpdateModuleInput): Promise<BuiltUpdateModule> {
  const log = input.log ?? (() => {});
  const moduleName = `ksplice_${input.id.replace(/-/g, '_')}`;
  await mkdir(input.workDir, { recursive: true });
  const targets: (RunPreTarget & { newFunction?: string })[] = [];
  const replaced: ReplacedFunction[] = [];
  const parts = ['descriptor.o'];
  /** Each unresolved name → where its object's symbols of the same kind landed (to pick its copy). */
  const unresolved = new Map<string, bigint>();
  const symvers = [path.join(input.headersDir, 'Module.symvers'), path.join(input.kmodDir, 'Module.symvers')];
  const exportOwners = await readExportOwners(symvers);
  const exported = new Set(exportOwners.keys());
  /** Per target module: the module-own names its new code refers to (resolved by the core). */
  const moduleRefs = new Map<string, { object: string; pre: ElfObject; names: Set<string> }>();
  for (const [i, { object, diff, module: home }] of input.objects.entries()) {
    const shipped = shippedFunctions(diff);
    if (shipped.length === 0) continue;
    const module = home && home !== 'vmlinux' ? home : undefined;
    let objectTargets;
    try {
      objectTargets = targetsOf(diff, input.map, module, module ? input.shippedModules?.get(module) : undefined);
    } catch (e) {
      if (e instanceof RunPreError) throw new UpdateModuleError(`${object}: ${e.message}`);
      throw e;
    }
    targets.push(...objectTargets);
    for (const t of objectTargets.filter((t) => !t.companion)) {
      if (module) {
        replaced.push({ object, function: t.name });
        continue;
      }
      const address = t.mapAddr || t.candidates[t.sympos - 1] || t.candidates[0]!;
      replaced.push({ object, function: t.name, address: address.toString(16).padStart(16, '0') });
    }
    const code = extractFunctions(diff.post, shipped, { data: diff.newData.map((s) => s.name), correlation: diff.correlation });
    const sectionRefs = code.externals.filter((e) => e.kind === 'section');
    if (sectionRefs.length > 0) {
      throw new UpdateModuleError(
        `${object}: the new code refers to anonymous data (${sectionRefs.map((e) => e.name).join(', ')}), which the running kernel cannot name`,
      );
    }
    renameNewCode(code);
    if (module) {
      // Module code reaches exports through the loader; the module's own symbols (statics, its
      // own exports) wait for the core, which resolves them against the loaded instance.
      const own = moduleOwnNames(code, exportOwners, module);
      renameModuleRefs(code, own);
      if (own.length > 0)
        moduleRefs.set(module, { object, pre: diff.pre, names: new Set([...(moduleRefs.get(module)?.names ?? []), ...own]) });
    } else {
      for (const name of unresolvedNames(code, exported))
        if (!unresolved.has(name)) unresolved.set(name, anchorFor(diff.pre, name, input.map));
    }
    const part = `post-${i}.o`;
    await writeFile(path.join(input.workDir, `${part}_shipped`), writeElf(code));
    // modpost reads every object's .cmd file (srcversion); kbuild's `_shipped` copy writes none.
    await writeFile(path.join(input.workDir, `.${part}.cmd`), `savedcmd_${part} := cat ${part}_shipped > ${part}\n`);
    parts.push(part);
    log(`${object}: ${shipped.length} function(s) of new code, ${objectTargets.length} run-pre target(s)`);
  }
  if (targets.length === 0) throw new UpdateModuleError('nothing to replace: no changed function has a pre partner');

  let hooks: HookRegistration[] = [];
  if (input.hooksPath) {
    const source = await readFile(input.hooksPath, 'utf8');
    hooks = hookRegistrations(source);
    await writeFile(path.join(input.workDir, 'hooks.c'), source);
    parts.push('hooks.o');
    log(`hooks: ${hooks.map((h) => `${h.stage}(${h.fn})`).join(', ') || 'none registered'} from ${input.hooksPath}`);
  }
  // Hook code may reach non-exported kernel symbols too: those are only known after the build.
  const livepatch = unresolved.size > 0 || moduleRefs.size > 0 || input.hooksPath !== undefined;
  const build = async (): Promise<string> => {
    await writeFile(
      path.join(input.workDir, 'descriptor.c'),
      descriptorSource({
        id: input.id,
        release: input.release,
        targets,
        livepatch,
        loadedSymbols: loadedSymbolsOf(unresolved, input.map),
        printkMapAddr: mustUnique(input.map, '_printk'),
        stopMachineMapAddr: mustUnique(input.map, 'stop_machine'),
        hooks,
        modulesMapAddr: targets.some((t) => t.module) ? mustUnique(input.map, 'modules') : undefined,
        textPoke:
          moduleRefs.size > 0 ? { poke: mustUnique(input.map, 'text_poke'), mutex: mustUnique(input.map, 'text_mutex') } : undefined,
      }),
    );
    return kbuildModule({
      dir: input.workDir,
      moduleName,
      parts,
      headersDir: input.headersDir,
      kmodDir: input.kmodDir,
      unresolvedAllowed: livepatch,
    });
  };
  let ko = await build();
  if (input.hooksPath) {
    const module: ElfObject = readElf(await readFile(ko));
    const missed = unregisteredHooks(module, hooks);
    if (missed.length > 0)
      throw new UpdateModuleError(
        `hook registrations ksplice-create could not read in ${input.hooksPath}: ${missed.join(', ')} (write each ksplice_<stage>(fn); on a line of its own)`,
      );
    const anchorObject = input.objects[0]!.diff.pre;
    const before = unresolved.size;
    for (const name of unresolvedNames(module, exported)) {
      if (!unresolved.has(name) && !name.startsWith(HOOK_SYMBOL_PREFIX) && !name.startsWith(MODULE_REF_PREFIX))
        unresolved.set(name, anchorFor(anchorObject, name, input.map));
    }
    // The hooks' own kernel symbols get their apply-time check too: one more (small) kbuild run.
    if (unresolved.size > before) ko = await build();
  }
  let klpSymbols: string[] = [];
  if (unresolved.size > 0 || moduleRefs.size > 0) {
    const module: ElfObject = readElf(await readFile(ko));
    if (unresolved.size > 0) {
      klpSymbols = toKlpRelocations(module, [...unresolved.keys()], (name) => klpPosition(name, input.map, unresolved.get(name)!));
      log(`livepatch relocations for ${klpSymbols.join(', ')}, each checked at apply against System.map + slide`);
    }
    for (const [target, refs] of moduleRefs) {
      const shipped = input.shippedModules?.get(target);
      const { made, refused } = toModuleKlpRelocations(module, target, (name) => modulePosition(name, refs.pre, shipped));
      if (refused.length > 0) {
        const what = [...new Set(refused.map((r) => `${r.name} (from ${r.section})`))];
        throw new ModuleSymbolsError(refs.object, target, what);
      }
      klpSymbols.push(...made);
      log(`references into module ${target} for ${made.join(', ')}: resolved by the core in the loaded module`);
    }
    await writeFile(ko, writeElf(module));
  }
  return { ko, moduleName, replaced, klpSymbols };
}

/**
 * Position of a module-own name among the same-named symbols of the shipped .ko (the order the
 * module's kallsyms keeps): 0 when the name is unique (the core then insists it is), else the copy
 * nearest to where this object's code landed in the linked module, like vmlinux sympos.
 */
function modulePosition(name: string, pre: ElfObject, shipped: LinkedModule | undefined): number {
  const candidates = shipped?.map.addresses(name) ?? [];
  if (candidates.length <= 1) return 0;
  try {
    return nearestPosition(candidates, anchorFor(pre, name, shipped!.map));
  } catch (e) {
    if (e instanceof RunPreError) return 0; // no anchor: the core refuses an ambiguous name at apply
    throw e;
  }
}

/**
 * sympos of a target function in a composite module whose objects define several static functions
 * of that name (the engine counts functions only, in kallsyms order): 0 when unique.
 */
function moduleFunctionPosition(name: string, pre: ElfObject, shipped: LinkedModule | undefined): number {
  const candidates = shipped?.functionAddresses(name) ?? [];
  if (candidates.length <= 1) return 0;
  return nearestPosition(candidates, objectAnchor(pre, shipped!.map));
}

function mustUnique(map: SystemMapIndex, name: string): bigint {
  const a = map.unique(name);
  if (a === undefined) throw new UpdateModuleError(`${name} is not in System.map exactly once`);
  return a;
}
