/**
 * Correlation: which post symbol is "the same" as which pre symbol.
 *
 * 1. Same name without a GCC counter, unique on both sides: globals, most statics, `foo.cold`.
 *    (`calls.0` before and `calls.0` after may be different variables: counters shift.)
 * 2. Same name once GCC's counters are removed, one candidate on each side:
 *    `__already_done.24` ↔ `__already_done.31`, `foo.constprop.0` ↔ `foo.constprop.1`.
 * 3. Several candidates with one unnumbered name (three WARN_ONCE flags in one file): paired by
 *    who uses them: the first function referring to each, and the order of first use in it.
 *    Example: `__already_done.5` first used by `a`, `.9` by `b`; after the patch `.6` by `a` and
 *    `.11` by `b`: `.5` ↔ `.6`, `.9` ↔ `.11`, whatever the numbers became.
 * 4. Constant data no function uses directly, by content: `__func__.2` ↔ `__func__.0` when both
 *    hold "arp_ioctl" (only dynamic-debug descriptors point at them).
 */
import { isDataObject, isFunction, type ElfSymbol } from '../elf/types.ts';
import { cloneParent, hasCounter, unnumberedName } from './names.ts';
import { symbolBytes, type ObjectIndex } from './object-index.ts';

export class Correlation {
  readonly preToPost = new Map<ElfSymbol, ElfSymbol>();
  readonly postToPre = new Map<ElfSymbol, ElfSymbol>();

  constructor(
    readonly pre: ObjectIndex,
    readonly post: ObjectIndex,
  ) {
    const preDefs = definitions(pre);
    const postDefs = definitions(post);
    const preFile = (s: ElfSymbol) => pre.fileOf.get(s) ?? '';
    const postFile = (s: ElfSymbol) => post.fileOf.get(s) ?? '';
    this.pairBy(
      preDefs,
      postDefs,
      (s) => (hasCounter(s.name) ? undefined : `${preFile(s)}:${s.type}:${s.name}`),
      (s) => (hasCounter(s.name) ? undefined : `${postFile(s)}:${s.type}:${s.name}`),
    );
    this.pairBy(
      preDefs,
      postDefs,
      (s) => `${preFile(s)}:${s.type}:${unnumberedName(s.name)}`,
      (s) => `${postFile(s)}:${s.type}:${unnumberedName(s.name)}`,
    );
    const preUse = firstUses(pre);
    const postUse = firstUses(post);
    this.pairBy(
      preDefs,
      postDefs,
      (s) => useKey(s, preUse),
      (s) => useKey(s, postUse),
    );
    this.pairBy(
      preDefs,
      postDefs,
      (s) => contentKey(s, pre),
      (s) => contentKey(s, post),
    );
  }

  /** The name a symbol is compared by: its pre name, for post symbols that have a pre partner. */
  identity(sym: ElfSymbol, side: 'pre' | 'post'): string {
    if (side === 'pre') return sym.name;
    const partner = this.postToPre.get(sym);
    return partner ? partner.name : `(new) ${sym.name}`;
  }

  private pairBy(
    pre: Set<ElfSymbol>,
    post: Set<ElfSymbol>,
    preKey: (s: ElfSymbol) => string | undefined,
    postKey: (s: ElfSymbol) => string | undefined = preKey,
  ): void {
    const preGroups = groupBy(pre, preKey);
    const postGroups = groupBy(post, postKey);
    for (const [key, preList] of preGroups) {
      const postList = postGroups.get(key);
      if (preList.length !== 1 || postList?.length !== 1) continue;
      this.pair(preList[0]!, postList[0]!);
      pre.delete(preList[0]!);
      post.delete(postList[0]!);
    }
  }

  private pair(pre: ElfSymbol, post: ElfSymbol): void {
    this.preToPost.set(pre, post);
    this.postToPre.set(post, pre);
  }
}

function definitions(index: ObjectIndex): Set<ElfSymbol> {
  return new Set([...index.functions, ...index.dataObjects]);
}

function groupBy(symbols: Set<ElfSymbol>, key: (s: ElfSymbol) => string | undefined): Map<string, ElfSymbol[]> {
  const groups = new Map<string, ElfSymbol[]>();
  for (const s of symbols) {
    const k = key(s);
    if (k === undefined) continue;
    const list = groups.get(k);
    if (list) list.push(s);
    else groups.set(k, [s]);
  }
  return groups;
}

interface FirstUse {
  user: string;
  ordinal: number;
}

/**
 * For each symbol, the first function referring to it (by unnumbered parent name) and its rank
 * among the same-named symbols that function refers to.
 */
function firstUses(index: ObjectIndex): Map<ElfSymbol, FirstUse> {
  const uses = new Map<ElfSymbol, FirstUse>();
  for (const fn of index.functions) {
    const seen = new Map<string, number>();
    for (const rela of index.relocationsIn(fn.section!, fn.value, fn.size)) {
      const ref = index.referent(rela, fn.section!);
      if (ref.kind !== 'symbol' || uses.has(ref.symbol)) continue;
      if (!isDataObject(ref.symbol) && !isFunction(ref.symbol)) continue;
      const base = unnumberedName(ref.symbol.name);
      const ordinal = seen.get(base) ?? 0;
      seen.set(base, ordinal + 1);
      uses.set(ref.symbol, { user: unnumberedName(cloneParent(fn.name)), ordinal });
    }
  }
  return uses;
}

function useKey(sym: ElfSymbol, uses: Map<ElfSymbol, FirstUse>): string | undefined {
  const use = uses.get(sym);
  return use && `${sym.type}:${unnumberedName(sym.name)}@${use.user}#${use.ordinal}`;
}

/** Unnumbered name plus the bytes, for small data objects without relocations. */
function contentKey(sym: ElfSymbol, index: ObjectIndex): string | undefined {
  if (!isDataObject(sym) || sym.size === 0 || sym.size > 4096) return undefined;
  if (index.relocationsIn(sym.section!, sym.value, sym.size).length > 0) return undefined;
  return `${sym.type}:${unnumberedName(sym.name)}:${symbolBytes(sym).toString('hex')}`;
}
