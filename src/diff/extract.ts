/**
 * Extraction: a new relocatable object holding only some functions of an object (with their
 * `.cold` parts), the special-section entries describing them, the string literals and literal
 * constant pools they use, and optionally some data objects (new variables the new code needs).
 *
 * Usage:
 *   const result = diffObjects(pre, post);
 *   const postCode = extractFunctions(result.post, shippedFunctions(result), {
 *     data: result.newData.map((s) => s.name),
 *     correlation: result.correlation,   // externals by the running kernel's (pre) names
 *   });
 *   const preCode = extractFunctions(result.pre, replacedPreFunctions(result));   // for run-pre matching
 *   await writeFile('post.o', writeElf(postCode));
 *   postCode.externals   // what the update must resolve against the running kernel
 *
 * Every reference to something not copied (another function of the file, a static variable, a
 * kernel symbol) becomes an undefined symbol of the same name, listed in `externals` with whether
 * it was file-local: ksplice-create resolves those against the running kernel (kallsyms).
 */
import {
  isFunction,
  isMergeConstants,
  newSection,
  SHF_GROUP,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_RELA,
  SHF_INFO_LINK,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_NOTYPE,
  STT_SECTION,
  type ElfObject,
  type ElfSection,
  type ElfSymbol,
  type Rela,
} from '../elf/types.ts';
import { specialSectionLayout } from '../x86/special-sections.ts';
import type { Correlation } from './correlate.ts';
import { coldOwner, isColdPart } from './names.ts';
import { ObjectIndex, symbolBytes } from './object-index.ts';
import { specialEntriesByFunction, type SpecialEntry } from './special-entries.ts';

export interface ExternalReference {
  name: string;
  /** The symbol was local to the file (a static): the kernel module loader cannot resolve it by name. */
  local: boolean;
  kind: 'function' | 'data' | 'section' | 'other';
}

export interface ExtractedObject extends ElfObject {
  externals: ExternalReference[];
}

export interface ExtractOptions {
  /** Data objects to copy along (new variables), by name. */
  data?: readonly string[];
  /**
   * When extracting from the post object: refer to what is not copied by its pre name, the name
   * the running kernel has. Example: a static `calls.3` before the patch is `calls.5` after it;
   * the new code must use the running kernel's `calls.3`.
   */
  correlation?: Correlation;
}

export class ExtractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExtractError';
  }
}

export function extractFunctions(obj: ElfObject, names: readonly string[], options: ExtractOptions = {}): ExtractedObject {
  return new Extractor(obj, options.correlation).run(names, options.data ?? []);
}

class Extractor {
  private readonly index: ObjectIndex;
  private readonly sections: ElfSection[] = [];
  private readonly symbols: ElfSymbol[] = [];
  private readonly relas = new Map<ElfSection, Rela[]>();
  /** Original definition → its copy. */
  private readonly copies = new Map<ElfSymbol, ElfSymbol>();
  private readonly externals = new Map<string, { symbol: ElfSymbol; ref: ExternalReference }>();
  private readonly stringSections = new Map<ElfSection, { section: ElfSection; labels: Map<string, ElfSymbol> }>();
  private readonly sectionSymbols = new Map<ElfSection, ElfSymbol>();
  private readonly specialCopies = new Map<string, ElfSection>();
  private readonly constantPools = new Map<ElfSection, ElfSection>();

  constructor(
    private readonly obj: ElfObject,
    private readonly correlation?: Correlation,
  ) {
    this.index = new ObjectIndex(obj);
  }

  /** The running kernel's name for a symbol of this object (its pre partner's, when known). */
  private kernelName(sym: ElfSymbol): string {
    return this.correlation?.postToPre.get(sym)?.name ?? sym.name;
  }

  run(names: readonly string[], dataNames: readonly string[]): ExtractedObject {
    const functions = this.withColdParts(names.map((n) => this.definition(n, 'function')));
    const data = dataNames.map((n) => this.definition(n, 'data'));
    for (const def of [...functions, ...data]) this.copyDefinition(def);
    for (const def of [...functions, ...data]) this.copyRelocations(def);
    this.copySpecialEntries(functions);
    this.sections.push(newSection({ name: '.note.GNU-stack', type: SHT_PROGBITS }));
    for (const [target, entries] of this.relas) {
      this.sections.push(
        newSection({
          name: `.rela${target.name}`,
          type: SHT_RELA,
          flags: SHF_INFO_LINK,
          addralign: 8n,
          entsize: 24n,
          rela: { target, entries },
        }),
      );
    }
    return {
      header: { ...this.obj.header },
      sections: this.sections,
      symbols: [...this.symbols, ...[...this.externals.values()].map((e) => e.symbol)],
      externals: [...this.externals.values()].map((e) => e.ref),
    };
  }

