/**
 * A source patch in unified diff form, as `patch -p1` applies it at the kernel tree's root:
 * which files it touches, whether it applies, applying and reversing it.
 *
 * Usage:
 *   const files = touchedFiles(await readFile(patchPath, 'utf8'));  // ['kernel/printk/printk.c']
 *   await assertPatchApplies(tree, patchPath);                      // PatchDoesNotApplyError
 */
import { runUnchecked } from '../util/exec.ts';

export class PatchDoesNotApplyError extends Error {
  constructor(
    patchPath: string,
    tree: string,
    readonly output: string,
  ) {
    super(`patch ${patchPath} does not apply to ${tree}; the tree was left untouched:\n${output.trim()}`);
    this.name = 'PatchDoesNotApplyError';
  }
}

/**
 * Files the patch creates or changes, relative to the tree root (one leading path component
 * stripped, as with -p1). A deleted file (`+++ /dev/null`) counts under its old name.
 *
 * Example: `--- a/fs/proc/cmdline.c` / `+++ b/fs/proc/cmdline.c` → `fs/proc/cmdline.c`.
 */
export function touchedFiles(patchText: string): string[] {
  const files = new Set<string>();
  const lines = patchText.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    if (!lines[i].startsWith('--- ') || !lines[i + 1].startsWith('+++ ')) continue;
    const oldName = diffPathName(lines[i].slice(4));
    const newName = diffPathName(lines[i + 1].slice(4));
    const name = newName === '/dev/null' ? oldName : newName;
    if (name && name !== '/dev/null') files.add(stripFirstComponent(name));
  }
  return [...files].sort();
}

function diffPathName(field: string): string {
  // The name ends at a tab (before an optional timestamp).
  return field.split('\t')[0].trim();
}

function stripFirstComponent(name: string): string {
  const slash = name.indexOf('/');
  return slash === -1 ? name : name.slice(slash + 1);
}

// No fuzz: a hunk whose context does not match exactly is not the code the fix was written for.
const PATCH_FLAGS = ['-p1', '--fuzz=0', '--batch', '--forward', '--no-backup-if-mismatch', '--reject-file=-'];

/** Dry run: resolves when every hunk applies cleanly, else throws with patch's own words. */
export async function assertPatchApplies(tree: string, patchPath: string): Promise<void> {
  const result = await runUnchecked('patch', [...PATCH_FLAGS, '--dry-run', '-i', patchPath], { cwd: tree });
  if (result.exitCode !== 0) throw new PatchDoesNotApplyError(patchPath, tree, result.stdout + result.stderr);
}

export async function applyPatch(tree: string, patchPath: string): Promise<void> {
  await assertPatchApplies(tree, patchPath);
  const result = await runUnchecked('patch', [...PATCH_FLAGS, '-s', '-i', patchPath], { cwd: tree });
  if (result.exitCode !== 0) throw new PatchDoesNotApplyError(patchPath, tree, result.stdout + result.stderr);
}

export async function reversePatch(tree: string, patchPath: string): Promise<void> {
  const flags = PATCH_FLAGS.filter((f) => f !== '--forward');
  const result = await runUnchecked('patch', [...flags, '-R', '-s', '-i', patchPath], { cwd: tree });
  if (result.exitCode !== 0) {
    throw new Error(`could not reverse ${patchPath} in ${tree}; restore the tree by hand:\n${(result.stdout + result.stderr).trim()}`);
  }
}
