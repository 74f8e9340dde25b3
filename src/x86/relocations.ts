/**
 * Everything specific to x86-64 and to the 6.1 kernel's x86 tables, in one place: relocation
 * types (width, PC-relative or not) and the entry layouts of the special sections the kernel
 * rewrites or consults at run time. Core logic (src/diff) asks questions of this module and never
 * spells out a relocation number or an entry size itself.
 */

export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_GOT32 = 3;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_GOTPCREL = 9;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;
export const R_X86_64_16 = 12;
export const R_X86_64_PC16 = 13;
export const R_X86_64_8 = 14;
export const R_X86_64_PC8 = 15;
export const R_X86_64_PC64 = 24;
export const R_X86_64_GOTPCRELX = 41;
export const R_X86_64_REX_GOTPCRELX = 42;

const relocWidths: Record<number, number> = {
  [R_X86_64_NONE]: 0,
  [R_X86_64_64]: 8,
  [R_X86_64_PC32]: 4,
  [R_X86_64_GOT32]: 4,
  [R_X86_64_PLT32]: 4,
  [R_X86_64_GOTPCREL]: 4,
  [R_X86_64_32]: 4,
  [R_X86_64_32S]: 4,
  [R_X86_64_16]: 2,
  [R_X86_64_PC16]: 2,
  [R_X86_64_8]: 1,
  [R_X86_64_PC8]: 1,
  [R_X86_64_PC64]: 8,
  [R_X86_64_GOTPCRELX]: 4,
  [R_X86_64_REX_GOTPCRELX]: 4,
};

const relocNames: Record<number, string> = {
  [R_X86_64_NONE]: 'R_X86_64_NONE',
  [R_X86_64_64]: 'R_X86_64_64',
  [R_X86_64_PC32]: 'R_X86_64_PC32',
  [R_X86_64_PLT32]: 'R_X86_64_PLT32',
  [R_X86_64_32]: 'R_X86_64_32',
  [R_X86_64_32S]: 'R_X86_64_32S',
  [R_X86_64_PC64]: 'R_X86_64_PC64',
};

/** How many bytes a relocation of this type overwrites (the bytes a comparison must ignore). */
export function relocationWidth(type: number): number {
  const width = relocWidths[type];
  if (width === undefined) throw new Error(`unsupported x86-64 relocation type ${type}`);
  return width;
}

export function relocationName(type: number): string {
  return relocNames[type] ?? `R_X86_64_${type}`;
}

export function isPcRelative(type: number): boolean {
  return type === R_X86_64_PC32 || type === R_X86_64_PLT32 || type === R_X86_64_PC64 || type === R_X86_64_PC16 || type === R_X86_64_PC8;
}

/**
 * Where a relocation in code really points, relative to its symbol.
 *
 * In an instruction, a PC-relative displacement is relative to the end of the instruction, and
 * the assembler folds that distance into the addend: `call foo` is `e8` + PLT32 foo-4,
 * `lea .LC0(%rip),%rdi` is PC32 .LC0-4. The displacement is almost always the instruction's
 * last 4 bytes, so target = addend + 4. In data tables (`.long 1b - .`), the field itself is the
 * reference point and target = addend.
 *
 * Example: `.text.devkmsg_release` + 0x1f from a jump in the cold part points at offset 0x23.
 */
export function relocationTarget(type: number, addend: bigint, inCode: boolean): number {
  const bias = inCode && isPcRelative(type) ? relocationWidth(type) : 0;
  return Number(addend) + bias;
}

/**
 * How the entries of a special section are laid out and which field says where the entry applies.
 *
 * `entrySize` is the stride; `siteOffset` the offset of the field relocated against the code the
 * entry describes (the "site"); `ignoredRanges` the byte ranges of an entry whose differences
 * are not a change of the function (the line number of a bug entry).
 */