  private definition(name: string, kind: 'function' | 'data'): ElfSymbol {
    const list = kind === 'function' ? this.index.functions : this.index.dataObjects;
    const sym = list.find((s) => s.name === name);
    if (!sym) throw new ExtractError(`no ${kind} named '${name}' in the object`);
    return sym;
  }

  /** A function's `.cold` fragment is part of its code: `foo` brings `foo.cold`. */
  private withColdParts(functions: ElfSymbol[]): ElfSymbol[] {
    const wanted = new Set(functions.map((f) => f.name));
    const cold = this.index.functions.filter((f) => isColdPart(f.name) && wanted.has(coldOwner(f.name)) && !wanted.has(f.name));
    return [...functions, ...cold];
  }

  /** The section name for a copy: the original when the definition had it to itself. */
  private copyDefinition(def: ElfSymbol): void {
    const from = def.section!;
    const alone = this.index.definitionsIn(from).filter((s) => s.type === def.type).length === 1;
    const section = newSection({
      name: alone ? from.name : `${from.name}.${def.name}`,
      type: from.type,
      flags: from.flags & ~SHF_GROUP,
      addralign: from.addralign,
      entsize: from.entsize,
      data: from.type === SHT_NOBITS ? Buffer.alloc(0) : Buffer.from(symbolBytes(def)),
      size: def.size,
    });
    this.sections.push(section);
    const copy: ElfSymbol = { ...def, index: 0, section, value: 0 };
    this.symbols.push(copy);
    this.copies.set(def, copy);
  }

  private copyRelocations(def: ElfSymbol): void {
    const copy = this.copies.get(def)!;
    for (const rela of this.index.relocationsIn(def.section!, def.value, def.size)) {
      this.addRela(copy.section!, { ...this.retarget(rela, def.section!), offset: rela.offset - def.value, type: rela.type });
    }
  }

  private addRela(section: ElfSection, rela: Rela): void {
    const list = this.relas.get(section);
    if (list) list.push(rela);
    else this.relas.set(section, [rela]);
  }

  /**
   * The symbol and addend a copied relocation uses.
   *
   * Example: `call helper` (PLT32 `.text.helper`-4, helper static and not copied) → PLT32
   * undefined `helper`-4, external {helper, local}. `lea .LC3-4(%rip)` → PC32 to a label on the
   * copied string, -4.
   */
  private retarget(rela: Rela, from: ElfSection): { symbol: ElfSymbol; addend: bigint } {
    const ref = this.index.referent(rela, from);
    switch (ref.kind) {
      case 'symbol': {
        const copy = this.copies.get(ref.symbol);
        if (copy) return { symbol: copy, addend: ref.offset };
        const kind = isFunction(ref.symbol) ? 'function' : 'data';
        return { symbol: this.external(this.kernelName(ref.symbol), ref.symbol.bind, ref.symbol.type, kind), addend: ref.offset };
      }
      case 'string':
        return { symbol: this.stringLabel(ref.section, ref.text), addend: ref.offset };
      case 'section':
        if (isMergeConstants(ref.section)) return { symbol: this.sectionSymbol(this.constantPool(ref.section)), addend: ref.offset };
        return { symbol: this.external(ref.section.name, STB_LOCAL, STT_NOTYPE, 'section'), addend: ref.offset };
      case 'external':
        return { symbol: this.external(ref.symbol.name, ref.symbol.bind, ref.symbol.type, 'other'), addend: ref.offset };
    }
  }

  private external(name: string, bind: number, type: number, kind: ExternalReference['kind']): ElfSymbol {
    let e = this.externals.get(name);
    if (!e) {
      const symbol: ElfSymbol = {
        index: 0,
        name,
        bind: bind === STB_WEAK ? STB_WEAK : STB_GLOBAL,
        type: kind === 'section' ? STT_NOTYPE : type,
        other: 0,
        section: null,
        shndx: 0,
        value: 0,
        size: 0,
      };
      e = { symbol, ref: { name, local: bind === STB_LOCAL, kind } };
      this.externals.set(name, e);
    }
    return e.symbol;
  }

  /** A local label on a copy of the string, in a string section like the original (kept mergeable). */
  private stringLabel(original: ElfSection, text: string): ElfSymbol {
    let strings = this.stringSections.get(original);
    if (!strings) {
      const section = newSection({
        name: original.name,
        type: original.type,
        flags: original.flags & ~SHF_GROUP,
        addralign: original.addralign,
        entsize: original.entsize,
      });
      this.sections.push(section);
      strings = { section, labels: new Map() };
      this.stringSections.set(original, strings);
    }
    let label = strings.labels.get(text);
    if (!label) {
      const section = strings.section;
      const value = section.data.length;
      const width = Math.max(1, Number(original.entsize));
      const bytes = Buffer.concat([Buffer.from(text, 'latin1'), Buffer.alloc(width)]);
      section.data = Buffer.concat([section.data, bytes]);
      section.size = section.data.length;
      label = {
        index: 0,
        name: `.LC${this.symbols.length}`,
        bind: STB_LOCAL,
        type: STT_NOTYPE,
        other: 0,
        section,
        shndx: 0,
        value,
        size: 0,
      };
      this.symbols.push(label);
      strings.labels.set(text, label);
    }
    return label;
  }

