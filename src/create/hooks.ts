/**
 * The patch author's hooks (kmod/ksplice_hooks.h) in the update module: which ones a hook file
 * registers, and the dispatchers the descriptor gives the engine (one slot per stage in
 * `struct ksplice_hooks`; several hooks per stage run in the order written, as in Ksplice).
 *
 * A registration is a line `ksplice_<stage>(fn);` whose macro defines the global pointer
 * `__ksplice_hook_<stage>_<fn>`; the descriptor calls through it. After the build every such
 * pointer in the module must have been read here (unregisteredHooks), so a registration hidden
 * in another macro cannot be silently skipped.
 *
 * Example: `ksplice_apply(init_counters);` → { stage: 'apply', fn: 'init_counters' } →
 *   extern void (*const __ksplice_hook_apply_init_counters)(void);
 *   static void ksplice_run_apply(void) { __ksplice_hook_apply_init_counters(); }
 */
import type { ElfObject } from '../elf/types.ts';

export const HOOK_STAGES = [
  'pre_apply',
  'check_apply',
  'apply',
  'post_apply',
  'fail_apply',
  'pre_reverse',
  'check_reverse',
  'reverse',
  'post_reverse',
  'fail_reverse',
] as const;
export type HookStage = (typeof HOOK_STAGES)[number];

/** Stages whose hooks may refuse (int return): pre_* before the stop, check_* inside it. */
const REFUSING = new Set<HookStage>(['pre_apply', 'check_apply', 'pre_reverse', 'check_reverse']);

export const HOOK_SYMBOL_PREFIX = '__ksplice_hook_';

export interface HookRegistration {
  stage: HookStage;
  fn: string;
}

/** `ksplice_<stage>(fn);` lines of a hook source, in order (not in comments or #define lines). */
export function hookRegistrations(source: string): HookRegistration[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const out: HookRegistration[] = [];
  for (const m of text.matchAll(/^[ \t]*ksplice_([a-z_]+)\s*\(\s*([A-Za-z_]\w*)\s*\)\s*;/gm)) {
    const stage = m[1] as HookStage;
    if (HOOK_STAGES.includes(stage)) out.push({ stage, fn: m[2]! });
  }
  return out;
}

export function hookSymbol(h: HookRegistration): string {
  return `${HOOK_SYMBOL_PREFIX}${h.stage}_${h.fn}`;
}

/** Hook pointers defined in the built module that hookRegistrations() did not find. */
export function unregisteredHooks(module: ElfObject, hooks: HookRegistration[]): string[] {
  const known = new Set(hooks.map(hookSymbol));
  return module.symbols.filter((s) => s.section !== null && s.name.startsWith(HOOK_SYMBOL_PREFIX) && !known.has(s.name)).map((s) => s.name);
}

/**
 * C for the descriptor: one dispatcher per stage that has hooks, and KSPLICE_HOOK_TABLE for
 * `.hooks`. A refusing stage stops at the first non-zero return and passes it on (the engine
 * then aborts with call_failed and runs the fail_* hooks); the others run every hook.
 */
export function hookDispatchers(hooks: HookRegistration[]): string[] {
  const out = ["/* The author's hooks (--hooks), run in the order they were registered. */"];
  const slots: string[] = [];
  for (const stage of HOOK_STAGES) {
    const mine = hooks.filter((h) => h.stage === stage);
    if (mine.length === 0) continue;
    const refusing = REFUSING.has(stage);
    for (const h of mine) out.push(`extern ${refusing ? 'int' : 'void'} (*const ${hookSymbol(h)})(void);`);
    if (refusing) {
      out.push(`static int ksplice_run_${stage}(void)`, '{', '\tint ret;', '');
      for (const h of mine) out.push(`\tret = ${hookSymbol(h)}();`, '\tif (ret)', '\t\treturn ret;');
      out.push('\treturn 0;', '}');
    } else {
      out.push(`static void ksplice_run_${stage}(void)`, '{', ...mine.map((h) => `\t${hookSymbol(h)}();`), '}');
    }
    slots.push(`.${stage} = ksplice_run_${stage}`);
  }
  out.push(`#define KSPLICE_HOOK_TABLE { ${slots.join(', ')} }`, '');
  return out;
}
