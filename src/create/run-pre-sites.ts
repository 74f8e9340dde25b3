/**
 * Run-pre material for the engine: for each function the update replaces, its code in the pre
 * object and the "sites" where the running kernel's bytes may legitimately differ from it
 * (relocations, and every instruction the kernel rewrites at boot). The engine compares the
 * running bytes against this before it redirects anything (kmod/README.md, "Run-pre matching").
 *
 * Sources in the pre object (built with function sections), for a function F:
 *   .rela of F's section   → RELOC sites, symbols resolved through System.map
 *   __mcount_loc           → FENTRY       .return_sites      → RETURN_THUNK
 *   .retpoline_sites       → RETPOLINE    .static_call_sites → STATIC_CALL
 *   .smp_locks             → LOCK_PREFIX  .parainstructions  → PARAVIRT
 *   .altinstructions       → ALTERNATIVE  __jump_table       → JUMP_LABEL
 *
 * Usage:
 *   const map = new SystemMapIndex(inputs.symbols);
 *   const target = runPreTarget(preObject, 'cmdline_proc_show', map);   // { name, pre, sites, mapAddr, ... }
 */
import {
  relaFor,
  SHF_MERGE,
  SHF_STRINGS,
  STT_FILE,
  STT_FUNC,
  STT_SECTION,
  type ElfObject,
  type ElfSection,
  type ElfSymbol,
  type Rela,
} from '../elf/types.ts';
import type { SystemMapIndex } from '../kbuild/system-map.ts';
import { specialSectionLayout } from '../x86/special-sections.ts';
import {
  ALT_INSTR,
  FENTRY_CALL_LENGTH,
  isJumpOpcode,
  isPcRelative32,
  JUMP_ENTRY,
  jumpLabelLength,
  PARAVIRT_LENGTH_OFFSET,
  relocationSiteLength,
  retpolineSite,
  returnThunkLength,
  STATIC_CALL_LENGTH,
} from '../x86/site-forms.ts';

export type SiteKind =
  'RELOC' | 'FENTRY' | 'RETURN_THUNK' | 'RETPOLINE' | 'PARAVIRT' | 'ALTERNATIVE' | 'STATIC_CALL' | 'JUMP_LABEL' | 'LOCK_PREFIX';

export interface Site {
  offset: number;
  length: number;
  kind: SiteKind;
  relocType?: number;
  symbol?: string;
  /** System.map address of `symbol`; 0n when unknown (the engine learns it from the running code). */
  symbolMapAddr?: bigint;
  symbolIsPercpu?: boolean;
  /** Module target: the symbol may be the module's own; the engine resolves it by name in that module, else learns it. */
  symbolInModule?: boolean;
  targetString?: string;
  addend?: bigint;
  targetOffset?: number;
  reg?: number;
  isJump?: boolean;
  replacements?: Buffer[];
}

export interface RunPreTarget {
  name: string;
  /** System.map address, or 0n when the name is there several times (see candidates). */
  mapAddr: bigint;
  candidates: bigint[];
  /** 1-based position among the candidates (kallsyms order), 0 when unique. */
  sympos: number;
  pre: Buffer;
  sites: Site[];
  /** A `.cold` part: matched and stack-checked, not redirected. */
  companion: boolean;
  /** The loadable module holding the target (no System.map address then); absent for vmlinux. */
  module?: string;
}

export class RunPreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunPreError';
  }
}

/**
 * Where this object landed in vmlinux: the System.map address of one of its functions whose name
 * is unique. Link order keeps an object's functions together, so among several copies of a local
 * name, the object's own is the one nearest to it.
 */
export function objectAnchor(obj: ElfObject, map: SystemMapIndex): bigint {
  for (const s of obj.symbols) {
    // Plain .text.<name> only: .init.text and .text.unlikely land far from the rest.
    if (s.type !== STT_FUNC || !s.section || s.section.name !== `.text.${s.name}`) continue;
    const a = map.unique(s.name);
    if (a !== undefined) return a;
  }
  throw new RunPreError('no function of the object has a unique System.map name');
}