  /**
   * A whole copy of a literal-constant pool the code reads: constants have no identity, so the
   * update may carry its own, and a copy that keeps every offset needs no guess at which entry a
   * PC-relative displacement means.
   *
   * Example: hrtimer_nanosleep_restart's `movzwl .LC2(%rip),%edx` (PC32 `.LC2`-4, a label at
   * `.rodata.cst2`+0) → PC32 to the copied `.rodata.cst2` + 0 - 4.
   */
  private constantPool(original: ElfSection): ElfSection {
    let copy = this.constantPools.get(original);
    if (!copy) {
      copy = newSection({
        name: original.name,
        type: original.type,
        flags: original.flags & ~SHF_GROUP,
        addralign: original.addralign,
        entsize: original.entsize,
        data: Buffer.from(original.data),
        size: original.data.length,
      });
      this.constantPools.set(original, copy);
      this.sections.push(copy);
    }
    return copy;
  }

  private sectionSymbol(section: ElfSection): ElfSymbol {
    let sym = this.sectionSymbols.get(section);
    if (!sym) {
      sym = { index: 0, name: '', bind: STB_LOCAL, type: STT_SECTION, other: 0, section, shndx: 0, value: 0, size: 0 };
      this.sectionSymbols.set(section, sym);
      this.symbols.push(sym);
    }
    return sym;
  }

  private specialCopy(original: ElfSection): ElfSection {
    let copy = this.specialCopies.get(original.name);
    if (!copy) {
      copy = newSection({
        name: original.name,
        type: original.type,
        flags: original.flags & ~SHF_GROUP,
        addralign: original.addralign,
        entsize: original.entsize,
      });
      this.specialCopies.set(original.name, copy);
      this.sections.push(copy);
    }
    return copy;
  }

  private append(section: ElfSection, bytes: Buffer): number {
    const align = Math.max(1, Number(section.addralign));
    const start = Math.ceil(section.data.length / align) * align;
    section.data = Buffer.concat([section.data, Buffer.alloc(start - section.data.length), bytes]);
    section.size = section.data.length;
    return start;
  }

  /**
   * The entries of the special sections that describe copied functions, in their original order
   * (which keeps `.orc_unwind` entry i paired with `.orc_unwind_ip` entry i).
   */
  private copySpecialEntries(functions: ElfSymbol[]): void {
    const byFunction = specialEntriesByFunction(this.index);
    const chosen = new Map<ElfSection, SpecialEntry[]>();
    for (const fn of functions) {
      for (const e of byFunction.get(fn) ?? []) chosen.set(e.section, [...(chosen.get(e.section) ?? []), e]);
    }
    for (const [original, entries] of chosen) {
      entries.sort((a, b) => a.index - b.index);
      const layout = specialSectionLayout(original.name)!;
      const copy = this.specialCopy(original);
      for (const e of entries) {
        // Padded to a whole entry: the original's last one may lack its alignment tail.
        const bytes = Buffer.alloc(layout.entrySize);
        original.data.copy(bytes, 0, e.start, Math.min(e.start + layout.entrySize, original.size));
        const start = this.append(copy, bytes);
        for (const rela of this.index.relocationsIn(original, e.start, layout.entrySize)) {
          const fieldOffset = rela.offset - e.start;
          const target = layout.payload?.field === fieldOffset ? this.copyPayload(original, e, rela) : this.retarget(rela, original);
          this.addRela(copy, { ...target, offset: start + fieldOffset, type: rela.type });
        }
      }
    }
  }

  /** An alternative's replacement code, copied into our own `.altinstr_replacement`. */
  private copyPayload(original: ElfSection, entry: SpecialEntry, rela: Rela): { symbol: ElfSymbol; addend: bigint } {
    const payload = entry.layout.payload!;
    const from = rela.symbol.section;
    if (!from) return this.retarget(rela, original);
    const start = rela.symbol.value + Number(rela.addend);
    const length = original.data[entry.start + payload.lengthOffset]!;
    const copy = this.specialCopy(from);
    const at = this.append(copy, Buffer.from(from.data.subarray(start, start + length)));
    for (const inner of this.index.relocationsIn(from, start, length)) {
      this.addRela(copy, { ...this.retarget(inner, from), offset: at + inner.offset - start, type: inner.type });
    }
    return { symbol: this.sectionSymbol(copy), addend: BigInt(at) };
  }
}
