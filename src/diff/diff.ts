/**
 * The object differ: which functions a patch changed, added or removed, and what it changed that
 * an update cannot carry.
 *
 * Usage:
 *   const result = diffObjects(readElf(preBytes), readElf(postBytes));
 *   summarize(result)            // { changed: ['_printk'], new: [], removed: [], unsafe: [] }
 *   extractFunctions(result.post, shippedSymbols(result))   // see extract.ts
 *
 * Pipeline:
 *   1. index both objects (symbols by section, relocations by offset);
 *   2. correlate post symbols with pre ones (names, GCC counters, first use);
 *   3. attribute special-section entries to functions;
 *   4. compare each post function with its partner: changed, new or unchanged;
 *   5. group clones with the function they came from;
 *   6. compare data objects and look for changes an update cannot apply (unsafe);
 *   7. compare the export tables (result.exportChanges).
 */
import { isDataObject, isMergeStrings, type ElfObject, type ElfSection, type ElfSymbol } from '../elf/types.ts';
import { Comparer } from './compare.ts';
import { Correlation } from './correlate.ts';
import { cloneParent, coldOwner, isColdPart } from './names.ts';
import { ObjectIndex } from './object-index.ts';
import { finding, type Finding } from './findings.ts';
import { objectSafetyFindings, isInitOnlyData, staticKeysDefinedIn } from './safety-rules.ts';
import { specialEntriesByFunction } from './special-entries.ts';

export type PartStatus = 'changed' | 'new' | 'unchanged';

/** One function symbol of the post object (a parent or one of its GCC clones). */
export interface FunctionPart {
  name: string;
  symbol: ElfSymbol;
  section: ElfSection;
  status: PartStatus;
  /** Why it counts as changed (the first difference found). */
  reason?: string;
  /** Its pre partner, when there is one. */
  pre?: ElfSymbol;
}

/** A function as the user knows it: the parent name and every part GCC made of it. */
export interface FunctionChange {
  name: string;
  parts: FunctionPart[];
}

export interface DiffResult {
  pre: ElfObject;
  post: ElfObject;
  changed: FunctionChange[];
  new: FunctionChange[];
  removed: string[];
  unsafe: Finding[];
  /**
   * Exports added, removed or changed (rule export-change): unsafe too, kept apart from the
   * findings about code and data; summarize() and ksplice-create list them under `unsafe`.
   */
  exportChanges: Finding[];
  /** Differences deliberately not shipped (line numbers of WARN/BUG/pr_debug sites). */
  notes: string[];
  /** Data objects only the post object has, referred to by shipped code: they travel with it. */
  newData: ElfSymbol[];
  correlation: Correlation;
}

/** What `ksplice-diff --json` prints. */
export interface DiffSummary {
  changed: string[];
  new: string[];
  removed: string[];
  unsafe: Finding[];
}

export function diffObjects(pre: ElfObject, post: ElfObject): DiffResult {
  const preIndex = new ObjectIndex(pre);
  const postIndex = new ObjectIndex(post);
  const correlation = new Correlation(preIndex, postIndex);
  const preEntries = specialEntriesByFunction(preIndex);
  const postEntries = specialEntriesByFunction(postIndex);
  const comparer = new Comparer(correlation, preEntries, postEntries);
  const notes: string[] = [];

  const parts = compareFunctions(postIndex, correlation, comparer, notes);
  markOwnersOfChangedColdParts(parts);
  const groups = groupClones(parts, new Set(preIndex.functions.map((f) => f.name)));
  const { changed, added, initChanges } = classify(groups, families(preIndex));
  const keys = new Set([...staticKeysDefinedIn(preEntries, preIndex)].map((k) => k.name));
  const unsafe = [...initChanges, ...layoutShifts(parts, comparer), ...dataChanges(correlation, comparer, notes, keys)];

  const shipped = [...changed, ...added].flatMap((g) => g.parts.filter((p) => p.status !== 'unchanged').map((p) => p.symbol));
  const newData = newDataUsedBy(shipped, postIndex, correlation);
  unsafe.push(
    ...objectSafetyFindings({
      changedParts: changed.flatMap((g) => g.parts.filter((p) => p.status === 'changed')),
      newData,
      preEntries,
      postEntries,
      preIndex,
      postIndex,
      correlation,
    }),
  );
  return {
    pre,
    post,
    changed,
    new: added,
    removed: removedFunctions(preIndex, correlation, families(postIndex)),
    unsafe,
    exportChanges: exportChanges(pre, post),
    notes,
    newData,
    correlation,
  };
}

