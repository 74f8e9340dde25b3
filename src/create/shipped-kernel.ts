/**
 * The shipped vmlinux as the bootloader sees it: bytes by virtual address (System.map
 * addresses), through its PT_LOAD program headers. Only that: symbols come from System.map.
 *
 * Usage:
 *   const image = await openShippedKernel(inputs.vmlinux);
 *   image.bytesAt(0xffffffff81b4c6a8n, 64)   // Buffer, or null outside every loaded segment
 */
import { readFile } from 'node:fs/promises';

const PT_LOAD = 1;

interface Segment {
  vaddr: bigint;
  fileOffset: number;
  fileSize: number;
}

export interface ShippedKernel {
  bytesAt(address: bigint, length: number): Buffer | null;
  /** The NUL-terminated string at `address` (at most `max` bytes), or null outside the image. */
  stringAt(address: bigint, max?: number): string | null;
}

export function parseShippedKernel(file: Buffer): ShippedKernel {
  if (file.length < 64 || file.readUInt32BE(0) !== 0x7f454c46 || file[4] !== 2 || file[5] !== 1) {
    throw new Error('the shipped vmlinux is not a little-endian ELF64 file');
  }
  const phoff = Number(file.readBigUInt64LE(32));
  const phentsize = file.readUInt16LE(54);
  const phnum = file.readUInt16LE(56);
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (o + 56 > file.length) throw new Error('the shipped vmlinux has a truncated program header table');
    if (file.readUInt32LE(o) !== PT_LOAD) continue;
    segments.push({
      vaddr: file.readBigUInt64LE(o + 16),
      fileOffset: Number(file.readBigUInt64LE(o + 8)),
      fileSize: Number(file.readBigUInt64LE(o + 32)),
    });
  }
  if (segments.length === 0) throw new Error('the shipped vmlinux has no loadable segment');

  const locate = (address: bigint, length: number): number | null => {
    for (const s of segments) {
      if (address < s.vaddr) continue;
      const delta = Number(address - s.vaddr);
      if (delta + length <= s.fileSize) return s.fileOffset + delta;
    }
    return null;
  };
  return shippedImage(file, locate);
}

/**
 * Bytes and strings by address over one buffer, given where an address range lies in it (null:
 * outside the image). The shipped vmlinux and a linked shipped module (shipped-module.ts) share it.
 */
export function shippedImage(file: Buffer, locate: (address: bigint, length: number) => number | null): ShippedKernel {
  return {
    bytesAt(address, length) {
      const at = locate(address, length);
      return at === null ? null : file.subarray(at, at + length);
    },
    stringAt(address, max = 4096) {
      const at = locate(address, 1);
      if (at === null) return null;
      const end = file.indexOf(0, at);
      return file.toString('latin1', at, end === -1 ? Math.min(file.length, at + max) : Math.min(end, at + max));
    },
  };
}

export async function openShippedKernel(vmlinux: string): Promise<ShippedKernel> {
  return parseShippedKernel(await readFile(vmlinux));
}
