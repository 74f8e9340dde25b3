/**
 * Applying a patch to the prepared kernel tree for the "after" build, and guaranteeing the tree
 * is pristine again afterwards: on success, on error, and on SIGINT/SIGTERM.
 *
 * Pristine is checked, not assumed: the sha256 of every file the patch touches is recorded
 * before, and compared after reversal.
 *
 * A run killed outright (SIGKILL, a lost machine) cannot reverse anything, so before patching a
 * journal is written into the tree (`.ksplice-patch-journal/`: the patch and the fingerprints),
 * and removed once the tree is verified pristine. The next run on that tree finds it
 * (`recoverInterruptedRun`, under the tree's lock) and reverses the patch, or refuses to build
 * on a tree it cannot prove pristine.
 *
 * Usage:
 *   await recoverInterruptedRun(tree, log);
 *   await withPatchApplied(tree, patchPath, async () => buildObjects(...), log);
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stderrSink, type LogSink } from '../util/progress.ts';
import { applyPatch, reversePatch, touchedFiles } from './patch-file.ts';

/** The journal of a patch applied to the tree, at the tree's root. */
export const PATCH_JOURNAL = '.ksplice-patch-journal';

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

/** The run was interrupted while the patch was applied; the tree was restored (exit 128 + signal). */
export class InterruptedError extends Error {
  constructor(
    readonly signal: NodeJS.Signals,
    tree: string,
  ) {
    super(`interrupted by ${signal}: the patch was reversed and ${tree} is pristine again`);
    this.name = 'InterruptedError';
  }

  get exitCode(): number {
    return 128 + (os.constants.signals[this.signal] ?? 0);
  }
}

/** A journal says a killed run left its patch applied, and the tree cannot be shown pristine. */
export class TreeLeftPatchedError extends Error {
  constructor(tree: string, files: string[], why: string) {
    super(
      `${tree} was left patched by a ksplice-create that was killed (journal ${path.join(tree, PATCH_JOURNAL)}): ` +
        `${files.join(', ')} differ from the pristine tree and ${why}; restore those files from the kernel source and remove the journal`,
    );
    this.name = 'TreeLeftPatchedError';
  }
}

interface Journal {
  files: string[];
  /** Fingerprints of the pristine files, as [path, sha256 | null]. */
  before: [string, string | null][];
  pid: number;
}

const journalDir = (tree: string) => path.join(tree, PATCH_JOURNAL);

/** Written whole or not at all (a folder renamed into place), before the patch touches the tree. */
async function writeJournal(tree: string, patchPath: string, files: string[], before: Map<string, string | null>): Promise<void> {
  const staging = `${journalDir(tree)}.${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  await writeFile(path.join(staging, 'patch'), await readFile(patchPath));
  const journal: Journal = { files, before: [...before], pid: process.pid };
  await writeFile(path.join(staging, 'journal.json'), JSON.stringify(journal));
  await rename(staging, journalDir(tree));
}

async function readJournal(tree: string): Promise<Journal | null> {
  const text = await readFile(path.join(journalDir(tree), 'journal.json'), 'utf8').catch(() => null);
  return text === null ? null : (JSON.parse(text) as Journal);
}

/**
 * Reverses the patch a killed run left applied, if its journal is there. Call it under the
 * tree's lock (a live run holding the lock has a journal too). Throws TreeLeftPatchedError when
 * the journaled patch does not reverse to the recorded pristine files.
 */
export async function recoverInterruptedRun(tree: string, log: LogSink = stderrSink): Promise<void> {
  const journal = await readJournal(tree);
  if (!journal) return;
  const before = new Map(journal.before);
  const differ = changedFiles(before, await fingerprintFiles(tree, journal.files));
  if (differ.length > 0) {
    log(`a previous ksplice-create (pid ${journal.pid}) was killed with its patch applied to ${differ.join(', ')}: reversing it`);
    try {
      await reversePatch(tree, path.join(journalDir(tree), 'patch'));
    } catch {
      throw new TreeLeftPatchedError(tree, differ, 'the journaled patch does not reverse cleanly');
    }
    await removeEmptyDirsLeftBy(tree, journal.files, before);
    const still = changedFiles(before, await fingerprintFiles(tree, journal.files));
    if (still.length > 0) throw new TreeLeftPatchedError(tree, still, 'reversing the journaled patch did not give back the pristine files');
    log(`${tree} is pristine again`);
  }
  await rm(journalDir(tree), { recursive: true, force: true });
}

export async function withPatchApplied<T>(tree: string, patchPath: string, work: () => Promise<T>, log: LogSink = stderrSink): Promise<T> {
  const files = touchedFiles(await readFile(patchPath, 'utf8'));
  const before = await fingerprintFiles(tree, files);
  await writeJournal(tree, patchPath, files, before);
  // The handlers are in place before `patch` runs, so an interrupt in the middle of applying
  // waits for it and then reverses what it did.
  const applying = applyPatch(tree, patchPath);

  // One reversal, whoever asks first (the end of the work, a signal, a second signal): every
  // caller awaits the same promise, so none goes on while the tree is still patched.
  let restoring: Promise<void> | null = null;
  const restore = () =>
    (restoring ??= applying.then(
      () => reverseAndVerify(tree, patchPath, files, before),
      () => undoFailedApply(tree, patchPath, files, before),
    ));
  let interrupted: NodeJS.Signals | null = null;
  // An interrupt must not leave the shared cache tree patched: restore, say so, exit as a signal would.
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = signal;
    const done = new InterruptedError(signal, tree);
    restore()
      .then(
        () => log(done.message),
        (e: Error) => log(`interrupted by ${signal}, and the tree could not be restored: ${e.message}`),
      )
      .finally(() => process.exit(done.exitCode));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // After the work, in every case: the tree restored, the handlers gone, an interrupt reported.
  const finish = async () => {
    try {
      await restore();
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    if (interrupted) throw new InterruptedError(interrupted, tree);
  };
  let result: T;
  try {
    await applying;
    result = await work();
  } catch (e) {
    await finish();
    throw e;
  }
  await finish();
  return result;
}

async function reverseAndVerify(tree: string, patchPath: string, files: string[], before: Map<string, string | null>): Promise<void> {
  await reversePatch(tree, patchPath);
  await removeEmptyDirsLeftBy(tree, files, before);
  const stillDifferent = changedFiles(before, await fingerprintFiles(tree, files));
  if (stillDifferent.length > 0) throw new TreeNotPristineError(tree, stillDifferent);
  // Only a tree shown pristine loses its journal: otherwise the next run finds it.
  await rm(journalDir(tree), { recursive: true, force: true });
}

/**
 * applyPatch failed. Usually its dry run did, and nothing changed; a `patch` killed halfway
 * (Ctrl-C reaches it too) may have changed some files, and those are reversed and checked.
 */
async function undoFailedApply(tree: string, patchPath: string, files: string[], before: Map<string, string | null>): Promise<void> {
  if (changedFiles(before, await fingerprintFiles(tree, files)).length > 0) return reverseAndVerify(tree, patchPath, files, before);
  await rm(journalDir(tree), { recursive: true, force: true });
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
