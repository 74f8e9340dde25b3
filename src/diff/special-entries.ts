/**
 * Entries of the kernel's special sections (__mcount_loc, .altinstructions, __jump_table,
 * __bug_table, .orc_unwind*, ...) attributed to the function whose code they describe.
 *
 * Example: `.smp_locks` entry 1 is PC32 `.text.__printk_cpu_sync_try_get`+0x2b: it belongs to
 * `__printk_cpu_sync_try_get`, site 0x2b. An `.orc_unwind` entry has no relocation: it belongs
 * wherever the `.orc_unwind_ip` entry of the same index does.
 */
import { isFunction, type ElfSection, type ElfSymbol } from '../elf/types.ts';
import { specialSectionLayout, type SpecialSectionLayout } from '../x86/special-sections.ts';
import type { ObjectIndex } from './object-index.ts';

export interface SpecialEntry {
  section: ElfSection;
  layout: SpecialSectionLayout;
  /** Entry number in its section; `start` = index × layout.entrySize. */
  index: number;
  start: number;
  /** The function the entry describes and where in it. */
  fn: ElfSymbol;
  siteInFunction: number;
}

/** Every special-section entry that describes a function, grouped by that function. */
export function specialEntriesByFunction(index: ObjectIndex): Map<ElfSymbol, SpecialEntry[]> {
  const byFunction = new Map<ElfSymbol, SpecialEntry[]>();
  const byIndex = new Map<string, Map<number, SpecialEntry>>();
  const add = (entry: SpecialEntry) => {
    const list = byFunction.get(entry.fn);
    if (list) list.push(entry);
    else byFunction.set(entry.fn, [entry]);
  };
  const located: ElfSection[] = [];
  const parallel: ElfSection[] = [];
  for (const section of index.obj.sections) {
    const layout = specialSectionLayout(section.name);
    if (!layout) continue;
    (layout.parallelTo ? parallel : located).push(section);
  }
  for (const section of located) {
    const layout = specialSectionLayout(section.name)!;
    const entries = new Map<number, SpecialEntry>();
    byIndex.set(section.name, entries);
    // The last entry may lack its tail padding (.parainstructions entries are 10 bytes, 8-aligned).
    const count = Math.ceil(section.size / layout.entrySize);
    for (let i = 0; i < count; i++) {
      const start = i * layout.entrySize;
      const rela = index.relocationAt(section, start + layout.siteOffset);
      if (!rela) continue;
      const ref = index.referent(rela, section);
      if (ref.kind !== 'symbol' || !isFunction(ref.symbol)) continue;
      const entry: SpecialEntry = { section, layout, index: i, start, fn: ref.symbol, siteInFunction: Number(ref.offset) };
      entries.set(i, entry);
      add(entry);
    }
  }
  for (const section of parallel) {
    const layout = specialSectionLayout(section.name)!;
    const partner = byIndex.get(layout.parallelTo!);
    if (!partner) continue;
    for (const [i, p] of partner) {
      if (i * layout.entrySize >= section.size) continue;
      add({ section, layout, index: i, start: i * layout.entrySize, fn: p.fn, siteInFunction: p.siteInFunction });
    }
  }
  return byFunction;
}
