/**
 * From a checked project file (project-file.ts) to the updates a run builds, and the one check of
 * an outcome the project file adds. Pure: ksplice-create --manifest and the Action both use it.
 *
 *   plannedUpdates(project, ['6.1.0-50-amd64'])  → one PlannedUpdate per patch × release, release-major
 *   enforceAcceptRules(outcome, entry.accept)     → the outcome, refused if an accept let through a rule it did not name
 *   worstExitCode([0, 66, 2])                     → 2 (unsafe, then no changes, then any other)
 */
import type { Finding } from '../diff/findings.ts';
import { EXIT } from '../util/exit-codes.ts';
import { acceptedBeyondRules, type ProjectFile, type ProjectPatch } from './project-file.ts';

export interface PlannedUpdate extends ProjectPatch {
  /** The Debian release it is built for (null: the caller's own tree, KERNEL_SOURCE / kernel-source). */
  release: string | null;
}

/**
 * Every patch for every release: the file's kernel-releases, else `fallback` (a release given
 * on the command line or as an input, or [null] for a tree of the caller's own).
 */
export function plannedUpdates(project: ProjectFile, fallback: readonly (string | null)[]): PlannedUpdate[] {
  const releases = project.kernelReleases.length > 0 ? project.kernelReleases : fallback;
  return releases.flatMap((release) => project.patches.map((p) => ({ ...p, release })));
}

/** What enforceAcceptRules reads of an outcome (src/create/outcome.ts's CreateOutcome; not imported: create sits above). */
export interface JudgedOutcome {
  outcome: string;
  tarball: string | null;
  unsafe: Finding[];
  accepted: Finding[];
  notes: string[];
}

/**
 * createUpdate accepts findings by symbol; an accept entry with a rule accepts that rule only. A
 * finding let through beyond its entries' rules refuses the update after all: outcome `unsafe`,
 * no tarball (the caller removes the file `removedTarball` names).
 */
export function enforceAcceptRules<O extends JudgedOutcome>(
  outcome: O,
  accept: ProjectPatch['accept'],
): { outcome: O; removedTarball: string | null } {
  const beyond = acceptedBeyondRules(outcome.accepted, accept);
  if (beyond.length === 0) return { outcome, removedTarball: null };
  const notes = beyond.map((f) => {
    const rules = accept.filter((a) => a.symbol === f.symbol).map((a) => a.rule);
    return `${f.symbol} [${f.rule}]: the project file accepts ${f.symbol} for ${rules.join(', ')} only (add an accept entry with rule: ${f.rule} if it is reviewed)`;
  });
  return {
    outcome: {
      ...outcome,
      outcome: 'unsafe',
      tarball: null,
      unsafe: [...outcome.unsafe, ...beyond],
      accepted: outcome.accepted.filter((f) => !beyond.includes(f)),
      notes: [...outcome.notes, ...notes],
    } as O, // the unsafe shape of the same outcome type (CreateOutcome's union)
    removedTarball: outcome.tarball,
  };
}

/** The exit code of several updates: the worst outcome (unsafe, then no changes), else 0. */
export function worstExitCode(codes: number[]): number {
  for (const code of [EXIT.unsafe, EXIT.noChanges]) if (codes.includes(code)) return code;
  return codes.find((c) => c !== EXIT.ok) ?? EXIT.ok;
}