/**
 * Where the linker gathers a section of this name in vmlinux: `.rodata.foo` with `.rodata`,
 * `.data..percpu` apart from `.data`, `.text.unlikely.foo` apart from `.text.foo`.
 */
export function outputSectionClass(name: string): string {
  const classes = ['.text.unlikely', '.text', '.rodata', '.bss', '.data..percpu', '.data..read_mostly', '.data..ro_after_init', '.data'];
  return classes.find((c) => name === c || name.startsWith(`${c}.`)) ?? name;
}

/**
 * The anchor for a symbol of this object that several objects define: the System.map address of
 * a uniquely named symbol of the same object in the same output section, else the text anchor.
 *
 * Example: a static `__func__.0` in arp.o's `.rodata` is looked for near arp.o's `arp_seq_ops`
 * (also `.rodata`), not near its functions, which lie megabytes away in `.text`.
 */
export function anchorFor(obj: ElfObject, name: string, map: SystemMapIndex): bigint {
  const own = obj.symbols.find((s) => s.name === name && s.section !== null && s.type !== STT_SECTION);
  if (own) {
    const cls = outputSectionClass(own.section!.name);
    for (const s of obj.symbols) {
      if (!s.section || !s.name || s.type === STT_SECTION || s.type === STT_FILE || outputSectionClass(s.section.name) !== cls) continue;
      const a = map.unique(s.name);
      if (a !== undefined) return a;
    }
  }
  return objectAnchor(obj, map);
}

/**
 * The 1-based position of the candidate nearest to the anchor.
 * Example: `calls.3` at [0x…1000, 0x…8000] with the object anchored at 0x…7f00 → 2.
 */
export function nearestPosition(candidates: readonly bigint[], anchor: bigint): number {
  const distance = (a: bigint): bigint => (a > anchor ? a - anchor : anchor - a);
  let best = 0;
  candidates.forEach((c, i) => {
    if (distance(c) < distance(candidates[best]!)) best = i;
  });
  return best + 1;
}

/**
 * The named symbol a section symbol stands for: the one the object defines at offset 0 of that
 * section (`.text.unlikely.foo` holds `foo.cold`, `.bss.bar` holds `bar`). Merged string
 * sections have none.
 */
function sectionHolder(obj: ElfObject, section: ElfSection): string | undefined {
  const held = obj.symbols.filter((s) => s.section === section && s.value === 0 && s.type !== STT_SECTION && s.type !== STT_FILE && s.name);
  return held.length === 1 ? held[0]!.name : undefined;
}

function isMergedStrings(section: ElfSection | null): section is ElfSection {
  return section !== null && (section.flags & (SHF_MERGE | SHF_STRINGS)) === (SHF_MERGE | SHF_STRINGS);
}

/**
 * The string a reference into a merged string section points at. The linker moves each string on
 * its own, so the engine checks the content. PC-relative: the displacement ends the instruction.
 * Example: `lea .LC0-4(%rip),%rsi` with .LC0 at 0x10 → the string at 0x10.
 */
function referencedString(rela: Rela): string | undefined {
  const section = rela.symbol.section;
  if (!isMergedStrings(section)) return undefined;
  const at = rela.symbol.value + Number(rela.addend) + (isPcRelative32(rela.type) ? 4 : 0);
  const end = section.data.indexOf(0, at);
  return at >= 0 && end >= 0 ? section.data.toString('latin1', at, end) : undefined;
}

class SiteCollector {
  readonly sites: Site[] = [];
  private readonly code: Buffer;
  private readonly start: number;
  private readonly end: number;
  private readonly funcRelocs: Rela[];

