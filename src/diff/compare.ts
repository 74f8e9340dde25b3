/**
 * Relocation-aware equality of one pre and one post definition (a function, its special-section
 * entries, a data object).
 *
 * Two definitions are equal when their bytes are equal outside relocation sites and their
 * relocations match in offset, type and referent: the same symbol (by correlation), the same
 * string (by content), the same anonymous section bytes. Where an address lands is decided later
 * by the linker, so the bytes under a relocation say nothing and are masked.
 *
 * Example: after a patch adds a string to printk.c, `lea .LC7-4(%rip)` may become
 * `lea .LC9-4(%rip)`: both labels hold "printk: console [%s] enabled\n", so the relocations match.
 */
import { isFunction, SHT_NOBITS, type ElfSection, type ElfSymbol, type Rela } from '../elf/types.ts';
import { relocationName, relocationTarget, relocationWidth } from '../x86/relocations.ts';
import { lineNumberField } from '../x86/special-sections.ts';
import type { Correlation } from './correlate.ts';
import { symbolBytes, type ObjectIndex, type Referent } from './object-index.ts';
import type { SpecialEntry } from './special-entries.ts';

type Side = 'pre' | 'post';

/** A difference that matters, said in words, or null when the two are the same. */
export type Difference = string | null;

export interface FunctionComparison {
  difference: Difference;
  /** Differences that are deliberately not a change (a bug entry's line number). */
  notes: string[];
}

export class Comparer {
  constructor(
    private readonly correlation: Correlation,
    private readonly preEntries: Map<ElfSymbol, SpecialEntry[]>,
    private readonly postEntries: Map<ElfSymbol, SpecialEntry[]>,
  ) {}

  private index(side: Side): ObjectIndex {
    return side === 'pre' ? this.correlation.pre : this.correlation.post;
  }

  /** A string equal for referents that are the same thing in pre and post. */
  referentKey(ref: Referent, side: Side): string {
    switch (ref.kind) {
      case 'symbol':
        return `${this.correlation.identity(ref.symbol, side)}${signed(ref.offset)}`;
      case 'string':
        return `string ${JSON.stringify(ref.text)}${signed(ref.offset)}`;
      case 'section':
        return `section ${ref.section.name}${signed(ref.offset)}`;
      case 'external':
        return `${ref.symbol.name || '*ABS*'}${signed(ref.offset)}`;
    }
  }

  private relocationKey(rela: Rela, from: ElfSection, base: number, side: Side): string {
    return `+0x${(rela.offset - base).toString(16)} ${relocationName(rela.type)} ${this.referentKey(this.index(side).referent(rela, from), side)}`;
  }

