/**
 * The reproduction check: before an update ships, prove that the pre build reproduces the
 * shipped kernel. Every function of each pre object that the shipped vmlinux has (by System.map
 * name) must equal the vmlinux bytes at its System.map address, byte for byte outside relocation
 * sites, and every relocation site must point where the pre object says it points.
 *
 * A mismatch means the wrong source, config or toolchain: the update would be built against
 * code that is not running, so ksplice-create stops with the function and offset named. (The
 * engine's run-pre matching checks the same again, on the live kernel, at apply time.)
 *
 * The shipped vmlinux on disk is the linker's output: boot-time rewriting (alternatives,
 * paravirt, ftrace nops, return thunks) has not happened to it yet, so outside relocations the
 * bytes must be identical.
 *
 * What a relocation site must hold, by what it refers to:
 *   - a named symbol (`call vprintk`): the shipped displacement must lead to an address System.map
 *     gives that name (any of them, for duplicated static names);
 *   - a section of the object with a named symbol in it (`.text.foo`, `.data.bar`): the address
 *     of that section in vmlinux, found through the named symbol;
 *   - a merged string (`.rodata.str1.1+0x12`): the shipped code must point at the same string
 *     (string sections are merged at link time, so only the content can be compared);
 *   - anything else (jump tables in `.rodata`): every site must agree on one address (learned).
 *
 * Usage: const report = checkReproduction(preObject, 'kernel/printk/printk.o', new SystemMapIndex(symbols), shipped);
 */
import {
  relaFor,
  isExecutable,
  isFunction,
  isMergeStrings,
  isSectionSymbol,
  SHN_ABS,
  STB_WEAK,
  type ElfObject,
  type ElfSection,
  type ElfSymbol,
  type Rela,
} from '../elf/types.ts';
import { relocationName, relocationTarget, relocationWidth, R_X86_64_NONE } from '../x86/relocations.ts';
import type { SystemMapIndex } from '../kbuild/system-map.ts';
import type { ShippedKernel } from './shipped-kernel.ts';
import { impliedSymbolValue } from '../x86/relocation-values.ts';

export interface ReproductionMismatch {
  object: string;
  function: string;
  /** Byte offset from the function's start. */
  offset: number;
  reason: string;
}

export interface ReproductionReport {
  checked: { object: string; function: string; address: bigint }[];
  /** Functions of the pre object the shipped kernel does not have under that name (inlined everywhere, discarded). */
  notInKernel: string[];
  /**
   * Weak definitions whose System.map namesake is another object's strong one.
   * Example: kernel/sys.c's `__weak arch_prctl_spec_ctrl_get` loses to arch/x86/kernel/cpu/bugs.c's.
   */
  overriddenWeak: string[];
  mismatches: ReproductionMismatch[];
}

/** A function has code of its own in this object (not an alias or an empty marker). */
function hasCode(sym: ElfSymbol): boolean {
  return isFunction(sym) && sym.size > 0 && sym.section !== null && isExecutable(sym.section);
}

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** Named symbols defined in a section, to find where the linker put that section. */
function anchorsOf(obj: ElfObject, section: ElfSection): ElfSymbol[] {
  return obj.symbols.filter((s) => s.section === section && s.name !== '' && !isSectionSymbol(s) && s.shndx !== SHN_ABS);
}

function cString(data: Buffer, offset: number): string {
  const end = data.indexOf(0, offset);
  return data.toString('latin1', offset, end === -1 ? data.length : end);
}

interface Context {
  obj: ElfObject;
  map: SystemMapIndex;
  kernel: ShippedKernel;
  /** Section name → address, for references nothing else can check (consistency only). */
  learned: Map<string, bigint>;
}