  constructor(
    private readonly obj: ElfObject,
    private readonly fn: ElfSymbol,
    private readonly map: SystemMapIndex,
    private readonly inModule = false,
  ) {
    this.code = fn.section!.data;
    this.start = fn.value;
    this.end = fn.value + fn.size;
    this.funcRelocs = (relaFor(obj, fn.section!)?.entries ?? []).filter((r) => r.offset >= this.start && r.offset < this.end);
  }

  /** Offset inside this function a special-section entry points at (s32 `. - site` or abs64), if it does. */
  private offsetInFunction(rela: Rela): number | undefined {
    if (rela.symbol.section !== this.fn.section) return undefined;
    const target = rela.symbol.value + Number(rela.addend);
    return target >= this.start && target < this.end ? target - this.start : undefined;
  }

  private byte(offset: number): number {
    return this.code[this.start + offset]!;
  }

  /**
   * The symbol of the first relocation inside the instruction at `offset`. First by offset, not by
   * table order: objtool appends the relocations it adds (e.g. sched/core.o's deactivate_task lists
   * `jmp __x86_indirect_thunk_rax` at +0x3f after `call update_rq_clock` at +0x45).
   */
  private relocSymbolAt(offset: number): string | undefined {
    let first: Rela | undefined;
    for (const r of this.funcRelocs) {
      const at = r.offset - this.start;
      if (at >= offset && at < offset + 8 && (!first || r.offset < first.offset)) first = r;
    }
    return first?.symbol.name;
  }

  /**
   * A module target's relocation: the module's own symbols (defined in the object, or a section's
   * holder) have no System.map address, the engine resolves them in the loaded module by name; an
   * undefined symbol System.map has is a vmlinux export (computed with the slide); any other one
   * (`__this_module`, another module's export) is looked for in the module, else learned.
   * Example: `call bm_entry_read` (static) → symbol bm_entry_read, symbolInModule; `call kfree` → System.map.
   */
  private moduleRelocation(r: Rela): Site {
    const sym = r.symbol;
    let name = sym.name;
    let mapAddr: bigint | undefined;
    if (sym.type === STT_SECTION) name = (sym.section ? sectionHolder(this.obj, sym.section) : undefined) ?? sym.section?.name ?? name;
    else if (sym.section === null) mapAddr = this.map.unique(sym.name);
    const targetString = sym.type === STT_SECTION ? referencedString(r) : undefined;
    return {
      offset: r.offset - this.start,
      length: relocationSiteLength(r.type),
      kind: 'RELOC',
      relocType: r.type,
      symbol: name,
      symbolMapAddr: mapAddr ?? 0n,
      symbolIsPercpu: mapAddr !== undefined && this.map.isPerCpu(mapAddr),
      symbolInModule: mapAddr === undefined && targetString === undefined,
      targetString,
      addend: r.addend,
    };
  }

  relocations(): void {
    if (this.inModule) {
      for (const r of this.funcRelocs) this.sites.push(this.moduleRelocation(r));
      return;
    }
    for (const r of this.funcRelocs) {
      const sym = r.symbol;
      let name = sym.name;
      let mapAddr: bigint | undefined;
      if (sym.type === STT_SECTION) {
        const held = sym.section ? sectionHolder(this.obj, sym.section) : undefined;
        if (held) {
          mapAddr = this.map.unique(held);
          if (mapAddr !== undefined) name = held;
        }
        if (mapAddr === undefined && sym.section) name = sym.section.name;
      } else {
        mapAddr = this.map.unique(sym.name);
      }
      const targetString = mapAddr === undefined && sym.type === STT_SECTION ? referencedString(r) : undefined;
      this.sites.push({
        offset: r.offset - this.start,
        length: relocationSiteLength(r.type),
        kind: 'RELOC',
        relocType: r.type,
        symbol: name,
        symbolMapAddr: mapAddr ?? 0n,
        symbolIsPercpu: mapAddr !== undefined && this.map.isPerCpu(mapAddr),
        targetString,
        addend: r.addend,
      });
    }
  }

