/**
 * Object-level safety rules: changes an update cannot carry without custom code (Ksplice's
 * "needs a human" cases), beyond the ones diff.ts has always had (changed initialized data, a
 * data object's size, a layout shift seen in code, __init/__exit code, exports).
 *
 * Each rule is a predicate named for the question it answers; it returns the reason in words a
 * kernel developer understands, or null. diffObjects() runs them and adds their findings to
 * `result.unsafe`; ksplice-create refuses (exit 2) unless the author accepts each finding
 * (`--accept=SYMBOL`, usually with `--hooks=FILE.c`: docs/hooks.md).
 */
import { SHF_WRITE, STB_LOCAL, type ElfSection, type ElfSymbol } from '../elf/types.ts';
import type { Correlation } from './correlate.ts';
import { isColdPart } from './names.ts';
import type { ObjectIndex } from './object-index.ts';
import type { SpecialEntry } from './special-entries.ts';

/**
 * Can ftrace redirect this (pre) function? Only if it starts with the `call __fentry__` that
 * `-pg -mfentry` puts there and objtool/recordmcount list in `__mcount_loc`; the engine turns
 * that call into a jump to the new code. Functions without one cannot be redirected.
 *
 * Example: `noinstr void ct_kernel_exit_state(int offset)` sits in `.noinstr.text` with no
 * fentry call → "cannot be redirected: noinstr". `static notrace u64 sched_clock_local(...)` →
 * "notrace". A `.cold` part is never entered from outside its owner: not asked.
 */
export function whyCannotBeRedirected(pre: ElfSymbol, preEntries: Map<ElfSymbol, SpecialEntry[]>): string | null {
  if (isColdPart(pre.name)) return null;
  if ((preEntries.get(pre) ?? []).some((e) => e.section.name === '__mcount_loc')) return null;
  const section = pre.section!.name;
  const kind = section.startsWith('.noinstr.text')
    ? 'it is noinstr (in .noinstr.text: entry/idle code that must not be instrumented)'
    : section.startsWith('.entry.text')
      ? 'it is low-level entry code (.entry.text)'
      : 'it is notrace, or its object is built without ftrace (CFLAGS_REMOVE ... $(CC_FLAGS_FTRACE)), or it is assembly';
  return `cannot be redirected: ${kind}, so it has no fentry call for ftrace to turn into a jump to the new code; fix its callers instead, or move the change into a traced function`;
}

/**
 * Static keys tested by a function's jump-label sites (`__jump_table` entries: code, target,
 * key), by name; the low bits of the key reference (branch polarity) are ignored.
 *
 * Example: `if (static_branch_likely(&sched_smt_present))` in cmdline_proc_show →
 * {'sched_smt_present'}.
 */
export function staticKeysTestedBy(fn: ElfSymbol, entries: Map<ElfSymbol, SpecialEntry[]>, index: ObjectIndex): Set<string> {
  const keys = new Set<string>();
  for (const e of entries.get(fn) ?? []) {
    if (e.section.name !== '__jump_table') continue;
    const rela = index.relocationAt(e.section, e.start + 8);
    if (!rela) continue;
    const ref = index.referent(rela, e.section);
    if (ref.kind === 'symbol' || ref.kind === 'external') keys.add(ref.symbol.name);
  }
  return keys;
}

/**
 * Did the patch change which static keys this function tests? The running kernel's key has a
 * state set since boot (often by __init code or a boot parameter that will not run again) and a
 * user count (static_branch_inc/dec) kept for its old users; the update's jump-label sites take
 * the key's current state at load, which is right only if that state means the same thing to
 * the new code.
 *
 * Example: cmdline_proc_show gains `if (static_branch_likely(&sched_smt_present))` →
 * "now tests static key sched_smt_present".
 */
export function whyStaticKeyUsersChanged(name: string, preKeys: Set<string>, postKeys: Set<string>): string | null {
  const added = [...postKeys].filter((k) => !preKeys.has(k)).sort();
  const removed = [...preKeys].filter((k) => !postKeys.has(k)).sort();
  if (added.length === 0 && removed.length === 0) return null;
  const what = [added.length ? `now tests static key ${added.join(', ')}` : '', removed.length ? `no longer tests static key ${removed.join(', ')}` : '']
    .filter(Boolean)
    .join(' and ');
  return `${name} ${what} (jump label): the key's state and user count were set by the running kernel for its old users (often by boot-time code that will not run again); the update's sites only take the key's current state at load — check it means the same to the new code`;
}

/** Data sections whose contents are state, not constants. `.data.once` flags only silence repeated warnings. */
function isStateSection(section: ElfSection): boolean {
  return (section.flags & SHF_WRITE) !== 0n && /^\.(data|bss)(\.|$)/.test(section.name) && !/^\.data\.once\b/.test(section.name);
}