  /**
   * Compare [start, start+size) of a pre and a post section: relocations first (they say which
   * bytes to mask), then the bytes outside them, then bytes outside `ignored` ranges.
   */
  private compareRange(
    pre: { section: ElfSection; start: number; bytes: Buffer },
    post: { section: ElfSection; start: number; bytes: Buffer },
    ignored: readonly { offset: number; size: number }[] = [],
    referentIgnoredAt: number | null = null,
  ): Difference {
    if (pre.bytes.length !== post.bytes.length) return `size 0x${pre.bytes.length.toString(16)} → 0x${post.bytes.length.toString(16)}`;
    const preRelocs = this.index('pre').relocationsIn(pre.section, pre.start, pre.bytes.length);
    const postRelocs = this.index('post').relocationsIn(post.section, post.start, post.bytes.length);
    const mask = new Uint8Array(pre.bytes.length);
    for (const r of preRelocs) mask.fill(1, r.offset - pre.start, r.offset - pre.start + relocationWidth(r.type));
    for (const r of postRelocs) mask.fill(1, r.offset - post.start, r.offset - post.start + relocationWidth(r.type));
    for (const range of ignored) mask.fill(1, range.offset, range.offset + range.size);
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 0 && pre.bytes[i] !== post.bytes[i]) return `bytes differ at +0x${i.toString(16)}`;
    }
    const n = Math.max(preRelocs.length, postRelocs.length);
    for (let k = 0; k < n; k++) {
      const ra = preRelocs[k];
      const rb = postRelocs[k];
      const at = ra ? ra.offset - pre.start : -1;
      if (ra && rb && at === referentIgnoredAt && rb.offset - post.start === at && ra.type === rb.type) continue;
      const a = ra ? this.relocationKey(ra, pre.section, pre.start, 'pre') : '(none)';
      const b = rb ? this.relocationKey(rb, post.section, post.start, 'post') : '(none)';
      if (a !== b) return `relocation ${a} → ${b}`;
    }
    return null;
  }

  compareFunction(pre: ElfSymbol, post: ElfSymbol): FunctionComparison {
    const notes: string[] = [];
    const code = this.compareRange(
      { section: pre.section!, start: pre.value, bytes: symbolBytes(pre) },
      { section: post.section!, start: post.value, bytes: symbolBytes(post) },
    );
    if (code) return { difference: code, notes };
    const entries = this.compareEntries(pre, post, notes);
    return { difference: entries, notes };
  }

  /**
   * The special-section entries of two functions, section by section, in site order.
   *
   * Example: a WARN_ON in `f` whose source line moved from 120 to 123 because a line was added
   * above `f`: the code and the `__bug_table` entry are equal but for the line field: a note,
   * not a change (the line is only printed in the warning).
   */
  private compareEntries(pre: ElfSymbol, post: ElfSymbol, notes: string[]): Difference {
    const group = (list: SpecialEntry[] | undefined) => {
      const m = new Map<string, SpecialEntry[]>();
      for (const e of list ?? []) m.set(e.section.name, [...(m.get(e.section.name) ?? []), e]);
      for (const l of m.values()) l.sort((a, b) => a.siteInFunction - b.siteInFunction);
      return m;
    };
    const preBy = group(this.preEntries.get(pre));
    const postBy = group(this.postEntries.get(post));
    for (const name of new Set([...preBy.keys(), ...postBy.keys()])) {
      const a = preBy.get(name) ?? [];
      const b = postBy.get(name) ?? [];
      if (a.length !== b.length) return `${name}: ${a.length} → ${b.length} entries`;
      for (let k = 0; k < a.length; k++) {
        const e = a[k]!;
        const f = b[k]!;
        if (e.siteInFunction !== f.siteInFunction)
          return `${name}: entry at +0x${e.siteInFunction.toString(16)} → +0x${f.siteInFunction.toString(16)}`;
        const size = e.layout.entrySize;
        const ignored = e.layout.ignoredRanges ?? [];
        // Zero-padded: the last entry of a section may lack its alignment tail.
        const entryBytes = (x: SpecialEntry) => {
          const bytes = x.section.data.subarray(x.start, x.start + size);
          return bytes.length === size ? bytes : Buffer.concat([bytes, Buffer.alloc(size - bytes.length)]);
        };
        // A payload field (an alternative's replacement) is compared by the code it points to.
        const whole = this.compareRange(
          { section: e.section, start: e.start, bytes: entryBytes(e) },
          { section: f.section, start: f.start, bytes: entryBytes(f) },
          ignored,
          e.layout.payload?.field ?? null,
        );
        if (whole) return `${name} entry at +0x${e.siteInFunction.toString(16)}: ${whole}`;
        for (const range of ignored) {
          if (
            !entryBytes(e)
              .subarray(range.offset, range.offset + range.size)
              .equals(entryBytes(f).subarray(range.offset, range.offset + range.size))
          ) {
            notes.push(`${name} entry at ${post.name}+0x${f.siteInFunction.toString(16)}: ${range.why} differs (not shipped)`);
          }
        }
        const payload = this.comparePayload(e, f);
        if (payload) return `${name} entry at +0x${e.siteInFunction.toString(16)}: replacement code: ${payload}`;
      }
    }
    return null;
  }

  /** Replacement code an entry points to (an alternative), compared like code. */
  private comparePayload(e: SpecialEntry, f: SpecialEntry): Difference {
    const p = e.layout.payload;
    if (!p) return null;
    const locate = (x: SpecialEntry, side: Side) => {
      const rela = this.index(side).relocationAt(x.section, x.start + p.field);
      if (!rela?.symbol.section) return null;
      const section = rela.symbol.section;
      const start = rela.symbol.value + Number(rela.addend);
      const length = x.section.data[x.start + p.lengthOffset]!;
      return { section, start, bytes: section.data.subarray(start, start + length) };
    };
    const a = locate(e, 'pre');
    const b = locate(f, 'post');
    if (!a || !b) return a === b ? null : 'payload missing';
    return this.compareRange(a, b);
  }

  /**
   * When two functions differ only in the offsets at which they reach data objects, those
   * accesses; otherwise an empty list.
   *
   * Example: `return cfg.mode;` with a field added before `mode` in `struct config`: the code is
   * the same but `mov cfg+0x4(%rip)` became `mov cfg+0x8(%rip)`. The new code would read the
   * running kernel's `cfg`, still laid out the old way.
   */
  shiftedDataAccesses(pre: ElfSymbol, post: ElfSymbol): { symbol: string; from: bigint; to: bigint }[] {
    if (pre.size !== post.size) return [];
    const a = { section: pre.section!, start: pre.value, bytes: symbolBytes(pre) };
    const b = { section: post.section!, start: post.value, bytes: symbolBytes(post) };
    const preRelocs = this.index('pre').relocationsIn(a.section, a.start, pre.size);
    const postRelocs = this.index('post').relocationsIn(b.section, b.start, post.size);
    if (preRelocs.length !== postRelocs.length) return [];
    const mask = new Uint8Array(pre.size);
    for (const r of preRelocs) mask.fill(1, r.offset - a.start, r.offset - a.start + relocationWidth(r.type));
    for (const r of postRelocs) mask.fill(1, r.offset - b.start, r.offset - b.start + relocationWidth(r.type));
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0 && a.bytes[i] !== b.bytes[i]) return [];
    const shifted: { symbol: string; from: bigint; to: bigint }[] = [];
    for (let k = 0; k < preRelocs.length; k++) {
      const ra = preRelocs[k]!;
      const rb = postRelocs[k]!;
      if (ra.offset - a.start !== rb.offset - b.start || ra.type !== rb.type) return [];
      const x = this.index('pre').referent(ra, a.section);
      const y = this.index('post').referent(rb, b.section);
      if (this.referentKey(x, 'pre') === this.referentKey(y, 'post')) continue;
      const sameData =
        (x.kind === 'symbol' || x.kind === 'external') &&
        x.kind === y.kind &&
        !isFunction(x.symbol) &&
        !isFunction(y.symbol) &&
        this.referentKey({ ...x, offset: 0n }, 'pre') === this.referentKey({ ...y, offset: 0n }, 'post');
      if (!sameData) return [];
      // Said as field offsets: a PC-relative addend counts from the end of the displacement.
      const field = (type: number, offset: bigint) => BigInt(relocationTarget(type, offset, true));
      shifted.push({ symbol: this.correlation.identity(x.symbol, 'pre'), from: field(ra.type, x.offset), to: field(rb.type, y.offset) });
    }
    return shifted;
  }

  /**
   * Two data objects. Returns the difference, and whether it lies only in a line-number field
   * (a dynamic-debug descriptor of a call site that moved).
   */
  compareData(pre: ElfSymbol, post: ElfSymbol): { difference: Difference; lineOnly: boolean } {
    if (pre.size !== post.size) return { difference: `size ${pre.size} → ${post.size} bytes`, lineOnly: false };
    if (pre.section!.type === SHT_NOBITS && post.section!.type === SHT_NOBITS) return { difference: null, lineOnly: false };
    const a = { section: pre.section!, start: pre.value, bytes: symbolBytes(pre) };
    const b = { section: post.section!, start: post.value, bytes: symbolBytes(post) };
    const line = lineNumberField(post.section!.name);
    const difference = this.compareRange(a, b);
    if (!difference || !line) return { difference, lineOnly: false };
    return this.compareRange(a, b, [line]) ? { difference, lineOnly: false } : { difference, lineOnly: true };
  }
}

function signed(n: bigint): string {
  return n === 0n ? '' : n < 0n ? `-0x${(-n).toString(16)}` : `+0x${n.toString(16)}`;
}
