/**
 * ksplice.yml, the project file: what a pipeline builds, read once and checked before any work.
 * ksplice-create --manifest and the Action's `manifest` input both take it (README, docs/action.md).
 *
 *   kernel-releases: [6.1.0-50-amd64]     # Debian releases; one update per patch × release
 *   hooks: hooks/common.c                 # defaults for every patch (each may set its own)
 *   check: checks/smoke.sh                # the guest check of the QEMU proof (the Action)
 *   accept:
 *     - { symbol: free_uid, rule: export-change }
 *   patches:
 *     - patches/0001-fix.patch            # a file, or a series: patches/*.patch (name order)
 *     - patch: patches/0002-counter.patch
 *       id: counter-fix
 *       check: checks/counter.sh
 *       accept: [{ symbol: struct foo, rule: data-layout, reason: shadow variable in the hooks }]
 *
 * Paths are relative to the file's folder. Every problem is reported, each naming the file, line
 * and column of the key or value at fault (ProjectFileError): an unknown key, a wrong type, a rule
 * not in the table (src/diff/findings.ts) or one that cannot be accepted, a patch pattern that
 * matches nothing, a hooks or check file that is not there, an id that would name several updates.
 *
 * Positions come from js-yaml's event stream (parseEvents: source offsets of every key and value),
 * the values from js-yaml's load; no process runs here (files are looked at through a FileView).
 *
 * Usage: const project = await readProjectFile('ksplice.yml');   // throws ProjectFileError
 *        const project = parseProjectFile(text, '/repo/ksplice.yml', files);
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EVENT_ID, load, parseEvents, YAMLException, type Event } from 'js-yaml';
import { FINDING_RULES, isRuleCode, RULE_CODES, type RuleCode } from '../diff/findings.ts';
import { parseRelease } from '../setup/target-kernel.ts';
import { matchPatchPattern, REAL_FILES, type FileView } from './patch-glob.ts';

/** One place in the file, 1-based as editors count. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** A reviewed finding: `symbol` is what --accept names; `rule`, when given, the only rule accepted for it. */
export interface AcceptEntry {
  symbol: string;
  rule: RuleCode | null;
  reason: string | null;
  at: SourcePosition;
}

/** One update to build (per kernel release): a patch and what goes with it. */
export interface ProjectPatch {
  /** Absolute path of the patch file. */
  patch: string;
  id: string | null;
  /** Absolute paths, or null. */
  hooks: string | null;
  check: string | null;
  /** The file's accepts followed by the entry's own. */
  accept: AcceptEntry[];
  /** Where the entry is written (a pattern's files share it). */
  at: SourcePosition;
}

export interface ProjectFile {
  file: string;
  /** Debian releases, in the order written; empty when the file names none (the caller's default applies). */
  kernelReleases: string[];
  /** Where kernel-releases is written (for errors about it), or null. */
  kernelReleasesAt: SourcePosition | null;
  patches: ProjectPatch[];
}

export class ProjectFileError extends Error {
  constructor(readonly problems: { at: SourcePosition; message: string }[]) {
    super(problems.map((p) => `${formatPosition(p.at)}: ${p.message}`).join('\n'));
    this.name = 'ProjectFileError';
  }
}

export function formatPosition(at: SourcePosition): string {
  return `${at.file}:${at.line}:${at.column}`;
}

const TOP_KEYS = ['kernel-releases', 'id', 'hooks', 'check', 'accept', 'patches'] as const;
const PATCH_KEYS = ['patch', 'id', 'hooks', 'check', 'accept'] as const;
const ACCEPT_KEYS = ['symbol', 'rule', 'reason'] as const;

/** A value's path from the document root: keys and sequence indices. */
type NodePath = (string | number)[];

function pathKey(p: NodePath): string {
  return JSON.stringify(p);
}

/**
 * Source offset of every node, by its path: for a mapping entry the key's offset (errors about an
 * entry point at its key), for a sequence item where the item starts.
 */