export interface SpecialSectionLayout {
  name: string;
  entrySize: number;
  siteOffset: number;
  ignoredRanges?: readonly { offset: number; size: number; why: string }[];
  /** Entries described by index, not by relocation: entry i belongs with entry i of this section. */
  parallelTo?: string;
  /**
   * The entry points at code kept elsewhere that must travel with it: a relocated field naming
   * the start, and a byte holding the length (.altinstructions → .altinstr_replacement).
   */
  payload?: { field: number; lengthOffset: number };
}

// Layouts in 6.1, x86-64, with CONFIG_GENERIC_BUG_RELATIVE_POINTERS and CONFIG_DEBUG_BUGVERBOSE.
const specialSections: readonly SpecialSectionLayout[] = [
  // u64 address of the `call __fentry__`.
  { name: '__mcount_loc', entrySize: 8, siteOffset: 0 },
  // struct alt_instr { s32 instr_offset; s32 repl_offset; u16 cpuid; u8 instrlen; u8 replacementlen; }
  { name: '.altinstructions', entrySize: 12, siteOffset: 0, payload: { field: 4, lengthOffset: 11 } },
  // struct paravirt_patch_site { u8 *instr; u8 type; u8 len; } aligned to 8 → 16 bytes.
  { name: '.parainstructions', entrySize: 16, siteOffset: 0 },
  // objtool's s32 site lists.
  { name: '.retpoline_sites', entrySize: 4, siteOffset: 0 },
  { name: '.return_sites', entrySize: 4, siteOffset: 0 },
  { name: '.smp_locks', entrySize: 4, siteOffset: 0 },
  // struct static_call_site { s32 addr; s32 key; }
  { name: '.static_call_sites', entrySize: 8, siteOffset: 0 },
  // struct jump_entry { s32 code; s32 target; long key; }
  { name: '__jump_table', entrySize: 16, siteOffset: 0 },
  // struct bug_entry { s32 bug_addr_disp; s32 file_disp; u16 line; u16 flags; }
  { name: '__bug_table', entrySize: 12, siteOffset: 0, ignoredRanges: [{ offset: 8, size: 2, why: 'line number' }] },
  // struct exception_table_entry { int insn, fixup, data; }
  { name: '__ex_table', entrySize: 12, siteOffset: 0 },
  // s32 instruction address; the ORC entry for it is at the same index in .orc_unwind.
  { name: '.orc_unwind_ip', entrySize: 4, siteOffset: 0 },
  // struct orc_entry { s16 sp_offset; s16 bp_offset; u16 flags; }
  { name: '.orc_unwind', entrySize: 6, siteOffset: -1, parallelTo: '.orc_unwind_ip' },
];

const layoutByName = new Map(specialSections.map((l) => [l.name, l]));

/** The layout of a special section whose entries must travel with the functions they describe. */
export function specialSectionLayout(name: string): SpecialSectionLayout | undefined {
  return layoutByName.get(name);
}

export function specialSectionNames(): string[] {
  return specialSections.map((l) => l.name);
}

/**
 * Kernel metadata objects that record a source line: a difference there alone is the `__LINE__`
 * of a call site moving, not a change of behaviour worth an update.
 * struct _ddebug { modname, function, filename, format; unsigned lineno:18, ...; key } (56 bytes).
 */
const lineOnlyFields: Record<string, { offset: number; size: number }> = {
  __dyndbg: { offset: 32, size: 3 },
};

/** The byte range of the line number in an object of this section, if the section records one. */
export function lineNumberField(sectionName: string): { offset: number; size: number } | undefined {
  return lineOnlyFields[sectionName];
}

/**
 * Sections objtool and the build leave for the linker to throw away, and sections whose content
 * says nothing about a function's behaviour: dropped from comparisons and from extracted objects.
 */
export function isDiscardedAtLink(name: string): boolean {
  return name.startsWith('.discard.') || name.startsWith('.debug_') || name === '.comment' || name === '.note.GNU-stack';
}

/** The 5-byte instruction at a function's entry that ftrace patches: `call __fentry__`. */
export const FENTRY_SYMBOL = '__fentry__';
