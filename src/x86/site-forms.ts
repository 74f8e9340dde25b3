/**
 * x86-64 instruction knowledge the create stage needs to describe runtime-patched sites for the
 * engine (kmod/README.md, "How the create stage fills sites[]"): how long each patched
 * instruction is, which register a retpoline thunk stands for, which relocation types the
 * engine computes. The only file of src/ that decodes instruction bytes.
 *
 * Usage: `siteLengthOfReturnThunk(code[off])`, `retpolineSite(code, off, thunkName)`.
 */
import { R_X86_64_64, R_X86_64_PC32, R_X86_64_PC64, R_X86_64_PLT32 } from './relocations.ts';

const JMP_REL32 = 0xe9;
const TWO_BYTE_OPCODE = 0x0f;
const CS_PREFIX = 0x2e;
const JMP_REL8 = 0xeb;
const NOP2_FIRST = 0x66;

/** Register numbers of `__x86_indirect_thunk_<reg>`, in the engine's order (ModRM numbering). */
const THUNK_REGISTERS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** Bytes a relocation of this type covers (8 for absolute/PC 64-bit, else 4). */
export function relocationSiteLength(type: number): number {
  return type === R_X86_64_64 || type === R_X86_64_PC64 ? 8 : 4;
}

/** A PC-relative field: its value is relative to the end of the 4-byte displacement. */
export function isPcRelative32(type: number): boolean {
  return type === R_X86_64_PC32 || type === R_X86_64_PLT32;
}

/**
 * `jmp __x86_return_thunk` is `e9 rel32` (5 bytes); a conditional tail return
 * `jne __x86_return_thunk` is `0f 85 rel32` (6 bytes).
 */
export function returnThunkLength(firstByte: number): number {
  return firstByte === TWO_BYTE_OPCODE ? 6 : 5;
}

/**
 * A retpoline call or jump: `e8/e9 rel32` (5), `0f 8x rel32` (6), each one byte longer when gcc
 * put a `cs` prefix in front (-mindirect-branch-cs-prefix, for r8..r15 thunks).
 *
 * Example: `2e e8 xx xx xx xx` to `__x86_indirect_thunk_r11` → length 6, reg 11, call.
 */
export function retpolineSite(code: Buffer, offset: number, thunk: string): { length: number; reg: number; isJump: boolean } {
  const prefix = code[offset] === CS_PREFIX ? 1 : 0;
  const opcode = code[offset + prefix];
  const conditional = opcode === TWO_BYTE_OPCODE;
  const reg = THUNK_REGISTERS.indexOf(thunk.replace('__x86_indirect_thunk_', ''));
  if (reg < 0) throw new Error(`retpoline site at +0x${offset.toString(16)}: unknown thunk '${thunk}'`);
  return { length: prefix + (conditional ? 6 : 5), reg, isJump: conditional || opcode === JMP_REL32 };
}

/** A static call site `call/jmp __SCT__name`: a jump when it is a tail call (`e9`). */
export function isJumpOpcode(firstByte: number): boolean {
  return firstByte === JMP_REL32;
}

/** A jump label is `jmp.d8`/2-byte nop (2 bytes) or `jmp rel32`/5-byte nop (5 bytes). */
export function jumpLabelLength(firstByte: number): number {
  return firstByte === JMP_REL8 || firstByte === NOP2_FIRST ? 2 : 5;
}

/** The `call __fentry__` at a traceable function's entry: 5 bytes. */
export const FENTRY_CALL_LENGTH = 5;
/** A static call instruction: 5 bytes. */
export const STATIC_CALL_LENGTH = 5;
/** Byte of a `struct paravirt_patch_site` (16 bytes: u8 *instr; u8 type; u8 len) holding the length. */
export const PARAVIRT_LENGTH_OFFSET = 9;
/** `struct alt_instr` (12 bytes, special-sections.ts): s32 instr, s32 repl, u16 cpuid, u8 instrlen, u8 replacementlen. */
export const ALT_INSTR = { replOffset: 4, instrLenOffset: 10, replLenOffset: 11 } as const;
/** `struct jump_entry` (16 bytes, special-sections.ts): s32 code, s32 target, long key. */
export const JUMP_ENTRY = { targetOffset: 4 } as const;
