/**
 * What GCC's symbol names say: which function a clone belongs to, and which part of a static
 * local variable's name is a per-build counter.
 */

/** GCC's clone suffixes: `.cold` (the unlikely part), `.part.N`, `.isra.N`, `.constprop.N`, ... */
const CLONE_SUFFIX = /\.(cold|part\.\d+|isra\.\d+|constprop\.\d+|lto_priv\.\d+|localalias)(?=\.|$)/;

/** Is this a function GCC split or specialized out of another? `foo.cold`, `foo.constprop.0.isra.0`. */
export function isCloneName(name: string): boolean {
  return CLONE_SUFFIX.test(name);
}

/** Is this the unlikely-executed fragment of a function (entered by a jump, never called)? */
export function isColdPart(name: string): boolean {
  return name.endsWith('.cold') || /\.cold\.\d+$/.test(name);
}

/**
 * The function a clone was made from: every clone suffix removed.
 *
 * Example: `__pr_flush.constprop.0.isra.0` → `__pr_flush`;
 * `console_emit_next_record.constprop.0.cold` → `console_emit_next_record`.
 */
export function cloneParent(name: string): string {
  const i = name.search(CLONE_SUFFIX);
  return i < 0 ? name : name.slice(0, i);
}

/**
 * The function whose code a `.cold` fragment continues (one suffix removed).
 *
 * Example: `console_emit_next_record.constprop.0.cold` → `console_emit_next_record.constprop.0`.
 */
export function coldOwner(name: string): string {
  return name.replace(/\.cold(\.\d+)?$/, '');
}

/**
 * A name with GCC's numbering removed, for matching symbols whose counter moved between builds.
 *
 * Example: `__already_done.24` → `__already_done`; `__UNIQUE_ID_ddebug371.21` →
 * `__UNIQUE_ID_ddebug`; `CSWTCH.381` → `CSWTCH`; `foo.constprop.3` → `foo.constprop`;
 * `__func__.7` → `__func__`. Names without a counter are returned unchanged.
 */
export function unnumberedName(name: string): string {
  return name
    .replace(/^(__UNIQUE_ID_[A-Za-z_]*?)\d+/, '$1')
    .replace(/\.\d+/g, '')
    .replace(/\.$/, '');
}

/** Does this name carry a compiler counter (static locals, clone numbers, __UNIQUE_ID)? */
export function hasCounter(name: string): boolean {
  return unnumberedName(name) !== name;
}