/** Each post function against its pre partner: changed, new or unchanged. */
function compareFunctions(post: ObjectIndex, correlation: Correlation, comparer: Comparer, notes: string[]): FunctionPart[] {
  return post.functions.map((symbol): FunctionPart => {
    const partner = correlation.postToPre.get(symbol);
    const base = { name: symbol.name, symbol, section: symbol.section! };
    if (!partner) return { ...base, status: 'new' };
    const { difference, notes: partNotes } = comparer.compareFunction(partner, symbol);
    if (!difference) notes.push(...partNotes);
    return difference ? { ...base, status: 'changed', reason: difference, pre: partner } : { ...base, status: 'unchanged', pre: partner };
  });
}

/**
 * Groups with a changed or new part, split into changed and all-new; __init code is refused.
 * A group whose family existed before is changed, even when all its parts are new.
 *
 * Example: before the patch GCC emitted only `specialized.constprop.0`; after it, a second
 * caller passes another constant and GCC emits plain `specialized`: that is `specialized`
 * changed (its code is new and shipped), not a new function.
 */
function classify(
  groups: FunctionChange[],
  preFamilies: Set<string>,
): { changed: FunctionChange[]; added: FunctionChange[]; initChanges: Finding[] } {
  const changed: FunctionChange[] = [];
  const added: FunctionChange[] = [];
  const initChanges: Finding[] = [];
  for (const group of groups) {
    if (group.parts.every((p) => p.status === 'unchanged')) continue;
    const init = group.parts.find((p) => p.status !== 'unchanged' && (isInitCode(p.section) || (p.pre && isInitCode(p.pre.section!))));
    if (init) {
      const section = isInitCode(init.section) ? init.section : init.pre!.section!;
      initChanges.push(
        finding(
          section.name.startsWith('.exit.') ? 'exit-code' : 'init-code',
          init.name,
          `${init.status === 'new' ? 'new' : 'changed'} code in ${init.section.name}: __init/__exit code runs once at boot (or never, when built in) and is freed; an update cannot re-run it`,
        ),
      );
      continue;
    }
    const existedBefore = group.parts.some((p) => p.status !== 'new' || preFamilies.has(cloneParent(p.name)));
    (existedBefore ? changed : added).push(group);
  }
  return { changed, added, initChanges };
}

/** Changed functions whose only difference is where they reach a data object (Comparer.shiftedDataAccesses). */
function layoutShifts(parts: FunctionPart[], comparer: Comparer): Finding[] {
  return parts
    .filter((part) => part.status === 'changed' && part.pre)
    .flatMap((part) =>
      comparer
        .shiftedDataAccesses(part.pre!, part.symbol)
        .map((access) =>
          finding(
            'data-layout',
            access.symbol,
            `${part.name} reaches ${access.symbol} at +0x${access.from.toString(16)} before and +0x${access.to.toString(16)} after, with no other change: the layout of its type changed, and the running kernel's ${access.symbol} keeps the old one`,
          ),
        ),
    );
}

/** Correlated data objects that differ: unsafe, unless only a recorded line number moved (a note). */
function dataChanges(correlation: Correlation, comparer: Comparer, notes: string[], staticKeys: Set<string>): Finding[] {
  const unsafe: Finding[] = [];
  for (const [preData, postData] of correlation.preToPost) {
    if (!isDataObject(preData) || !isDataObject(postData)) continue;
    const { difference, lineOnly } = comparer.compareData(preData, postData);
    if (!difference) continue;
    if (lineOnly) notes.push(`${postData.name}: line number differs (not shipped)`);
    else unsafe.push(dataChangeFinding(preData, postData, difference, staticKeys.has(preData.name)));
  }
  return unsafe;
}