  /** Every entry of a special section whose site field points into this function (entry sizes: src/x86/special-sections.ts). */
  private entries(sectionName: string, each: (offset: number, entryStart: number, section: ElfSection) => void): void {
    const entrySize = specialSectionLayout(sectionName)!.entrySize;
    for (const section of this.obj.sections.filter((s) => s.name === sectionName)) {
      for (const r of relaFor(this.obj, section)?.entries ?? []) {
        if (r.offset % entrySize !== 0) continue;
        const offset = this.offsetInFunction(r);
        if (offset !== undefined) each(offset, r.offset, section);
      }
    }
  }

  runtimePatched(): void {
    this.entries('__mcount_loc', (t) => this.sites.push({ offset: t, length: FENTRY_CALL_LENGTH, kind: 'FENTRY', symbol: '__fentry__' }));
    this.entries('.return_sites', (t) =>
      this.sites.push({ offset: t, length: returnThunkLength(this.byte(t)), kind: 'RETURN_THUNK', symbol: '__x86_return_thunk' }),
    );
    this.entries('.retpoline_sites', (t) => {
      const thunk = this.relocSymbolAt(t) ?? '';
      this.sites.push({ offset: t, kind: 'RETPOLINE', symbol: thunk, ...retpolineSite(this.code, this.start + t, thunk) });
    });
    this.entries('.static_call_sites', (t) =>
      this.sites.push({
        offset: t,
        length: STATIC_CALL_LENGTH,
        kind: 'STATIC_CALL',
        symbol: this.relocSymbolAt(t),
        isJump: isJumpOpcode(this.byte(t)),
      }),
    );
    this.entries('.smp_locks', (t) => this.sites.push({ offset: t, length: 1, kind: 'LOCK_PREFIX' }));
    this.entries('.parainstructions', (t, entry, section) =>
      this.sites.push({
        offset: t,
        length: section.data[entry + PARAVIRT_LENGTH_OFFSET]!,
        kind: 'PARAVIRT',
        symbol: this.relocSymbolAt(t) ?? 'pv_ops',
        replacements: [],
      }),
    );
    this.alternatives();
    this.jumpLabels();
  }

  /** An alternative at the place of a paravirt site widens it and adds its replacement there. */
  private alternatives(): void {
    this.entries('.altinstructions', (t, entry, alt) => {
      const instrLen = alt.data[entry + ALT_INSTR.instrLenOffset]!;
      const replLen = alt.data[entry + ALT_INSTR.replLenOffset]!;
      if (instrLen === 0) return;
      const replRela = relaFor(this.obj, alt)?.entries.find((r) => r.offset === entry + ALT_INSTR.replOffset);
      const from = replRela?.symbol.section;
      const at = replRela ? replRela.symbol.value + Number(replRela.addend) : 0;
      const replacement =
        from && from.name === '.altinstr_replacement' ? Buffer.from(from.data.subarray(at, at + replLen)) : Buffer.alloc(0);
      const same = this.sites.find((s) => s.offset === t && (s.kind === 'ALTERNATIVE' || s.kind === 'PARAVIRT'));
      if (same) {
        same.length = Math.max(same.length, instrLen);
        same.replacements!.push(replacement);
      } else {
        this.sites.push({ offset: t, length: instrLen, kind: 'ALTERNATIVE', replacements: [replacement] });
      }
    });
  }

  private jumpLabels(): void {
    this.entries('__jump_table', (t, entry, table) => {
      const targetRela = relaFor(this.obj, table)?.entries.find((r) => r.offset === entry + JUMP_ENTRY.targetOffset);
      const target = targetRela && this.offsetInFunction(targetRela);
      if (target === undefined)
        throw new RunPreError(
          `${this.fn.name}: jump label at +0x${t.toString(16)} jumps outside the function (not supported by the engine yet)`,
        );
      this.sites.push({ offset: t, length: jumpLabelLength(this.byte(t)), kind: 'JUMP_LABEL', targetOffset: target });
    });
  }

