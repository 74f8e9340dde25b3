/**
 * The 6.1 kernel's x86-64 special sections: how the entries of each table the kernel rewrites or
 * consults at run time are laid out (alternatives, paravirt, objtool's site lists, jump labels,
 * static calls, bug and exception tables, ORC), and which metadata objects record only a source
 * line. src/diff asks this module and never spells out an entry size itself.
 */

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
