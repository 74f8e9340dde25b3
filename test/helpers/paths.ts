/**
 * Test helper: the places every test needs, named once: the repository root, the corpus of real
 * fixes (corpus/, a copy of the project's measured corpus, kept in the repository so a clone
 * stands alone), the test fixtures, and a fresh scratch folder per test file.
 *
 * Usage:
 *   import { REPO, CORPUS, corpusPatch, fixture, scratchDir } from '../helpers/paths.ts';
 *   const patch = corpusPatch('examples/proc_cmdline.patch');
 *   const dir = await scratchDir('corpus');   // removed by the caller: after(() => rm(dir, ...))
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CORPUS = path.join(REPO, 'corpus');
export const FIXTURES = path.join(REPO, 'test/fixtures');

/** A patch of the corpus by its path under corpus/, e.g. `examples/printk.patch`. */
export function corpusPatch(relative: string): string {
  return path.join(CORPUS, relative);
}

/** A file under test/fixtures/, e.g. `qemu/check-cmdline.sh`. */
export function fixture(relative: string): string {
  return path.join(FIXTURES, relative);
}

/** A new empty folder under the system's temporary folder, named after the test. */
export function scratchDir(name: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `ksa-${name}-`));
}
