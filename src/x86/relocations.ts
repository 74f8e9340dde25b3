/**
 * x86-64 relocation types: their numbers, how many bytes each overwrites, which are PC-relative,
 * and where a relocation in code really points. Code elsewhere (src/diff, src/create) asks these
 * questions and never spells out a relocation number itself. The rest of the x86 knowledge sits
 * beside it in src/x86/: the kernel's special-section layouts (special-sections.ts), the symbol
 * value a linked site implies (relocation-values.ts), runtime-patched instruction forms
 * (site-forms.ts).
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