/**
 * Would existing code need this new static data? A new writable variable (`.data.*`, `.bss.*`)
 * that a changed (existing) function uses travels with the update module: one fresh copy, with its initializer, made
 * when the module loads. If it stands for state the running kernel would have built up since
 * boot (a counter, a list, a lock that old code also takes, a key enabled at boot), that copy is
 * wrong; an apply hook must fill it in (ksplice_apply in kmod/ksplice_hooks.h).
 *
 * Example: `static DEFINE_SPINLOCK(cmdline_lock);` / `static unsigned long cmdline_reads;` added
 * to fs/proc/cmdline.c and used by cmdline_proc_show → unsafe. `pr_warn_once()`'s flag in
 * `.data.once` → not asked.
 */
export function whyNewStaticDataNeedsInit(sym: ElfSymbol, isStaticKey: boolean): string | null {
  if (!sym.section || !isStateSection(sym.section)) return null;
  const scope = sym.bind === STB_LOCAL ? 'static' : 'global';
  const what = isStaticKey ? `new ${scope} static key` : `new ${sym.section.name.startsWith('.bss') ? 'zero-initialized' : 'initialized'} ${scope} variable`;
  return `${what} in ${sym.section.name}, used by the new code: the update module brings a fresh copy made at load time, not the state the running kernel would have built up since boot (counters, lists, locks shared with unchanged code, boot-time setup); initialize it in a ksplice_apply hook if it must reflect that state, then accept it`;
}

/**
 * Is this data object read only while the kernel boots? `__initdata`/`__initconst` live in
 * `.init.data`/`.init.rodata` and are freed with the init code; `__exitdata` is discarded when
 * built in.
 *
 * Example: `static char __initdata boot_command_line_copy[...]` given another size or contents.
 */
export function isInitOnlyData(section: ElfSection): boolean {
  return /^\.(init|exit)\.(data|rodata)/.test(section.name);
}

/**
 * Static keys an object defines and its `__jump_table` refers to (to name them in reasons).
 *
 * Example: `DEFINE_STATIC_KEY_FALSE(fast_path)` + `static_branch_unlikely(&fast_path)` → {fast_path}.
 */
export function staticKeysDefinedIn(entries: Map<ElfSymbol, SpecialEntry[]>, index: ObjectIndex): Set<ElfSymbol> {
  const keys = new Set<ElfSymbol>();
  for (const list of entries.values()) {
    for (const e of list) {
      if (e.section.name !== '__jump_table') continue;
      const rela = index.relocationAt(e.section, e.start + 8);
      const ref = rela && index.referent(rela, e.section);
      if (ref && ref.kind === 'symbol') keys.add(ref.symbol);
    }
  }
  return keys;
}

/**
 * Data objects the given functions refer to directly. New data reached only from new functions
 * (a static local of a new helper) starts fresh by nature; data an existing, changed function
 * reaches is what it would have needed since boot.
 */
function dataReferencedBy(functions: ElfSymbol[], index: ObjectIndex): Set<ElfSymbol> {
  const found = new Set<ElfSymbol>();
  for (const fn of functions) {
    for (const rela of index.relocationsIn(fn.section!, fn.value, Math.max(fn.size, 1))) {
      const ref = index.referent(rela, fn.section!);
      if (ref.kind === 'symbol') found.add(ref.symbol);
    }
  }
  return found;
}

/** The rules above over one diff's changed functions and new data (called by diffObjects). */
export function objectSafetyFindings(input: {
  changedParts: { name: string; symbol: ElfSymbol; pre?: ElfSymbol }[];
  newData: ElfSymbol[];
  preEntries: Map<ElfSymbol, SpecialEntry[]>;
  postEntries: Map<ElfSymbol, SpecialEntry[]>;
  preIndex: ObjectIndex;
  postIndex: ObjectIndex;
  correlation: Correlation;
}): { symbol: string; reason: string }[] {
  const findings: { symbol: string; reason: string }[] = [];
  for (const part of input.changedParts) {
    if (!part.pre) continue;
    const redirect = whyCannotBeRedirected(part.pre, input.preEntries);
    if (redirect) findings.push({ symbol: part.pre.name, reason: redirect });
    const keys = whyStaticKeyUsersChanged(
      part.name,
      staticKeysTestedBy(part.pre, input.preEntries, input.preIndex),
      staticKeysTestedBy(part.symbol, input.postEntries, input.postIndex),
    );
    if (keys) findings.push({ symbol: part.name, reason: keys });
  }
  const keys = staticKeysDefinedIn(input.postEntries, input.postIndex);
  const usedByChanged = dataReferencedBy(input.changedParts.map((p) => p.symbol), input.postIndex);
  for (const sym of input.newData.filter((d) => usedByChanged.has(d))) {
    const reason = whyNewStaticDataNeedsInit(sym, keys.has(sym));
    if (reason) findings.push({ symbol: sym.name, reason });
  }
  return findings;
}