/**
 * Pre functions without a partner, unless their family lives on after the patch.
 *
 * Example: `specialized.constprop.0` gone, plain `specialized` there: not a removal.
 */
function removedFunctions(pre: ObjectIndex, correlation: Correlation, postFamilies: Set<string>): string[] {
  const preNames = new Set(pre.functions.map((f) => f.name));
  const removed = pre.functions
    .filter((f) => !correlation.preToPost.has(f) && !postFamilies.has(cloneParent(f.name)))
    .map((f) => groupName(f.name, preNames));
  return [...new Set(removed)].sort();
}

/** The functions of an object by the function GCC made them from (`foo`, `foo.cold`, `foo.part.0` → foo). */
function families(index: ObjectIndex): Set<string> {
  return new Set(index.functions.map((f) => cloneParent(f.name)));
}

export function summarize(result: DiffResult): DiffSummary {
  return {
    changed: result.changed.map((g) => g.name).sort(),
    new: result.new.map((g) => g.name).sort(),
    removed: result.removed,
    unsafe: [...result.unsafe, ...result.exportChanges],
  };
}

/** The post function symbols an update must carry: every changed or new part of every reported function. */
export function shippedFunctions(result: DiffResult): string[] {
  return [...result.changed, ...result.new].flatMap((g) => g.parts.filter((p) => p.status !== 'unchanged').map((p) => p.name));
}

/**
 * The pre symbols the update replaces (for run-pre matching): the partners of changed parts.
 * New parts have none: nothing runs there yet.
 */
export function replacedPreFunctions(result: DiffResult): string[] {
  return result.changed.flatMap((g) => g.parts.filter((p) => p.status === 'changed' && p.pre).map((p) => p.pre!.name));
}

/**
 * A `.cold` part is entered by a jump from its owner, never called: when it changed, the owner
 * must be replaced too, or the old owner would jump into new cold code at old offsets.
 */
function markOwnersOfChangedColdParts(parts: FunctionPart[]): void {
  const byName = new Map(parts.map((p) => [p.name, p]));
  for (const part of parts) {
    if (!isColdPart(part.name) || part.status === 'unchanged') continue;
    const owner = byName.get(coldOwner(part.name));
    if (owner && owner.status === 'unchanged') {
      owner.status = 'changed';
      owner.reason = `its cold part ${part.name} is ${part.status}`;
    }
  }
}

/**
 * The name a function is reported under: its clone parent when the parent exists (pre or post),
 * the owner of a cold part, or its own name.
 *
 * Example: `devkmsg_release.cold` → `devkmsg_release`; `__pr_flush.constprop.0.isra.0` → itself
 * when printk.o has no plain `__pr_flush` (GCC inlined or specialized every call).
 */
function groupName(name: string, names: Set<string>): string {
  const parent = cloneParent(name);
  if (parent !== name && names.has(parent)) return parent;
  if (isColdPart(name)) return groupName(coldOwner(name), names);
  return name;
}

