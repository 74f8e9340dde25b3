/**
 * System.map: reading it, and telling Debian's one-line stub from the real thing.
 *
 * Debian ships `/boot/System.map-<release>` as a stub whose only line says "The real System.map
 * is in the linux-image-<version>-dbg package". A tool that took it at face value would find no
 * symbol and, worse, might not say why. `readSystemMap` refuses it by name.
 */
import { readFile } from 'node:fs/promises';

export interface MapSymbol {
  address: bigint;
  type: string;
  name: string;
}

/** A real System.map of a distro kernel has ~100k lines; the stub has one. */
const FEWEST_PLAUSIBLE_SYMBOLS = 1000;

export function isStubSystemMap(text: string): boolean {
  if (/The real System\.map is in/i.test(text)) return true;
  return countLines(text) < FEWEST_PLAUSIBLE_SYMBOLS;
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1 && n < FEWEST_PLAUSIBLE_SYMBOLS; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

export function parseSystemMap(text: string): MapSymbol[] {
  const symbols: MapSymbol[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]+) (\S) (\S+)/.exec(line);
    if (m) symbols.push({ address: BigInt(`0x${m[1]}`), type: m[2], name: m[3] });
  }
  return symbols;
}

/** Reads and parses a System.map, refusing a missing file or Debian's stub with the fix named. */
export async function readSystemMap(file: string): Promise<MapSymbol[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`System.map not found: ${file} (the real one is in Debian's linux-image-<release>-dbg package)`);
  }
  if (isStubSystemMap(text)) {
    throw new Error(
      `${file} is Debian's stub System.map, not the real one: take it from the linux-image-<release>-dbg package ` +
        `(ksplice-setup does) or derive it from /proc/kallsyms of the running kernel`,
    );
  }
  return parseSystemMap(text);
}

/**
 * Addresses of every symbol named `name`, in map order: static functions can share a name,
 * and the position in this list is how the kernel's livepatch format tells them apart.
 */
export function addressesOf(symbols: readonly MapSymbol[], name: string): bigint[] {
  return symbols.filter((s) => s.name === name).map((s) => s.address);
}

/** System.map by name: every address of a name, in System.map (= kallsyms) order. */
export class SystemMapIndex {
  private readonly byName = new Map<string, bigint[]>();
  readonly perCpuEnd: bigint;

  constructor(symbols: readonly MapSymbol[]) {
    for (const s of symbols) {
      const list = this.byName.get(s.name);
      if (list) list.push(s.address);
      else this.byName.set(s.name, [s.address]);
    }
    this.perCpuEnd = this.unique('__per_cpu_end') ?? 0n;
  }

  addresses(name: string): bigint[] {
    return this.byName.get(name) ?? [];
  }

  unique(name: string): bigint | undefined {
    const list = this.byName.get(name);
    return list && list.length === 1 ? list[0] : undefined;
  }

  /**
   * Per-CPU variables are offsets from the per-CPU base (System.map below __per_cpu_end):
   * KASLR does not move them. Example: `current_task` at 0x1fb80.
   */
  isPerCpu(address: bigint): boolean {
    return address < this.perCpuEnd;
  }
}
