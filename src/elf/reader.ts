/**
 * ELF64 little-endian relocatable object reader.
 *
 * Usage: const obj = readElf(await readFile('printk.o'));
 *
 * Handles extended numbering (e_shnum = 0 / e_shstrndx = SHN_XINDEX with the real values in
 * section 0, and .symtab_shndx for symbols whose section index is ≥ SHN_LORESERVE), SHT_RELA and
 * SHT_GROUP. Section contents are views into the input buffer (no copy), which keeps parsing an
 * object with tens of thousands of sections well under a second.
 */
import {
  ElfFormatError,
  NULL_SYMBOL,
  SHF_LINK_ORDER,
  ET_REL,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHN_XINDEX,
  SHT_GROUP,
  SHT_NOBITS,
  SHT_REL,
  SHT_RELA,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  type ElfObject,
  type ElfSection,
  type ElfSymbol,
  type Rela,
} from './types.ts';

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const RELA_SIZE = 24;

interface RawHeader {
  nameOffset: number;
  section: ElfSection;
  offset: number;
  size: number;
}

function cString(buf: Buffer, start: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 ? buf.length : end);
}

function checkRange(buf: Buffer, offset: number, size: number, what: string): void {
  if (offset < 0 || size < 0 || offset + size > buf.length) {
    throw new ElfFormatError(`${what} (offset ${offset}, size ${size}) lies outside the file (${buf.length} bytes)`);
  }
}