/** Parts grouped under the name they are reported by; `preNames` lets a clone join a parent only the pre object has. */
function groupClones(parts: FunctionPart[], preNames: Set<string>): FunctionChange[] {
  const names = new Set([...parts.map((p) => p.name), ...preNames]);
  const groups = new Map<string, FunctionChange>();
  for (const part of parts) {
    const name = groupName(part.name, names);
    const group = groups.get(name) ?? { name, parts: [] };
    group.parts.push(part);
    groups.set(name, group);
  }
  return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Code in sections the kernel frees after boot (`__init`) or never keeps when built in (`__exit`). */
export function isInitCode(section: ElfSection): boolean {
  return /^\.(init|exit)\./.test(section.name);
}

/**
 * Example: `static struct cfg c = { .a = 1 }` → `{ .a = 2 }`: the running kernel's `c` keeps 1,
 * and the new code would read 1; a field added to `struct cfg` changes the size of `c`: the
 * running copy cannot grow, and every user would see the old layout. `DEFINE_STATIC_KEY_FALSE(k)`
 * → `_TRUE(k)`, with `k` tested in this object (a `__jump_table` key): the key's state and its
 * sites stay as they are.
 */
function dataChangeFinding(pre: ElfSymbol, post: ElfSymbol, difference: string, isStaticKey = false): Finding {
  const name = post.name;
  if (isStaticKey) {
    return finding(
      'static-key-definition',
      name,
      `static key definition changed (${difference}; e.g. DEFINE_STATIC_KEY_FALSE → _TRUE): the running kernel's key keeps its state and every jump-label site its code; an update cannot re-initialize it — change the key's state with static_branch_enable()/disable() in a hook`,
    );
  }
  if (isInitOnlyData(post.section!) || isInitOnlyData(pre.section!)) {
    return finding(
      'init-data',
      name,
      `init-only data changed in ${post.section!.name} (${difference}): __initdata/__initconst is read only while the kernel boots and is freed afterwards; an update cannot re-run the boot code that used it`,
    );
  }
  if (pre.size !== post.size) {
    return finding(
      'data-layout',
      name,
      `data object size changed (${pre.size} → ${post.size} bytes): its type's layout changed, and the running kernel's copy cannot be resized or reinterpreted`,
    );
  }
  return finding(
    'data-change',
    name,
    `initialized data changed in ${post.section!.name} (${difference}): the update replaces code, not the running kernel's data`,
  );
}

/** Post data objects without a pre partner that shipped code refers to, followed through their own references. */
function newDataUsedBy(shipped: ElfSymbol[], post: ObjectIndex, correlation: Correlation): ElfSymbol[] {
  const found = new Set<ElfSymbol>();
  const work = [...shipped];
  while (work.length > 0) {
    const sym = work.pop()!;
    for (const rela of post.relocationsIn(sym.section!, sym.value, Math.max(sym.size, 1))) {
      const ref = post.referent(rela, sym.section!);
      if (ref.kind !== 'symbol' || found.has(ref.symbol) || !isDataObject(ref.symbol)) continue;
      if (correlation.postToPre.has(ref.symbol) || isMergeStrings(ref.symbol.section!)) continue;
      found.add(ref.symbol);
      work.push(ref.symbol);
    }
  }
  return [...found];
}

/**
 * Symbols an object exports, from the section kbuild makes for each EXPORT_SYMBOL in 6.1.
 *
 * Example: `EXPORT_SYMBOL_GPL(free_uid)` → section `___ksymtab_gpl+free_uid` → free_uid (gpl).
 */
function exportedSymbols(obj: ElfObject): Map<string, string> {
  const exports = new Map<string, string>();
  for (const s of obj.sections) {
    const m = /^___ksymtab(_gpl)?\+(.+)$/.exec(s.name);
    if (m) exports.set(m[2]!, m[1] ? 'EXPORT_SYMBOL_GPL' : 'EXPORT_SYMBOL');
  }
  return exports;
}

/**
 * An update cannot change the running kernel's export table: modules resolve exports at load
 * time from it. Example: kernel/user.c gaining `EXPORT_SYMBOL_GPL(free_uid)`.
 */
export function exportChanges(pre: ElfObject, post: ElfObject): Finding[] {
  const before = exportedSymbols(pre);
  const after = exportedSymbols(post);
  const changes: Finding[] = [];
  for (const [name, kind] of after) {
    if (!before.has(name))
      changes.push(finding('export-change', name, `newly exported (${kind}): an update cannot add to the running kernel's export table`));
    else if (before.get(name) !== kind)
      changes.push(
        finding(
          'export-change',
          name,
          `export changed from ${before.get(name)} to ${kind}: the running kernel's export table cannot change`,
        ),
      );
  }
  for (const [name, kind] of before) {
    if (!after.has(name))
      changes.push(
        finding(
          'export-change',
          name,
          `no longer exported (was ${kind}): the running kernel's export table cannot change, and loaded modules may use it`,
        ),
      );
  }
  return changes;
}