export function nodeOffsets(source: string, events: Event[]): Map<string, number> {
  const offsets = new Map<string, number>();
  let i = 0;
  const startOf = (e: Event): number =>
    e.type === EVENT_ID.SCALAR ? e.valueStart : e.type === EVENT_ID.SEQUENCE || e.type === EVENT_ID.MAPPING ? e.start : -1;
  // Consumes one node at events[i] (and its children), recording offsets below `at`.
  const node = (at: NodePath): void => {
    const e = events[i++];
    if (e.type === EVENT_ID.SEQUENCE) {
      for (let index = 0; events[i].type !== EVENT_ID.POP; index++) {
        const child = [...at, index];
        const start = startOf(events[i]);
        if (start >= 0) offsets.set(pathKey(child), start);
        node(child);
      }
      i++;
    } else if (e.type === EVENT_ID.MAPPING) {
      while (events[i].type !== EVENT_ID.POP) {
        const keyEvent = events[i];
        const key = keyEvent.type === EVENT_ID.SCALAR ? source.slice(keyEvent.valueStart, keyEvent.valueEnd) : '?';
        node([...at, '#key']); // the key itself (complex keys are consumed whole)
        const child = [...at, key];
        offsets.set(pathKey(child), startOf(keyEvent));
        node(child);
      }
      i++;
    }
  };
  while (i < events.length) {
    const e = events[i];
    if (e.type === EVENT_ID.DOCUMENT) {
      i++;
      if (events[i] && events[i].type !== EVENT_ID.POP) {
        offsets.set(pathKey([]), startOf(events[i]));
        node([]);
      }
    } else i++;
  }
  return offsets;
}

