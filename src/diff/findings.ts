/**
 * The finding rules: every kind of change an update cannot carry without custom code, as one
 * closed table (the TypeScript sibling of kmod/abort.c's abort codes): a short code tools and
 * tests can match, the human message of the rule, and whether an author may accept it
 * (`ksplice-create --accept`, usually with hooks) or must change the patch instead.
 *
 * A finding is one rule met by one symbol, with the details in `reason`:
 *   finding('export-change', 'free_uid', 'newly exported (EXPORT_SYMBOL_GPL): ...')
 *   → { rule: 'export-change', symbol: 'free_uid', reason: '...', acceptable: true }
 *
 * The object rules (diff.ts, safety-rules.ts), the source rules (source-rules.ts) and
 * ksplice-create (module code) all produce findings through `finding()`. A new rule is one entry
 * here. This file sits in src/diff/ because the differ is where findings are made; src/create/
 * (outcome.ts) imports it, never the other way.
 */

export interface FindingRule {
  /** What the rule means, for people (README's rule table, docs/action.md). */
  message: string;
  /** false: no custom code makes it safe (ftrace cannot redirect the code, or the tool cannot build it): --accept refuses. */
  acceptable: boolean;
}

export const FINDING_RULES = {
  'init-code': {
    message: '`__init` code changed or added: it ran once at boot and was freed; an update cannot re-run it',
    acceptable: true,
  },
  'exit-code': { message: '`__exit` code changed or added: discarded when built in, run only at module unload', acceptable: true },
  'init-data': { message: '`__initdata`/`__initconst` changed: read only while the kernel boots, then freed', acceptable: true },
  'data-change': { message: "initialized data changed: the update replaces code, not the running kernel's data", acceptable: true },
  'data-layout': {
    message:
      "a type's layout changed (struct members, a data object's size, field offsets seen in code): the running kernel's objects keep the old one",
    acceptable: true,
  },
  'new-data': {
    message: 'new writable data used by existing code: the update brings a fresh copy, not the state built up since boot',
    acceptable: true,
  },
  'static-key': {
    message: 'a function tests other static keys: their state was set by the running kernel for the old users',
    acceptable: true,
  },
  'static-key-definition': {
    message: "a static key's definition changed: the running key keeps its state and its sites their code",
    acceptable: true,
  },
  'export-change': { message: "an export added, removed or changed: the running kernel's export table cannot change", acceptable: true },
  'header-inline': {
    message: 'an inline function of a header changed: every caller must be replaced, and modules keep the old copy',
    acceptable: true,
  },
  'lib-archive': {
    message: 'a `lib-y` archive member changed: linked only if referenced, the running kernel may lack or duplicate its code',
    acceptable: true,
  },
  notrace: { message: 'a `notrace` function changed: it has no fentry call for ftrace to redirect', acceptable: false },
  noinstr: { message: 'a `noinstr` function changed (`.noinstr.text`): it has no fentry call for ftrace to redirect', acceptable: false },
  'entry-code': {
    message: 'low-level entry code changed (`.entry.text`): it has no fentry call for ftrace to redirect',
    acceptable: false,
  },
  'no-fentry': { message: 'a function of an object built without ftrace changed: it has no fentry call to redirect', acceptable: false },
  assembly: {
    message: 'assembly changed: no fentry call to redirect, and entry/low-level code cannot be switched under a running CPU',
    acceptable: false,
  },
  'module-code': {
    message:
      "a jump label or static call of a loadable module's new code refers to that module's own symbols: the kernel reads it when the update loads, before the module's instance is known",
    acceptable: false,
  },
} as const satisfies Record<string, FindingRule>;

/** One of the codes of FINDING_RULES (the table is closed: nothing else is a rule). */
export type RuleCode = keyof typeof FINDING_RULES;

/** One rule met by one symbol: `symbol` is what --accept names, `reason` the details for a person. */
export interface Finding {
  rule: RuleCode;
  /** A function, data object, struct (`struct fib_alias`) or object file (`lib/cmdline.o`). */
  symbol: string;
  reason: string;
  /** The rule's: false when --accept cannot let it through. */
  acceptable: boolean;
}

export const RULE_CODES = Object.keys(FINDING_RULES) as RuleCode[];

export function isRuleCode(code: unknown): code is RuleCode {
  return typeof code === 'string' && Object.hasOwn(FINDING_RULES, code);
}

/** A finding of `rule` for `symbol`; acceptability comes from the table. */
export function finding(rule: RuleCode, symbol: string, reason: string): Finding {
  return { rule, symbol, reason, acceptable: FINDING_RULES[rule].acceptable };
}

/** A finding as a person reads it: `free_uid: newly exported (...) [export-change]`. */
export function describeFinding(f: Finding): string {
  return `${f.symbol}: ${f.reason} [${f.rule}]`;
}

/** The rule table as Markdown (README.md and docs/action.md carry it verbatim; a test compares). */
export function ruleTableMarkdown(): string {
  const rows = RULE_CODES.map(
    (code) => `| \`${code}\` | ${FINDING_RULES[code].message} | ${FINDING_RULES[code].acceptable ? 'yes' : 'no'} |`,
  );
  return ['| rule | what it means | `--accept` |', '|---|---|---|', ...rows].join('\n');
}
