/**
 * The job summary: per update, its outcome, the changed functions (with their module), the safety
 * findings (each with its rule) and the QEMU verdict
 * (boot and total time) with a table of the guest steps and the time of each. Written with @actions/core's summary (GITHUB_STEP_SUMMARY).
 *
 * Usage: await writeSummary(results);
 */
import * as core from '@actions/core';
import type { CreateOutcome, FunctionEntry } from '../create/outcome.ts';
import { describeFinding, type Finding } from '../diff/findings.ts';
import type { GuestVerdict } from '../qemu/guest.ts';

/** One patch's create outcome, as the Action reports it, and what the Action did with it. */
export interface UpdateResult {
  patch: string;
  outcome: CreateOutcome['outcome'];
  /** The update's id, when a tarball was built. */
  id: string | null;
  tarball: string | null;
  changed: FunctionEntry[];
  unsafe: Finding[];
  /** exitCodeOf(outcome) (src/create/outcome.ts): 0 built, 66 no changes, 2 unsafe. */
  exitCode: number;
  /** outcomeMessage(outcome), for what was not built. */
  message: string;
  verdict: GuestVerdict | null;
  artifact?: string;
  releaseAsset?: string;
}

function seconds(ms: number | null): string {
  return ms === null ? '' : `${(ms / 1000).toFixed(1)} s`;
}

function verdictLine(v: GuestVerdict | null): string {
  if (!v) return 'not run';
  return (
    `${v.ok ? 'passed' : 'FAILED'} on ${v.accelerator.toUpperCase()}, userspace after ${v.timingsMs.boot === null ? 'never' : seconds(v.timingsMs.boot)}, ` +
    `${seconds(v.timingsMs.total)} in all${v.failures.length ? `; ${v.failures.join('; ')}` : ''}`
  );
}

/** One row per guest step: what ran, how it ended, how long it took. */
function stepTable(v: GuestVerdict): { data: string; header?: boolean }[][] {
  const header = ['QEMU step', 'status', 'time'].map((data) => ({ data, header: true }));
  return [header, ...v.steps.map((s) => [s.name, s.status, seconds(s.durationMs)].map((data) => ({ data })))];
}

export async function writeSummary(results: UpdateResult[]): Promise<void> {
  const s = core.summary.addHeading('ksplice-action', 2);
  for (const r of results) {
    s.addHeading(
      `${r.patch}: ${r.id ? `update ${r.id}` : r.outcome === 'no-changes' ? 'no changes detected' : 'refused'} (outcome ${r.outcome})`,
      3,
    );
    if (r.changed.length > 0) {
      const header = ['object', 'changed function', 'module'].map((data) => ({ data, header: true }));
      s.addTable([header, ...r.changed.map((c) => [c.object, c.function, c.module].map((data) => ({ data })))]);
    }
    if (r.unsafe.length > 0) {
      s.addRaw('Safety findings, each with its rule (the patch needs custom code: see docs/hooks.md):', true);
      s.addList(r.unsafe.map(describeFinding));
    } else if (r.exitCode !== 0) {
      s.addRaw(r.message, true);
    }
    s.addRaw(`QEMU: ${verdictLine(r.verdict)}`, true);
    if (r.verdict) s.addTable(stepTable(r.verdict));
    if (r.artifact) s.addRaw(`Artifact: ${r.artifact}`, true);
    if (r.releaseAsset) s.addLink(`Release asset ${r.tarball?.split('/').pop()}`, r.releaseAsset);
  }
  await s.write();
}