  /** Sorted by offset; at equal offsets the runtime-patched site before the relocation inside it. */
  sorted(): Site[] {
    return this.sites.sort((a, b) => a.offset - b.offset || (a.kind === 'RELOC' ? 1 : 0) - (b.kind === 'RELOC' ? 1 : 0));
  }
}

/** The sites of one function of the pre object. */
export function runPreSites(obj: ElfObject, fn: ElfSymbol, map: SystemMapIndex, inModule = false): Site[] {
  const collector = new SiteCollector(obj, fn, map, inModule);
  collector.relocations();
  collector.runtimePatched();
  return collector.sorted();
}

function functionSymbol(obj: ElfObject, name: string): ElfSymbol {
  const fn = obj.symbols.find((s) => s.name === name && s.type === STT_FUNC && s.section !== null);
  if (!fn) throw new RunPreError(`${name} is not a function of the pre object`);
  return fn;
}

/** A function the engine can redirect has the `call __fentry__` ftrace patches (notrace ones do not). */
function isTraceable(sites: readonly Site[]): boolean {
  return sites.some((s) => s.kind === 'FENTRY');
}

/** One target (or companion) of the update: pre code, sites, System.map address(es). */
export function runPreTarget(obj: ElfObject, name: string, map: SystemMapIndex, companion = false): RunPreTarget {
  const fn = functionSymbol(obj, name);
  const candidates = map.addresses(name);
  if (candidates.length === 0) throw new RunPreError(`${name}: not in System.map (inlined everywhere, or not linked into vmlinux)`);
  const sites = runPreSites(obj, fn, map);
  if (!companion && !isTraceable(sites)) throw new RunPreError(`${name}: no fentry call (notrace): ftrace cannot redirect it`);
  // `.cold` parts live in `.text.unlikely`: their copy is looked for among that section's symbols.
  const sympos = candidates.length > 1 ? nearestPosition(candidates, anchorFor(obj, name, map)) : 0;
  return {
    name,
    mapAddr: candidates.length === 1 ? candidates[0]! : 0n,
    candidates,
    sympos,
    pre: Buffer.from(fn.section!.data.subarray(fn.value, fn.value + fn.size)),
    sites,
    companion,
  };
}

/**
 * One target (or companion) in a loadable module: no System.map address; the engine finds it by
 * name in the loaded module's symbol table. A name the object defines several times is refused
 * (the position in a composite module's symbol table is not known here).
 *
 * Example: runPreModuleTarget(binfmt_misc.o, 'bm_status_read', map, 'binfmt_misc') → { module: 'binfmt_misc', mapAddr: 0n, ... }.
 */
export function runPreModuleTarget(obj: ElfObject, name: string, map: SystemMapIndex, module: string, companion = false): RunPreTarget {
  const fn = functionSymbol(obj, name);
  if (obj.symbols.filter((s) => s.name === name && s.type === STT_FUNC && s.section !== null).length > 1) {
    throw new RunPreError(`${name}: defined several times in the object of module ${module}`);
  }
  const sites = runPreSites(obj, fn, map, true);
  if (!companion && !isTraceable(sites)) throw new RunPreError(`${name}: no fentry call (notrace): ftrace cannot redirect it`);
  return {
    name,
    mapAddr: 0n,
    candidates: [],
    sympos: 0,
    module,
    pre: Buffer.from(fn.section!.data.subarray(fn.value, fn.value + fn.size)),
    sites,
    companion,
  };
}

/** The `.cold` part gcc split off a target, if any: it becomes a companion entry. */
export function coldPartOf(obj: ElfObject, name: string): string | undefined {
  const cold = obj.symbols.find((s) => s.name === `${name}.cold` && s.type === STT_FUNC && s.size > 0);
  return cold?.name;
}
