/**
 * ELF64 little-endian relocatable object writer: the inverse of readElf.
 *
 * Usage: await writeFile('out.o', writeElf(obj));
 *
 * Layout: ELF header, section contents (each at its alignment), section header table. The
 * section order is obj.sections, then .symtab, .strtab, .symtab_shndx (only when a symbol's
 * section index needs it), .shstrtab. Symbols are written locals first (the ELF rule that
 * sh_info of .symtab is the first non-local), keeping their relative order otherwise.
 * Relocations, group members, SHF_LINK_ORDER links and symbol section indices are re-encoded
 * from object references, so sections may be added, dropped or reordered freely.
 */
import {
  ElfFormatError,
  ET_REL,
  NULL_SYMBOL,
  SHN_LORESERVE,
  SHN_XINDEX,
  SHT_GROUP,
  SHT_NOBITS,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  STB_LOCAL,
  type ElfObject,
  type ElfSection,
  type ElfSymbol,
} from './types.ts';

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const RELA_SIZE = 24;

/** A string table being built: offset 0 is the empty string; equal strings share one copy. */
class StringTable {
  private readonly offsets = new Map<string, number>([['', 0]]);
  private readonly parts: Buffer[] = [Buffer.from([0])];
  private length = 1;

  add(s: string): number {
    let off = this.offsets.get(s);
    if (off === undefined) {
      off = this.length;
      const bytes = Buffer.from(s + '\0', 'utf8');
      this.parts.push(bytes);
      this.length += bytes.length;
      this.offsets.set(s, off);
    }
    return off;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

interface OutSection {
  section: ElfSection;
  nameOffset: number;
  data: Buffer;
  link: number;
  info: number;
  offset: number;
  /** sh_entsize as written: fixed for the tables the writer encodes itself. */
  entsize: bigint;
}

export function writeElf(obj: ElfObject): Buffer {
  const symbols = [...obj.symbols.filter((s) => s.bind === STB_LOCAL), ...obj.symbols.filter((s) => s.bind !== STB_LOCAL)];
  const firstGlobal = 1 + symbols.filter((s) => s.bind === STB_LOCAL).length;
  const symbolIndex = new Map<ElfSymbol, number>([[NULL_SYMBOL, 0]]);
  symbols.forEach((s, i) => symbolIndex.set(s, i + 1));
  const indexOfSymbol = (s: ElfSymbol, user: string): number => {
    const i = symbolIndex.get(s);
    if (i === undefined) throw new ElfFormatError(`${user} refers to symbol '${s.name}', which is not in the object's symbol list`);
    return i;
  };

  const sectionIndex = new Map<ElfSection, number>();
  obj.sections.forEach((s, i) => sectionIndex.set(s, i + 1));
  const indexOfSection = (s: ElfSection, user: string): number => {
    const i = sectionIndex.get(s);
    if (i === undefined) throw new ElfFormatError(`${user} refers to section '${s.name}', which is not in the object`);
    return i;
  };

  const symtabIndex = obj.sections.length + 1;
  const needsXindex = obj.sections.length + 4 >= SHN_LORESERVE;
  const strtabIndex = symtabIndex + 1;
  const xindexIndex = needsXindex ? strtabIndex + 1 : -1;
  const shstrtabIndex = (needsXindex ? xindexIndex : strtabIndex) + 1;
  const shnum = shstrtabIndex + 1;

  // Symbol table (and its extension for section indices that do not fit 16 bits).
  const strtab = new StringTable();
  const symtabData = Buffer.alloc((symbols.length + 1) * SYM_SIZE);
  const xindexData = needsXindex ? Buffer.alloc((symbols.length + 1) * 4) : null;
  symbols.forEach((s, i) => {
    const o = (i + 1) * SYM_SIZE;
    symtabData.writeUInt32LE(strtab.add(s.name), o);
    symtabData[o + 4] = (s.bind << 4) | (s.type & 0xf);
    symtabData[o + 5] = s.other;
    let shndx = s.section ? indexOfSection(s.section, `symbol '${s.name}'`) : s.shndx;
    if (s.section && shndx >= SHN_LORESERVE) {
      xindexData!.writeUInt32LE(shndx, (i + 1) * 4);
      shndx = SHN_XINDEX;
    }
    symtabData.writeUInt16LE(shndx, o + 6);
    symtabData.writeBigUInt64LE(BigInt(s.value), o + 8);
    symtabData.writeBigUInt64LE(BigInt(s.size), o + 16);
  });

  const shstrtab = new StringTable();
  const out: OutSection[] = obj.sections.map((section) => {
    let data = section.data;
    let link = section.link;
    let info = section.info;
    let entsize = section.entsize;
    if (section.type === SHT_RELA && section.rela) {
      const { target, entries } = section.rela;
      data = Buffer.alloc(entries.length * RELA_SIZE);
      entries.forEach((r, k) => {
        const o = k * RELA_SIZE;
        data.writeBigUInt64LE(BigInt(r.offset), o);
        data.writeUInt32LE(r.type, o + 8);
        data.writeUInt32LE(indexOfSymbol(r.symbol, `${section.name} entry ${k}`), o + 12);
        data.writeBigInt64LE(r.addend, o + 16);
      });
      link = symtabIndex;
      info = indexOfSection(target, section.name);
      entsize = BigInt(RELA_SIZE);
    } else if (section.type === SHT_GROUP && section.group) {
      const { flags, signature, members } = section.group;
      data = Buffer.alloc(4 + members.length * 4);
      data.writeUInt32LE(flags, 0);
      members.forEach((m, k) => data.writeUInt32LE(indexOfSection(m, `group ${section.name}`), 4 + k * 4));
      link = symtabIndex;
      info = indexOfSymbol(signature, `group ${section.name}`);
      entsize = 4n;
    } else if (section.linkTo) {
      link = indexOfSection(section.linkTo, `${section.name} sh_link`);
    }
    return { section, nameOffset: shstrtab.add(section.name), data, link, info, offset: 0, entsize };
  });

  const synthetic = (name: string, type: number, data: Buffer, link: number, info: number, align: bigint, entsize: bigint): OutSection => ({
    section: { index: 0, name, type, flags: 0n, addr: 0n, addralign: align, entsize, data, size: data.length, link, info },
    nameOffset: shstrtab.add(name),
    data,
    link,
    info,
    offset: 0,
    entsize,
  });
  out.push(synthetic('.symtab', SHT_SYMTAB, symtabData, strtabIndex, firstGlobal, 8n, BigInt(SYM_SIZE)));
  out.push(synthetic('.strtab', SHT_STRTAB, strtab.toBuffer(), 0, 0, 1n, 0n));
  if (xindexData) out.push(synthetic('.symtab_shndx', SHT_SYMTAB_SHNDX, xindexData, symtabIndex, 0, 4n, 4n));
  const shstrtabEntry = synthetic('.shstrtab', SHT_STRTAB, Buffer.alloc(0), 0, 0, 1n, 0n);
  out.push(shstrtabEntry);
  shstrtabEntry.data = shstrtab.toBuffer();
  shstrtabEntry.section.size = shstrtabEntry.data.length;

  // Lay out contents after the ELF header, each at its alignment.
  let cursor = EHDR_SIZE;
  for (const s of out) {
    if (s.section.type === SHT_NOBITS) {
      s.offset = cursor;
      continue;
    }
    const align = Math.max(1, Number(s.section.addralign));
    cursor = Math.ceil(cursor / align) * align;
    s.offset = cursor;
    cursor += s.data.length;
  }
  const shoff = Math.ceil(cursor / 8) * 8;
  const file = Buffer.alloc(shoff + shnum * SHDR_SIZE);

  // ELF header.
  file.writeUInt32BE(0x7f454c46, 0);
  file[4] = 2; // ELFCLASS64
  file[5] = 1; // ELFDATA2LSB
  file[6] = 1; // EV_CURRENT
  file[7] = obj.header.osabi;
  file[8] = obj.header.abiversion;
  file.writeUInt16LE(ET_REL, 16);
  file.writeUInt16LE(obj.header.machine, 18);
  file.writeUInt32LE(1, 20);
  file.writeBigUInt64LE(BigInt(shoff), 40);
  file.writeUInt32LE(obj.header.flags, 48);
  file.writeUInt16LE(EHDR_SIZE, 52);
  file.writeUInt16LE(SHDR_SIZE, 58);
  file.writeUInt16LE(shnum >= SHN_LORESERVE ? 0 : shnum, 60);
  file.writeUInt16LE(shstrtabIndex >= SHN_LORESERVE ? SHN_XINDEX : shstrtabIndex, 62);

  // Section 0 carries the real counts under extended numbering.
  if (shnum >= SHN_LORESERVE) file.writeBigUInt64LE(BigInt(shnum), shoff + 32);
  if (shstrtabIndex >= SHN_LORESERVE) file.writeUInt32LE(shstrtabIndex, shoff + 40);

  out.forEach((s, i) => {
    const o = shoff + (i + 1) * SHDR_SIZE;
    const sec = s.section;
    file.writeUInt32LE(s.nameOffset, o);
    file.writeUInt32LE(sec.type, o + 4);
    file.writeBigUInt64LE(sec.flags, o + 8);
    file.writeBigUInt64LE(sec.addr, o + 16);
    file.writeBigUInt64LE(BigInt(s.offset), o + 24);
    file.writeBigUInt64LE(BigInt(sec.type === SHT_NOBITS ? sec.size : s.data.length), o + 32);
    file.writeUInt32LE(s.link, o + 40);
    file.writeUInt32LE(s.info, o + 44);
    file.writeBigUInt64LE(sec.addralign, o + 48);
    file.writeBigUInt64LE(s.entsize, o + 56);
    if (sec.type !== SHT_NOBITS) s.data.copy(file, s.offset);
  });
  return file;
}
