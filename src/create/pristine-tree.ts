/**
 * Applying a patch to the prepared kernel tree for the "after" build, and guaranteeing the tree
 * is pristine again afterwards: on success, on error, and on SIGINT/SIGTERM.
 *
 * Pristine is checked, not assumed: the sha256 of every file the patch touches is recorded
 * before, and compared after reversal.
 *
 * Usage: `await withPatchApplied(tree, patchPath, async () => buildObjects(...))`.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { applyPatch, reversePatch, touchedFiles } from './patch-file.ts';

/** sha256 of each file (null: absent), keyed by its path relative to the tree. */
export async function fingerprintFiles(tree: string, files: readonly string[]): Promise<Map<string, string | null>> {
  const result = new Map<string, string | null>();
  for (const file of files) {
    const data = await readFile(path.join(tree, file)).catch(() => null);
    result.set(file, data ? createHash('sha256').update(data).digest('hex') : null);
  }
  return result;
}

/** Files whose content differs between two fingerprints. */
export function changedFiles(before: Map<string, string | null>, after: Map<string, string | null>): string[] {
  return [...before.keys()].filter((f) => before.get(f) !== after.get(f));
}

export class TreeNotPristineError extends Error {
  constructor(tree: string, files: string[]) {
    super(`kernel tree ${tree} is not pristine after reversing the patch: ${files.join(', ')} differ`);
    this.name = 'TreeNotPristineError';
  }
}

export async function withPatchApplied<T>(tree: string, patchPath: string, work: () => Promise<T>): Promise<T> {
  const files = touchedFiles(await readFile(patchPath, 'utf8'));
  const before = await fingerprintFiles(tree, files);
  await applyPatch(tree, patchPath);

  let restored = false;
  const restore = async () => {
    if (restored) return;
    restored = true;
    await reversePatch(tree, patchPath);
    await removeEmptyDirsLeftBy(tree, files, before);
    const stillDifferent = changedFiles(before, await fingerprintFiles(tree, files));
    if (stillDifferent.length > 0) throw new TreeNotPristineError(tree, stillDifferent);
  };
  // An interrupt must not leave the shared cache tree patched: restore, then die as asked.
  const onSignal = (signal: NodeJS.Signals) => {
    restore().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await restore();
  }
}

/** A patch that created files in new folders leaves those folders empty on reversal: remove them. */
async function removeEmptyDirsLeftBy(tree: string, files: readonly string[], before: Map<string, string | null>): Promise<void> {
  for (const file of files) {
    if (before.get(file) !== null) continue;
    let dir = path.dirname(file);
    while (dir !== '.' && (await readdir(path.join(tree, dir)).catch(() => ['?'])).length === 0) {
      await rm(path.join(tree, dir), { recursive: true });
      dir = path.dirname(dir);
    }
  }
}
