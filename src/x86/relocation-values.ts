/**
 * x86-64: from the bytes the linker wrote at a relocation site back to the symbol value it used.
 * (The reproduction check's inverse of relocation; with the rest of the x86 arithmetic in
 * src/x86/, next to the relocation types in relocations.ts.)
 *
 * Example: `call vprintk` at P = 0xffffffff81b4c6c0 with PLT32 addend -4 and stored displacement
 * 0xffee2b3c: S = P + sext32(0xffee2b3c) - (-4) = 0xffffffff81a2f200, which System.map must call vprintk.
 */
import { R_X86_64_32, R_X86_64_32S, R_X86_64_64, R_X86_64_PC32, R_X86_64_PC64, R_X86_64_PLT32 } from './relocations.ts';

const MASK64 = (1n << 64n) - 1n;

function signExtend32(value: bigint): bigint {
  return value >= 0x80000000n ? value - 0x100000000n : value;
}

/** S such that the stored field equals the relocation's result for S, modulo 2^64. */
export function impliedSymbolValue(type: number, stored: bigint, place: bigint, addend: bigint): bigint {
  switch (type) {
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
      return (place + signExtend32(stored) - addend) & MASK64;
    case R_X86_64_32S:
      return (signExtend32(stored) - addend) & MASK64;
    case R_X86_64_32:
      return (stored - addend) & MASK64;
    case R_X86_64_64:
      return (stored - addend) & MASK64;
    case R_X86_64_PC64:
      return (place + stored - addend) & MASK64;
    default:
      throw new Error(`relocation type ${type} has no x86-64 value rule`);
  }
}

/**
 * The field a linker writes at a relocation site for symbol value S (the forward rule of
 * impliedSymbolValue), truncated to the site's width by the caller.
 *
 * Example: PLT32 to S = 0x1000 with addend -4 at P = 0x2000 stores 0x1000 - 4 - 0x2000 = -0x1004.
 */
export function relocationResult(type: number, symbolValue: bigint, place: bigint, addend: bigint): bigint {
  switch (type) {
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
    case R_X86_64_PC64:
      return (symbolValue + addend - place) & MASK64;
    case R_X86_64_32S:
    case R_X86_64_32:
    case R_X86_64_64:
      return (symbolValue + addend) & MASK64;
    default:
      throw new Error(`relocation type ${type} has no x86-64 value rule`);
  }
}
