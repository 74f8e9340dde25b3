/**
 * The outcome of a create: what `createUpdate` returns (never throws) when the patch was judged,
 * whatever the judgement: `built` (a tarball), `analyzed` (--analyze-only: what the update would
 * hold), `no-changes` (exit 66) or `unsafe` (exit 2, with findings, each a rule of
 * src/diff/findings.ts). Bad input and tool bugs stay exceptions (exit 1).
 *
 * Every front end goes through the two mappings here: exitCodeOf (ksplice-create, the Action) and
 * outcomeToJson / outcomeFromJson (ksplice-create --json, the Action's container path).
 *
 * Usage:
 *   const outcome = await createUpdate({ sourceDir, patchPath });
 *   process.stdout.write(outcomeToJson(outcome) + '\n');
 *   process.exitCode = exitCodeOf(outcome);          // 0, 66 or 2
 *   outcomeFromJson(line)                            // the same outcome, checked field by field
 */
import { describeFinding, FINDING_RULES, isRuleCode, RULE_CODES, type Finding } from '../diff/findings.ts';
import { OUTCOME_EXIT_CODES, type OutcomeKind } from '../util/exit-codes.ts';

export { OUTCOME_EXIT_CODES, type OutcomeKind };

/** A changed or new function: its object and the module it is part of (`vmlinux` for built-in code). */
export interface FunctionEntry {
  object: string;
  function: string;
  /** `vmlinux`, or the loadable module's name as the kernel knows it (`ext4`, `sctp`, `sch_multiq`). */
  module: string;
}

/** What every outcome reports, built or not. */
export interface CreateReport {
  id: string;
  kernelRelease: string;
  changed: FunctionEntry[];
  new: FunctionEntry[];
  /** Findings that refuse the update (empty unless the outcome is `unsafe`). */
  unsafe: Finding[];
  /** Findings accepted with --accept (they would otherwise be in `unsafe`). */
  accepted: Finding[];
  /** Differences deliberately not shipped, functions removed, why the patch was not built. */
  notes: string[];
  /** Functions of the pre build found equal to the shipped code; the vmlinux and the modules (.ko) compared with. */
  reproduction: { checked: number; shippedVmlinux: boolean; shippedModules: string[] };
  timingsMs: Record<string, number>;
}

export type CreateOutcome =
  (CreateReport & { outcome: 'built'; tarball: string }) | (CreateReport & { outcome: Exclude<OutcomeKind, 'built'>; tarball: null });

export function exitCodeOf(outcome: { outcome: OutcomeKind }): number {
  return OUTCOME_EXIT_CODES[outcome.outcome];
}

/** The outcome in one message for a person (ksplice-create prints it; the Action's summary shows it). */
const NOT_COMPILED = ': not compiled in the configuration of ';

/** The note for a touched file the target's config does not compile; "No changes detected" repeats it. */
export function notCompiledNote(file: string, release: string): string {
  return `${file}${NOT_COMPILED}${release}`;
}

export function outcomeMessage(o: CreateOutcome): string {
  switch (o.outcome) {
    case 'built':
      return `Ksplice update tarball written to ${o.tarball}`;
    case 'analyzed':
      return `Analysis only: update ${o.id} would replace ${o.changed.map((c) => c.function).join(', ')}`;
    case 'no-changes': {
      const notCompiled = o.notes.filter((n) => n.includes(NOT_COMPILED));
      return notCompiled.length > 0 ? `No changes detected (${notCompiled.join('; ')})` : 'No changes detected';
    }
    case 'unsafe':
      return `the patch cannot be applied safely without custom code:\n${o.unsafe.map((f) => `  ${describeFinding(f)}`).join('\n')}`;
  }
}

const OUTCOME_KINDS = Object.keys(OUTCOME_EXIT_CODES) as OutcomeKind[];

/** The `--json` object (one line, no newline): every field of the outcome, findings with their rule. */
export function outcomeToJson(o: CreateOutcome): string {
  const findings = (list: Finding[]) => list.map(({ rule, symbol, reason, acceptable }) => ({ rule, symbol, reason, acceptable }));
  return JSON.stringify({
    outcome: o.outcome,
    id: o.id,
    tarball: o.tarball,
    kernelRelease: o.kernelRelease,
    changed: o.changed,
    new: o.new,
    unsafe: findings(o.unsafe),
    accepted: findings(o.accepted),
    notes: o.notes,
    reproduction: o.reproduction,
    timingsMs: o.timingsMs,
  });
}

