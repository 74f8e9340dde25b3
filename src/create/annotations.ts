/**
 * The safety findings as GitHub Actions annotations (workflow commands), so a pull request shows
 * why its patch needs custom code next to the patch file. ksplice-create prints them on stderr
 * when it runs in GitHub Actions (GITHUB_ACTIONS=true); stdout stays the one --json object.
 *
 * Example: { rule: 'export-change', symbol: 'free_uid', reason: 'newly exported ...' } →
 *   ::error file=fix.patch,title=ksplice%3A needs custom code (free_uid)::free_uid: newly exported ... [export-change]
 */
import path from 'node:path';
import { describeFinding, type Finding } from '../diff/findings.ts';

/** Workflow-command escaping: data escapes %, CR, LF; properties also `:` and `,`. */
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** One `::error` per refusing finding, one `::notice` per accepted one, against the patch file. */
export function findingAnnotations(
  patchPath: string,
  unsafe: Finding[],
  accepted: Finding[],
  workspace = process.env.GITHUB_WORKSPACE,
): string[] {
  const file = workspace ? path.relative(workspace, patchPath) : patchPath;
  const line = (kind: 'error' | 'notice', title: string, f: Finding) =>
    `::${kind} file=${escapeProperty(file)},title=${escapeProperty(`ksplice: ${title} (${f.symbol})`)}::${escapeData(describeFinding(f))}`;
  return [
    ...unsafe.map((f) => line('error', 'needs custom code', f)),
    ...accepted.map((f) => line('notice', 'accepted with custom code', f)),
  ];
}
