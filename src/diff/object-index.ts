/**
 * Look-ups the differ and the extractor ask of one object, computed once: the symbols defined in
 * each section (by address), the relocations of each section (by offset), and what a relocation
 * really points at once section symbols and string labels are seen through.
 */
import {
  isDataObject,
  isExecutable,
  isFunction,
  isMergeStrings,
  isSectionSymbol,
  SHT_NOBITS,
  STB_LOCAL,
  STT_FILE,
  type ElfObject,
  type ElfSection,
  type ElfSymbol,
  type Rela,
} from '../elf/types.ts';
import { relocationTarget } from '../x86/relocations.ts';

/** What a relocation refers to, seen through section symbols and string labels. */
export type Referent =
  /** A function or data object, `offset` bytes into it (the addend relative to its start). */
  | { kind: 'symbol'; symbol: ElfSymbol; offset: bigint }
  /** A string literal in a SHF_MERGE|SHF_STRINGS section, starting at `start`. */
  | { kind: 'string'; section: ElfSection; start: number; text: string; offset: bigint }
  /** Anonymous bytes of a section that hold no symbol at that address. */
  | { kind: 'section'; section: ElfSection; offset: bigint }
  /** A symbol defined elsewhere (undefined here) or absolute. */
  | { kind: 'external'; symbol: ElfSymbol; offset: bigint };

export class ObjectIndex {
  /** FUNC and OBJECT symbols of each section, sorted by address. */
  private readonly definitions = new Map<ElfSection, ElfSymbol[]>();
  private readonly relocations = new Map<ElfSection, Rela[]>();
  readonly functions: ElfSymbol[] = [];
  readonly dataObjects: ElfSymbol[] = [];
  readonly byName = new Map<string, ElfSymbol>();
  readonly sectionByName = new Map<string, ElfSection>();
  /**
   * The source file of each local symbol (the STT_FILE symbol before it): in an object `ld -r`
   * made of several, two files may each have a static `report.constprop.0`.
   */
  readonly fileOf = new Map<ElfSymbol, string>();

  constructor(readonly obj: ElfObject) {
    for (const s of obj.sections) {
      if (!this.sectionByName.has(s.name)) this.sectionByName.set(s.name, s);
      if (s.rela)
        this.relocations.set(
          s.rela.target,
          [...s.rela.entries].sort((a, b) => a.offset - b.offset),
        );
    }
    for (const sym of obj.symbols) {
      if (isFunction(sym)) this.functions.push(sym);
      else if (isDataObject(sym)) this.dataObjects.push(sym);
      else continue;
      let list = this.definitions.get(sym.section!);
      if (!list) this.definitions.set(sym.section!, (list = []));
      list.push(sym);
    }
    for (const sym of obj.symbols) if (sym.name && !isSectionSymbol(sym) && !this.byName.has(sym.name)) this.byName.set(sym.name, sym);
    let file = '';
    for (const sym of obj.symbols) {
      if (sym.type === STT_FILE) file = sym.name;
      else if (sym.bind === STB_LOCAL) this.fileOf.set(sym, file);
    }
    for (const list of this.definitions.values()) list.sort((a, b) => a.value - b.value);
  }

  /** Relocations applying to [start, start + size) of a section, sorted by offset. */
  relocationsIn(section: ElfSection, start = 0, size = section.size): Rela[] {
    const all = this.relocations.get(section) ?? [];
    if (start === 0 && size >= section.size) return all;
    return all.filter((r) => r.offset >= start && r.offset < start + size);
  }

