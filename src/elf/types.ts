/**
 * The in-memory model of an ELF64 relocatable object (ET_REL), as the reader builds it and the
 * writer serializes it.
 *
 * Sections and symbols refer to each other by object, not by index: a relocation names its
 * ElfSymbol, a symbol names its ElfSection. Indices are the reader's (for messages and oracles)
 * and are recomputed by the writer, so code that builds a new object (extractFunctions) only has
 * to assemble sections and symbols.
 *
 * The tables that only exist to encode this model (.symtab, .strtab, .shstrtab, .symtab_shndx)
 * are not in `sections`: the writer regenerates them.
 */

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;

export const SHF_WRITE = 0x1n;
export const SHF_ALLOC = 0x2n;
export const SHF_EXECINSTR = 0x4n;
export const SHF_MERGE = 0x10n;
export const SHF_STRINGS = 0x20n;
export const SHF_INFO_LINK = 0x40n;
export const SHF_LINK_ORDER = 0x80n;
export const SHF_GROUP = 0x200n;

export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

export const GRP_COMDAT = 1;

export const ET_REL = 1;
export const EM_X86_64 = 62;

export interface ElfSection {
  /** Index in the file this section was read from (0 for sections built in memory). */
  index: number;
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  addralign: bigint;
  entsize: bigint;
  /** Contents; empty for SHT_NOBITS (see size). For RELA and GROUP sections the writer re-encodes `rela`/`group`. */
  data: Buffer;
  /** sh_size: data.length, except for SHT_NOBITS. */
  size: number;
  /** sh_link / sh_info of sections whose meaning the model does not know (kept as read). */
  link: number;
  info: number;
  /** SHF_LINK_ORDER: the section sh_link names (the writer recomputes the index). */
  linkTo?: ElfSection;
  /** SHT_RELA: the section the relocations apply to and the entries, by symbol object. */
  rela?: RelaTable;
  /** SHT_GROUP: the flag word, the signature symbol and the member sections. */
  group?: SectionGroup;
}

export interface RelaTable {
  target: ElfSection;
  entries: Rela[];
}

export interface Rela {
  offset: number;
  type: number;
  symbol: ElfSymbol;
  addend: bigint;
}

export interface SectionGroup {
  flags: number;
  signature: ElfSymbol;
  members: ElfSection[];
}

export interface ElfSymbol {
  /** Index in the file's .symtab (0 for symbols built in memory). */
  index: number;
  name: string;
  bind: number;
  type: number;
  /** st_other (visibility). */
  other: number;
  /** The defining section, or null for undefined, absolute and common symbols (see shndx). */
  section: ElfSection | null;
  /** SHN_UNDEF, SHN_ABS or SHN_COMMON when section is null; otherwise ignored by the writer. */
  shndx: number;
  value: number;
  size: number;
}

export interface ElfHeader {
  osabi: number;
  abiversion: number;
  machine: number;
  flags: number;
}

export interface ElfObject {
  header: ElfHeader;
  /** Every section except index 0 and the symbol/string tables the writer regenerates, in file order. */
  sections: ElfSection[];
  /** Every symbol except the null symbol at index 0, in file order. */
  symbols: ElfSymbol[];
}

/** The symbol a relocation with r_sym = 0 refers to: no name, no section, value 0. */
export const NULL_SYMBOL: ElfSymbol = Object.freeze({
  index: 0,
  name: '',
  bind: 0,
  type: 0,
  other: 0,
  section: null,
  shndx: 0,
  value: 0,
  size: 0,
});

export class ElfFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfFormatError';
  }
}

/** The relocation section that applies to `section`, if any. */
export function relaFor(obj: ElfObject, section: ElfSection): RelaTable | undefined {
  return relaIndex(obj).get(section);
}

const relaIndexCache = new WeakMap<ElfObject, Map<ElfSection, RelaTable>>();

/** section → its RELA table, computed once per object (objects are not mutated after reading). */
export function relaIndex(obj: ElfObject): Map<ElfSection, RelaTable> {
  let index = relaIndexCache.get(obj);
  if (!index) {
    index = new Map();
    for (const s of obj.sections) if (s.rela) index.set(s.rela.target, s.rela);
    relaIndexCache.set(obj, index);
  }
  return index;
}

export function isFunction(sym: ElfSymbol): boolean {
  return sym.type === STT_FUNC && sym.section !== null;
}

export function isDataObject(sym: ElfSymbol): boolean {
  return sym.type === STT_OBJECT && sym.section !== null;
}

export function isSectionSymbol(sym: ElfSymbol): boolean {
  return sym.type === STT_SECTION;
}

export function isUndefined(sym: ElfSymbol): boolean {
  return sym.section === null && sym.shndx === SHN_UNDEF;
}

export function isMergeStrings(section: ElfSection): boolean {
  return (section.flags & SHF_MERGE) !== 0n && (section.flags & SHF_STRINGS) !== 0n;
}

/** A pool of fixed-size literal constants the compiler may share (`.rodata.cst2`, `.rodata.cst16`). */
export function isMergeConstants(section: ElfSection): boolean {
  return (section.flags & SHF_MERGE) !== 0n && (section.flags & SHF_STRINGS) === 0n && section.entsize > 0n;
}

export function isExecutable(section: ElfSection): boolean {
  return (section.flags & SHF_EXECINSTR) !== 0n;
}

/** A new empty section with sane defaults, for objects built in memory. */
export function newSection(init: Partial<ElfSection> & Pick<ElfSection, 'name' | 'type'>): ElfSection {
  const data = init.data ?? Buffer.alloc(0);
  return {
    index: 0,
    flags: 0n,
    addr: 0n,
    addralign: 1n,
    entsize: 0n,
    link: 0,
    info: 0,
    ...init,
    data,
    size: init.size ?? data.length,
  };
}