export function readElf(buf: Buffer): ElfObject {
  if (buf.length < EHDR_SIZE || buf.readUInt32BE(0) !== 0x7f454c46) throw new ElfFormatError('not an ELF file');
  if (buf[4] !== 2) throw new ElfFormatError('not ELF64');
  if (buf[5] !== 1) throw new ElfFormatError('not little-endian');
  const type = buf.readUInt16LE(16);
  if (type !== ET_REL) throw new ElfFormatError(`not a relocatable object (e_type ${type})`);
  const header = { osabi: buf[7]!, abiversion: buf[8]!, machine: buf.readUInt16LE(18), flags: buf.readUInt32LE(48) };

  const shoff = Number(buf.readBigUInt64LE(40));
  if (buf.readUInt16LE(58) !== SHDR_SIZE) throw new ElfFormatError('unexpected section header size');
  let shnum = buf.readUInt16LE(60);
  let shstrndx = buf.readUInt16LE(62);
  if (shoff === 0) return { header, sections: [], symbols: [] };
  checkRange(buf, shoff, SHDR_SIZE, 'section header 0');
  // Extended numbering: the real counts live in section 0 when they do not fit 16 bits.
  if (shnum === 0) shnum = Number(buf.readBigUInt64LE(shoff + 32));
  if (shstrndx === SHN_XINDEX) shstrndx = buf.readUInt32LE(shoff + 40);
  checkRange(buf, shoff, shnum * SHDR_SIZE, 'section header table');

  const raw: RawHeader[] = new Array(shnum);
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * SHDR_SIZE;
    const shType = buf.readUInt32LE(o + 4);
    const offset = Number(buf.readBigUInt64LE(o + 24));
    const size = Number(buf.readBigUInt64LE(o + 32));
    if (shType !== SHT_NOBITS && i !== 0) checkRange(buf, offset, size, `section ${i}`);
    raw[i] = {
      nameOffset: buf.readUInt32LE(o),
      offset,
      size,
      section: {
        index: i,
        name: '',
        type: shType,
        flags: buf.readBigUInt64LE(o + 8),
        addr: buf.readBigUInt64LE(o + 16),
        link: buf.readUInt32LE(o + 40),
        info: buf.readUInt32LE(o + 44),
        addralign: buf.readBigUInt64LE(o + 48),
        entsize: buf.readBigUInt64LE(o + 56),
        data: shType === SHT_NOBITS || i === 0 ? Buffer.alloc(0) : buf.subarray(offset, offset + size),
        size: i === 0 ? 0 : size,
      },
    };
  }
  if (shstrndx >= shnum) throw new ElfFormatError(`e_shstrndx ${shstrndx} out of range`);
  const shstrtab = raw[shstrndx]!.section.data;
  for (const r of raw) r.section.name = cString(shstrtab, r.nameOffset);
  const sectionAt = (i: number, what: string): ElfSection => {
    if (i <= 0 || i >= shnum) throw new ElfFormatError(`${what}: section index ${i} out of range`);
    return raw[i]!.section;
  };

  const symtabIndex = raw.findIndex((r) => r.section.type === SHT_SYMTAB);
  const symbols: ElfSymbol[] = [];
  const regenerated = new Set<number>([0, shstrndx]);
  if (symtabIndex > 0) {
    const symtab = raw[symtabIndex]!.section;
    const strtab = sectionAt(symtab.link, '.symtab sh_link').data;
    regenerated.add(symtabIndex).add(symtab.link);
    const shndxIndex = raw.findIndex((r) => r.section.type === SHT_SYMTAB_SHNDX && r.section.link === symtabIndex);
    const xindex = shndxIndex > 0 ? raw[shndxIndex]!.section.data : null;
    if (shndxIndex > 0) regenerated.add(shndxIndex);
    const data = symtab.data;
    const count = Math.floor(data.length / SYM_SIZE);
    for (let i = 1; i < count; i++) {
      const o = i * SYM_SIZE;
      const info = data[o + 4]!;
      let shndx = data.readUInt16LE(o + 6);
      if (shndx === SHN_XINDEX) {
        if (!xindex) throw new ElfFormatError(`symbol ${i} uses SHN_XINDEX but there is no .symtab_shndx`);
        shndx = xindex.readUInt32LE(i * 4);
      }
      const defined = shndx !== SHN_UNDEF && (shndx < SHN_LORESERVE || data.readUInt16LE(o + 6) === SHN_XINDEX);
      symbols.push({
        index: i,
        name: cString(strtab, data.readUInt32LE(o)),
        bind: info >> 4,
        type: info & 0xf,
        other: data[o + 5]!,
        section: defined ? sectionAt(shndx, `symbol ${i}`) : null,
        shndx: defined ? 0 : shndx,
        value: Number(data.readBigUInt64LE(o + 8)),
        size: Number(data.readBigUInt64LE(o + 16)),
      });
    }
  }
  const symbolAt = (i: number, what: string): ElfSymbol => {
    const s = symbols[i - 1];
    if (!s) throw new ElfFormatError(`${what}: symbol index ${i} out of range`);
    return s;
  };

  for (const { section } of raw) {
    if (section.type === SHT_REL) throw new ElfFormatError(`${section.name}: SHT_REL is not used on x86-64 and not supported`);
    if (section.type === SHT_RELA) {
      const entries: Rela[] = new Array(Math.floor(section.data.length / RELA_SIZE));
      const d = section.data;
      for (let k = 0; k < entries.length; k++) {
        const o = k * RELA_SIZE;
        const symIndex = d.readUInt32LE(o + 12);
        entries[k] = {
          offset: Number(d.readBigUInt64LE(o)),
          type: d.readUInt32LE(o + 8),
          // A relocation against symbol 0 is absolute (rare in objects); model it as the null symbol.
          symbol: symIndex === 0 ? NULL_SYMBOL : symbolAt(symIndex, `${section.name} entry ${k}`),
          addend: d.readBigInt64LE(o + 16),
        };
      }
      section.rela = { target: sectionAt(section.info, `${section.name} sh_info`), entries };
    } else if (section.type === SHT_GROUP) {
      const d = section.data;
      const members: ElfSection[] = [];
      for (let o = 4; o + 4 <= d.length; o += 4) members.push(sectionAt(d.readUInt32LE(o), `${section.name} member`));
      section.group = { flags: d.readUInt32LE(0), signature: symbolAt(section.info, `${section.name} signature`), members };
    }
  }

  // SHF_LINK_ORDER sections (e.g. __patchable_function_entries) name their text section in sh_link.
  for (const { section } of raw)
    if ((section.flags & SHF_LINK_ORDER) !== 0n) section.linkTo = sectionAt(section.link, `${section.name} sh_link`);

  const sections = raw.filter((_, i) => !regenerated.has(i)).map((r) => r.section);
  return { header, sections, symbols };
}

/** Sections of an object by name (first one wins when names repeat, as with several `.text` in asm). */
export function sectionsByName(obj: ElfObject): Map<string, ElfSection> {
  const map = new Map<string, ElfSection>();
  for (const s of obj.sections) if (!map.has(s.name)) map.set(s.name, s);
  return map;
}