/** Why the shipped relocation site is not what the pre object says, or null when it is. */
function relocationProblem(ctx: Context, rela: Rela, place: bigint, stored: bigint): string | null {
  const implied = impliedSymbolValue(rela.type, stored, place, rela.addend);
  const sym = rela.symbol;
  const section = sym.section;
  if (!isSectionSymbol(sym)) {
    const candidates = ctx.map.addresses(sym.name);
    if (candidates.length === 0) return learn(ctx, `symbol ${sym.name}`, implied);
    // A relocation against a defined symbol may be written as symbol + its own value already
    // folded: compare with System.map's address of the symbol itself.
    return candidates.includes(implied)
      ? null
      : `${relocationName(rela.type)} to ${sym.name}: the shipped code refers to ${hex(implied)}, System.map has ${sym.name} at ${candidates.map(hex).join(', ')}`;
  }
  if (!section) return `relocation against an undefined section symbol`;
  if (isMergeStrings(section)) {
    const offset = relocationTarget(rela.type, rela.addend, true);
    const expected = cString(section.data, offset);
    const pointed = implied + BigInt(offset);
    const shipped = ctx.kernel.stringAt(pointed);
    return shipped === expected
      ? null
      : `string reference: the build has ${JSON.stringify(expected)}, the shipped code points at ${shipped === null ? 'nothing' : JSON.stringify(shipped)}`;
  }
  for (const anchor of anchorsOf(ctx.obj, section)) {
    const candidates = ctx.map.addresses(anchor.name);
    if (candidates.length === 0) continue;
    const bases = candidates.map((a) => a - BigInt(anchor.value));
    return bases.includes(implied)
      ? null
      : `${relocationName(rela.type)} to section ${section.name}: the shipped code refers to ${hex(implied)}, where System.map puts it at ${bases.map(hex).join(', ')} (through ${anchor.name})`;
  }
  return learn(ctx, `section ${section.name}`, implied);
}

function learn(ctx: Context, key: string, value: bigint): string | null {
  const known = ctx.learned.get(key);
  if (known === undefined) {
    ctx.learned.set(key, value);
    return null;
  }
  return known === value ? null : `references to ${key} disagree: ${hex(known)} and ${hex(value)}`;
}

function readStored(bytes: Buffer, offset: number, width: number): bigint {
  let value = 0n;
  for (let i = width - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[offset + i]);
  return value;
}

/** The first difference between the pre code of `fn` and the shipped bytes at `address`. */
function firstDifference(ctx: Context, fn: ElfSymbol, address: bigint): { offset: number; reason: string } | null {
  const section = fn.section!;
  const code = section.data.subarray(fn.value, fn.value + fn.size);
  const shipped = ctx.kernel.bytesAt(address, code.length);
  if (!shipped) return { offset: 0, reason: `System.map address ${hex(address)} is outside the shipped vmlinux` };
  const covered = new Uint8Array(code.length);
  const problems: { offset: number; reason: string }[] = [];
  for (const rela of relaFor(ctx.obj, section)?.entries ?? []) {
    const offset = rela.offset - fn.value;
    if (offset < 0 || offset >= code.length || rela.type === R_X86_64_NONE) continue;
    const width = relocationWidth(rela.type);
    covered.fill(1, offset, offset + width);
    const problem = relocationProblem(ctx, rela, address + BigInt(offset), readStored(shipped, offset, width));
    if (problem) problems.push({ offset, reason: problem });
  }
  for (let i = 0; i < code.length; i++) {
    if (!covered[i] && code[i] !== shipped[i]) {
      problems.push({ offset: i, reason: `byte ${hex(i)} is ${hex(code[i])} in the build, ${hex(shipped[i])} in the shipped kernel` });
      break;
    }
  }
  problems.sort((a, b) => a.offset - b.offset);
  return problems[0] ?? null;
}

export function checkReproduction(obj: ElfObject, objectName: string, map: SystemMapIndex, kernel: ShippedKernel): ReproductionReport {
  const report: ReproductionReport = { checked: [], notInKernel: [], overriddenWeak: [], mismatches: [] };
  for (const fn of obj.symbols.filter(hasCode)) {
    const candidates = map.addresses(fn.name);
    if (candidates.length === 0) {
      report.notInKernel.push(fn.name);
      continue;
    }
    // Duplicated static names: the right one is the candidate whose bytes match; if none does,
    // report the candidate that matched longest.
    let best: { address: bigint; difference: { offset: number; reason: string } } | null = null;
    let matched: bigint | null = null;
    for (const address of candidates) {
      const ctx: Context = { obj, map, kernel, learned: new Map() };
      const difference = firstDifference(ctx, fn, address);
      if (!difference) {
        matched = address;
        break;
      }
      if (!best || difference.offset > best.difference.offset) best = { address, difference };
    }
    if (matched !== null) report.checked.push({ object: objectName, function: fn.name, address: matched });
    else if (fn.bind === STB_WEAK) report.overriddenWeak.push(fn.name);
    else if (best)
      report.mismatches.push({ object: objectName, function: fn.name, offset: best.difference.offset, reason: best.difference.reason });
  }
  return report;
}