/** `--json` text that is not an outcome: names the field and what was wrong with it. */
export class OutcomeJsonError extends Error {
  constructor(where: string, problem: string) {
    super(`not a ksplice-create outcome: ${where}: ${problem}`);
    this.name = 'OutcomeJsonError';
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Json, key: string, where: string): string {
  if (typeof o[key] !== 'string') throw new OutcomeJsonError(`${where}${key}`, `expected a string, got ${JSON.stringify(o[key])}`);
  return o[key];
}

function list<T>(o: Json, key: string, item: (v: unknown, where: string) => T): T[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new OutcomeJsonError(key, `expected an array, got ${JSON.stringify(v)}`);
  return v.map((x, i) => item(x, `${key}[${i}].`));
}

function entry(v: unknown, where: string): FunctionEntry {
  if (!isObject(v)) throw new OutcomeJsonError(where.slice(0, -1), 'expected {object, function, module}');
  return { object: str(v, 'object', where), function: str(v, 'function', where), module: str(v, 'module', where) };
}

function findingOf(v: unknown, where: string): Finding {
  if (!isObject(v)) throw new OutcomeJsonError(where.slice(0, -1), 'expected {rule, symbol, reason, acceptable}');
  const rule = v.rule;
  if (!isRuleCode(rule))
    throw new OutcomeJsonError(`${where}rule`, `${JSON.stringify(rule)} is not a finding rule (${RULE_CODES.join(', ')})`);
  const acceptable = v.acceptable ?? FINDING_RULES[rule].acceptable;
  if (acceptable !== FINDING_RULES[rule].acceptable)
    throw new OutcomeJsonError(`${where}acceptable`, `rule ${rule} is ${FINDING_RULES[rule].acceptable ? '' : 'not '}acceptable`);
  return { rule, symbol: str(v, 'symbol', where), reason: str(v, 'reason', where), acceptable };
}

/**
 * An outcome read back from `ksplice-create --json` output (the Action's container path), checked
 * field by field: a field missing or of the wrong kind, an unknown rule or outcome, or an outcome
 * its fields contradict (`built` without a tarball, `unsafe` without findings) is an error.
 */
export function outcomeFromJson(text: string): CreateOutcome {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new OutcomeJsonError('the text', `not JSON (${(e as Error).message}): ${text.slice(0, 200)}`);
  }
  if (!isObject(v)) throw new OutcomeJsonError('the text', 'expected a JSON object');
  const kind = v.outcome;
  if (typeof kind !== 'string' || !(OUTCOME_KINDS as string[]).includes(kind)) {
    throw new OutcomeJsonError('outcome', `${JSON.stringify(kind)} is not one of ${OUTCOME_KINDS.join(', ')}`);
  }
  const reproduction = v.reproduction;
  if (!isObject(reproduction) || typeof reproduction.checked !== 'number' || typeof reproduction.shippedVmlinux !== 'boolean') {
    throw new OutcomeJsonError('reproduction', 'expected {checked: number, shippedVmlinux: boolean}');
  }
  // Absent in JSON written before module code was checked: no module was.
  const shippedModules = reproduction.shippedModules ?? [];
  if (!Array.isArray(shippedModules) || shippedModules.some((m) => typeof m !== 'string')) {
    throw new OutcomeJsonError('reproduction.shippedModules', 'expected an array of module names');
  }
  const timings = v.timingsMs;
  if (!isObject(timings) || Object.values(timings).some((t) => typeof t !== 'number'))
    throw new OutcomeJsonError('timingsMs', 'expected {stage: milliseconds}');
  const report: CreateReport = {
    id: str(v, 'id', ''),
    kernelRelease: str(v, 'kernelRelease', ''),
    changed: list(v, 'changed', entry),
    new: list(v, 'new', entry),
    unsafe: list(v, 'unsafe', findingOf),
    accepted: list(v, 'accepted', findingOf),
    notes: list(v, 'notes', (n, where) => {
      if (typeof n !== 'string') throw new OutcomeJsonError(where.slice(0, -1), 'expected a string');
      return n;
    }),
    reproduction: {
      checked: reproduction.checked,
      shippedVmlinux: reproduction.shippedVmlinux,
      shippedModules: shippedModules as string[],
    },
    timingsMs: timings as Record<string, number>,
  };
  if ((kind === 'unsafe') !== report.unsafe.length > 0)
    throw new OutcomeJsonError('unsafe', `outcome ${kind} with ${report.unsafe.length} refusing finding(s)`);
  if (kind === 'no-changes' && report.changed.length + report.new.length > 0)
    throw new OutcomeJsonError('changed', 'outcome no-changes with changed or new functions');
  if (kind === 'built') {
    if (typeof v.tarball !== 'string' || v.tarball === '') throw new OutcomeJsonError('tarball', 'outcome built without a tarball');
    return { ...report, outcome: kind, tarball: v.tarball };
  }
  if (v.tarball !== null) throw new OutcomeJsonError('tarball', `outcome ${kind} with tarball ${JSON.stringify(v.tarball)}`);
  return { ...report, outcome: kind as Exclude<OutcomeKind, 'built'>, tarball: null };
}
