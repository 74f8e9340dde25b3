/**
 * Test helper: "stub" update modules, for run-pre matching only (`echo check`, never applied).
 * Each holds the pre code of functions of one Debian object with their run-pre sites, made by the
 * create stage's own material (src/create/run-pre-sites.ts, update-descriptor.ts) and built with
 * kbuild against the target's headers; the new code is empty stubs. Deliberately broken variants
 * test the engine's refusals: a corrupted pre byte, a forced (wrong) sympos, no sympos at all.
 *
 * Usage:
 *   const stub = await buildStubUpdate(ctx, { id: 'pipechk', object: 'fs/pipe.o' });          // every traceable function
 *   await buildStubUpdate(ctx, { id: 'badchk', object: 'fs/pipe.o', corruptPreByte: 5 });     // first function, +5 flipped
 *   await buildStubUpdate(ctx, { id: 'ambchk', object: 'kernel/kallsyms.o', functions: ['s_stop'], sympos: 'none' });
 * and in the guest: test/fixtures/kmod/scenario-check.sh with the core (buildCore) and the modules.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { coldPartOf, RunPreError, runPreTarget, type RunPreTarget, type SiteKind } from '../../src/create/run-pre-sites.ts';
import { descriptorSource, newFunctionName } from '../../src/create/update-descriptor.ts';
import { kbuildModule } from '../../src/create/update-module.ts';
import { readElf } from '../../src/elf/reader.ts';
import { STB_WEAK, STT_FUNC, type ElfObject } from '../../src/elf/types.ts';
import { kbuildArgs } from '../../src/kbuild/flags.ts';
import type { SystemMapIndex } from '../../src/kbuild/system-map.ts';
import type { TargetKernel } from '../../src/setup/target-kernel.ts';
import { run } from '../../src/util/exec.ts';
import { withLock } from '../../src/util/lock.ts';

export interface StubContext {
  target: TargetKernel;
  map: SystemMapIndex;
  /** The core's folder (its Module.symvers must exist: buildCore first). */
  kmodDir: string;
  scratch: string;
}

export interface StubOptions {
  id: string;
  object: string;
  /** Default: every function with a `.text.<name>` section of its own that ftrace can redirect (weak ones left out). */
  functions?: string[];
  /** Flip this byte of the first function's pre code (chosen where no run-pre site lies). */
  corruptPreByte?: number;
  /** 'none': no address and no sympos, run-pre matching must choose among every copy; a number: forced for the first function. */
  sympos?: 'none' | number;
}

export interface StubUpdate {
  module: string;
  /** Every entry, `.cold` companions included, in descriptor order. */
  functions: string[];
  /** Functions left out of an every-function stub (no fentry, not in System.map). */
  skipped: number;
  sites: Partial<Record<SiteKind, number>>;
}

/** Functions of `pre` an every-function stub covers. */
function ownSectionFunctions(pre: ElfObject): string[] {
  return pre.symbols
    .filter((fn) => fn.type === STT_FUNC && fn.size > 0 && fn.bind !== STB_WEAK && fn.section?.name === `.text.${fn.name}`)
    .map((fn) => fn.name);
}

export async function buildStubUpdate(ctx: StubContext, options: StubOptions): Promise<StubUpdate> {
  const dir = path.join(ctx.scratch, options.id);
  await mkdir(dir, { recursive: true });
  await withLock(`${ctx.target.sourceDir}.build.lock`, async () => {
    await run('make', [...kbuildArgs(ctx.target.sourceDir, 2), options.object]);
    await copyFile(path.join(ctx.target.sourceDir, options.object), path.join(dir, 'pre.o'));
  });
  const pre = readElf(await readFile(path.join(dir, 'pre.o')));
  const every = options.functions === undefined;
  const targets: (RunPreTarget & { newFunction?: string })[] = [];
  let skipped = 0;
  for (const name of options.functions ?? ownSectionFunctions(pre)) {
    try {
      targets.push({ ...runPreTarget(pre, name, ctx.map), newFunction: newFunctionName(name) });
      const cold = coldPartOf(pre, name);
      if (cold) targets.push(runPreTarget(pre, cold, ctx.map, true));
    } catch (e) {
      if (!(e instanceof RunPreError) || !every) throw e;
      skipped++;
    }
  }
  if (targets.length === 0) throw new Error(`${options.object}: no function to stub`);
  if (options.corruptPreByte !== undefined) {
    const at = options.corruptPreByte;
    const victim = targets.find((t) => t.pre.length > at && !t.sites.some((s) => s.offset <= at && at < s.offset + s.length));
    if (!victim) throw new Error(`${options.object}: no function with a plain byte at +${at}`);
    targets.splice(targets.indexOf(victim), 1);
    targets.unshift(victim);
    victim.pre[at] ^= 0xff; // deliberately wrong pre code: run-pre matching must refuse it
  }
  if (options.sympos === 'none') for (const t of targets) if (t.candidates.length > 1) t.sympos = 0;
  if (typeof options.sympos === 'number') targets[0].sympos = options.sympos; // possibly wrong, on purpose
  const sites: Partial<Record<SiteKind, number>> = {};
  for (const t of targets) for (const s of t.sites) sites[s.kind] = (sites[s.kind] ?? 0) + 1;
  await writeFile(
    path.join(dir, 'descriptor.c'),
    descriptorSource({
      id: options.id,
      release: ctx.target.release,
      targets,
      livepatch: false,
      printkMapAddr: ctx.map.unique('_printk')!,
      stopMachineMapAddr: ctx.map.unique('stop_machine')!,
    }),
  );
  const stubs = targets.filter((t) => t.newFunction).map((t) => `void ${t.newFunction}(void);\nvoid ${t.newFunction}(void) { }`);
  await writeFile(
    path.join(dir, 'stubs.c'),
    `/* STUBS: this update exists to be run-pre matched ("check"), NEVER applied. */\n${stubs.join('\n')}\n`,
  );
  const module = await kbuildModule({
    dir,
    moduleName: `ksplice_${options.id}`,
    parts: ['descriptor.o', 'stubs.o'],
    headersDir: ctx.target.headersDir,
    kmodDir: ctx.kmodDir,
    unresolvedAllowed: false,
  });
  return { module, functions: targets.map((t) => t.name), skipped, sites };
}