  /** The relocation applied exactly at `offset` of a section. */
  relocationAt(section: ElfSection, offset: number): Rela | undefined {
    const all = this.relocations.get(section) ?? [];
    let lo = 0;
    let hi = all.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const o = all[mid]!.offset;
      if (o === offset) return all[mid];
      if (o < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The function or data object whose bytes contain `offset` of a section. */
  definitionAt(section: ElfSection, offset: number): ElfSymbol | undefined {
    const list = this.definitions.get(section);
    if (!list) return undefined;
    let found: ElfSymbol | undefined;
    for (const sym of list) {
      if (sym.value > offset) break;
      if (offset < sym.value + Math.max(sym.size, 1)) found = sym;
    }
    return found;
  }

  /** The definition of a section closest to `offset` (within 16 bytes, an instruction's tail). */
  private nearestDefinition(section: ElfSection, offset: number): ElfSymbol | undefined {
    let best: ElfSymbol | undefined;
    let bestDistance = 17;
    for (const sym of this.definitions.get(section) ?? []) {
      const distance = offset < sym.value ? sym.value - offset : Math.max(0, offset - (sym.value + Math.max(sym.size, 1) - 1));
      if (distance < bestDistance) [best, bestDistance] = [sym, distance];
    }
    return best;
  }

  definitionsIn(section: ElfSection): readonly ElfSymbol[] {
    return this.definitions.get(section) ?? [];
  }

  /** The function containing `offset` of a section (data objects excluded). */
  functionAt(section: ElfSection, offset: number): ElfSymbol | undefined {
    const sym = this.definitionAt(section, offset);
    return sym && isFunction(sym) ? sym : undefined;
  }

  /**
   * What a relocation in `from` refers to.
   *
   * Example: in `.text.devkmsg_release.cold`, `jmp` PC32 `.text.devkmsg_release`+0x1f points
   * 0x23 bytes into the section, inside `devkmsg_release` (value 0): referent devkmsg_release,
   * offset 0x1f (the addend relative to the function). Example: PC32 `.LC10`+0 in __bug_table
   * and PC32 `.rodata.str1.1`+0xb7 both become the string they point into, by content.
   */
  referent(rela: Rela, from: ElfSection): Referent {
    const sym = rela.symbol;
    if (!sym.section) return { kind: 'external', symbol: sym, offset: rela.addend };
    const section = sym.section;
    const inCode = isExecutable(from);
    const target = sym.value + relocationTarget(rela.type, rela.addend, inCode);
    if (isMergeStrings(section) && !isFunction(sym) && !isDataObject(sym)) {
      const start = stringStartAt(section, target);
      return { kind: 'string', section, start, text: stringAt(section, start), offset: BigInt(sym.value) + rela.addend - BigInt(start) };
    }
    if (isFunction(sym) || isDataObject(sym)) return { kind: 'symbol', symbol: sym, offset: rela.addend };
    // A section symbol or a local label: find what lives at the target address. `target` is an
    // estimate for PC-relative code references (an immediate after the displacement moves it,
    // e.g. `movb $1, x(%rip)` is x-5), so fall back to the raw offset, then to the nearest
    // definition: the address is the same whichever symbol it is expressed against, since the
    // linker keeps a section's contents together.
    const raw = sym.value + Number(rela.addend);
    const owner = this.definitionAt(section, target) ?? this.definitionAt(section, raw) ?? this.nearestDefinition(section, target);
    if (owner) return { kind: 'symbol', symbol: owner, offset: BigInt(sym.value) + rela.addend - BigInt(owner.value) };
    return { kind: 'section', section, offset: BigInt(sym.value) + rela.addend };
  }
}

/** Start of the NUL-terminated string holding byte `offset` of a string section. */
export function stringStartAt(section: ElfSection, offset: number): number {
  const data = section.data;
  let start = Math.min(Math.max(offset, 0), data.length);
  while (start > 0 && data[start - 1] !== 0) start--;
  return start;
}

export function stringAt(section: ElfSection, start: number): string {
  const data = section.data;
  const end = data.indexOf(0, start);
  return data.toString('latin1', start, end < 0 ? data.length : end);
}

/** Bytes of a symbol's definition; zeros for SHT_NOBITS. */
export function symbolBytes(sym: ElfSymbol): Buffer {
  const section = sym.section!;
  if (section.type === SHT_NOBITS) return Buffer.alloc(sym.size);
  return section.data.subarray(sym.value, sym.value + sym.size);
}