function positionAt(source: string, file: string, offset: number): SourcePosition {
  const before = source.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return { file, line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

function describePath(p: NodePath): string {
  return p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '') || 'the file';
}

function typeName(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v} (${JSON.stringify(v)})`;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads and checks the project file (relative paths from its folder). */
export async function readProjectFile(file: string, files: FileView = REAL_FILES): Promise<ProjectFile> {
  const full = path.resolve(file);
  const text = await readFile(full, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new ProjectFileError([{ at: { file, line: 1, column: 1 }, message: `cannot read the project file (${e.code ?? e.message})` }]);
  });
  return parseProjectFile(text, file, files);
}

/**
 * Checks `text` as the project file `file` (its folder is where relative paths start) and
 * returns what it describes; every problem at once in a ProjectFileError.
 */
export function parseProjectFile(text: string, file: string, files: FileView = REAL_FILES): ProjectFile {
  const baseDir = path.dirname(path.resolve(file));
  if (text.trim() === '')
    throw new ProjectFileError([{ at: { file, line: 1, column: 1 }, message: 'the file is empty: it needs patches' }]);
  let value: unknown;
  try {
    value = load(text, { filename: file });
  } catch (e) {
    if (e instanceof YAMLException && e.mark) {
      throw new ProjectFileError([{ at: { file, line: e.mark.line + 1, column: e.mark.column + 1 }, message: `not YAML: ${e.reason}` }]);
    }
    throw new ProjectFileError([{ at: { file, line: 1, column: 1 }, message: `not YAML: ${(e as Error).message}` }]);
  }
  const offsets = nodeOffsets(text, parseEvents(text, { filename: file }));
  const problems: { at: SourcePosition; message: string }[] = [];
  const at = (p: NodePath): SourcePosition => {
    // A node without a recorded offset (a default): its nearest written parent.
    for (let n = p.length; n >= 0; n--) {
      const offset = offsets.get(pathKey(p.slice(0, n)));
      if (offset !== undefined) return positionAt(text, file, offset);
    }
    return { file, line: 1, column: 1 };
  };
  const problem = (p: NodePath, message: string) => problems.push({ at: at(p), message });

  const knownKeys = (v: Record<string, unknown>, p: NodePath, known: readonly string[]) => {
    for (const key of Object.keys(v)) {
      if (!known.includes(key)) problem([...p, key], `unknown key '${key}' in ${describePath(p)} (known: ${known.join(', ')})`);
    }
  };
  const str = (v: unknown, p: NodePath, what: string): string | null => {
    if (v === undefined) return null;
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    problem(p, `${describePath(p)}: expected ${what}, got ${typeName(v)}`);
    return null;
  };
  const existingFile = (v: unknown, p: NodePath, what: string): string | null => {
    const name = str(v, p, what);
    if (name === null) return null;
    const full = path.resolve(baseDir, name);
    if (!files.exists(full)) {
      problem(p, `${describePath(p)}: ${name}: no such file (${full})`);
      return null;
    }
    return full;
  };
  const acceptList = (v: unknown, p: NodePath): AcceptEntry[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      problem(p, `${describePath(p)}: expected a list of findings ({symbol, rule}), got ${typeName(v)}`);
      return [];
    }
    const out: AcceptEntry[] = [];
    v.forEach((item, index) => {
      const ip = [...p, index];
      if (typeof item === 'string') {
        if (item.trim()) out.push({ symbol: item.trim(), rule: null, reason: null, at: at(ip) });
        else problem(ip, `${describePath(ip)}: an empty symbol`);
        return;
      }
      if (!isMapping(item)) {
        problem(ip, `${describePath(ip)}: expected a symbol or {symbol, rule, reason}, got ${typeName(item)}`);
        return;
      }
      knownKeys(item, ip, ACCEPT_KEYS);
      const symbol = str(item.symbol, [...ip, 'symbol'], 'the symbol of a finding (free_uid, struct foo, kernel/sys.o)');
      if (item.symbol === undefined) problem(ip, `${describePath(ip)}: symbol is required`);
      let rule: RuleCode | null = null;
      const ruleName = str(item.rule, [...ip, 'rule'], 'a rule code');
      if (ruleName !== null) {
        if (!isRuleCode(ruleName))
          problem([...ip, 'rule'], `${describePath([...ip, 'rule'])}: unknown rule '${ruleName}' (rules: ${RULE_CODES.join(', ')})`);
        else if (!FINDING_RULES[ruleName].acceptable)
          problem(
            [...ip, 'rule'],
            `${describePath([...ip, 'rule'])}: rule ${ruleName} cannot be accepted (${FINDING_RULES[ruleName].message}); change the patch instead`,
          );
        else rule = ruleName;
      }
      const reason = str(item.reason, [...ip, 'reason'], 'a sentence');
      if (symbol !== null) out.push({ symbol, rule, reason, at: at(ip) });
    });
    return out;
  };

  if (!isMapping(value)) {
    problem([], `expected a mapping with ${TOP_KEYS.join(', ')}, got ${typeName(value)}`);
    throw new ProjectFileError(problems);
  }
  knownKeys(value, [], TOP_KEYS);

  // kernel-releases: a list of Debian release names, each once.
  const kernelReleases: string[] = [];
  const releasesValue = value['kernel-releases'];
  if (releasesValue !== undefined) {
    if (!Array.isArray(releasesValue) || releasesValue.length === 0) {
      problem(
        ['kernel-releases'],
        `kernel-releases: expected a list of Debian kernel releases (6.1.0-50-amd64), got ${typeName(releasesValue)}`,
      );
    } else {
      releasesValue.forEach((r, index) => {
        const rp = ['kernel-releases', index];
        const name = str(r, rp, 'a Debian kernel release (6.1.0-50-amd64)');
        if (name === null) return;
        try {
          parseRelease(name);
        } catch (e) {
          return problem(rp, `${describePath(rp)}: ${(e as Error).message}`);
        }
        if (kernelReleases.includes(name)) return problem(rp, `${describePath(rp)}: ${name} is listed twice`);
        kernelReleases.push(name);
      });
    }
  }

  const topId = str(value.id, ['id'], 'an update id');
  const topHooks = existingFile(value.hooks, ['hooks'], 'a hooks file (C, kmod/ksplice_hooks.h)');
  const topCheck = existingFile(value.check, ['check'], 'a guest check script');
  const topAccept = acceptList(value.accept, ['accept']);

  const patches: ProjectPatch[] = [];
  const patchesValue = value.patches;
  if (patchesValue === undefined) problem([], 'patches is required: a list of patch files or patterns (patches/*.patch)');
  else if (!Array.isArray(patchesValue) || patchesValue.length === 0) {
    problem(['patches'], `patches: expected a list of patch files or patterns, got ${typeName(patchesValue)}`);
  } else {
    const seen = new Map<string, string>();
    patchesValue.forEach((entry, index) => {
      const ep: NodePath = ['patches', index];
      let pattern: string | null;
      let patchPath: NodePath = ep;
      let own: Record<string, unknown> = {};
      if (typeof entry === 'string') pattern = str(entry, ep, 'a patch file or pattern');
      else if (isMapping(entry)) {
        knownKeys(entry, ep, PATCH_KEYS);
        own = entry;
        patchPath = [...ep, 'patch'];
        if (entry.patch === undefined) problem(ep, `${describePath(ep)}: patch is required (a patch file or pattern)`);
        pattern = str(entry.patch, patchPath, 'a patch file or pattern');
      } else {
        problem(ep, `${describePath(ep)}: expected a patch file, a pattern or {patch, id, hooks, check, accept}, got ${typeName(entry)}`);
        return;
      }
      const id = str(own.id, [...ep, 'id'], 'an update id');
      const hooks =
        own.hooks === undefined ? topHooks : existingFile(own.hooks, [...ep, 'hooks'], 'a hooks file (C, kmod/ksplice_hooks.h)');
      const check = own.check === undefined ? topCheck : existingFile(own.check, [...ep, 'check'], 'a guest check script');
      const accept = [...topAccept, ...acceptList(own.accept, [...ep, 'accept'])];
      if (pattern === null) return;
      const match = matchPatchPattern(pattern, baseDir, files);
      if ('error' in match) return problem(patchPath, `${describePath(patchPath)}: ${pattern}: ${match.error}`);
      if (id !== null && match.files.length > 1)
        problem([...ep, 'id'], `${describePath([...ep, 'id'])}: id names one update, but ${pattern} matches ${match.files.length} files`);
      for (const file of match.files) {
        const earlier = seen.get(file);
        if (earlier) problem(patchPath, `${describePath(patchPath)}: ${path.relative(baseDir, file)} is already built by ${earlier}`);
        else seen.set(file, describePath(ep));
        patches.push({ patch: file, id, hooks, check, accept, at: at(ep) });
      }
    });
  }

  // An id names one tarball (ksplice-<id>.tar.gz): two updates under one id would overwrite each other.
  const updatesPerId = Math.max(1, kernelReleases.length);
  if (topId !== null) {
    if (patches.length === 1 && updatesPerId === 1) patches[0].id ??= topId;
    else if (patches.length * updatesPerId > 1)
      problem(
        ['id'],
        `id names one update, but the file builds ${patches.length} patch(es) × ${updatesPerId} release(s); give each patch its own id`,
      );
  }
  if (updatesPerId > 1) {
    for (const p of patches.filter((p) => p.id !== null)) {
      problems.push({
        at: p.at,
        message: `id ${p.id} names one update, but kernel-releases lists ${updatesPerId} releases (leave id out: each release's update gets its own)`,
      });
    }
  }
  problems.sort((a, b) => a.at.line - b.at.line || a.at.column - b.at.column);
  if (problems.length > 0) throw new ProjectFileError(problems);
  return {
    file,
    kernelReleases,
    kernelReleasesAt: releasesValue === undefined ? null : at(['kernel-releases']),
    patches,
  };
}

/** The symbols to pass to createUpdate's accept (each once). */
export function acceptedSymbols(accept: readonly AcceptEntry[]): string[] {
  return [...new Set(accept.map((a) => a.symbol))];
}

/**
 * Findings let through by symbol whose rule the project file did not name for that symbol (an
 * entry with a rule accepts only that rule; one without accepts any). createUpdate accepts by
 * symbol; these must refuse the update all the same.
 */
export function acceptedBeyondRules<F extends { rule: string; symbol: string }>(
  accepted: readonly F[],
  accept: readonly AcceptEntry[],
): F[] {
  return accepted.filter((f) => {
    const entries = accept.filter((a) => a.symbol === f.symbol);
    return entries.length > 0 && !entries.some((a) => a.rule === null || a.rule === f.rule);
  });
}
