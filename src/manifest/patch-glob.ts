/**
 * A patch pattern as the Action and ksplice.yml take it: a file, or `*` and `?` in the file name
 * part only (`patches/*.patch`), matched against that folder's names and sorted, so a series
 * comes in its name order. The folder is read through `listDir` (the real one by default).
 *
 * Example: matchPatchPattern('patches/*.patch', '/repo') → ['/repo/patches/0001-a.patch', ...]
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** What a pattern matched, or why it matched nothing. */
export type PatchMatch = { files: string[] } | { error: string };

export interface FileView {
  exists(file: string): boolean;
  /** The names in a folder, or null when it is not there. */
  listDir(dir: string): string[] | null;
}

export const REAL_FILES: FileView = {
  exists: (file) => existsSync(file),
  listDir: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return null;
    }
  },
};

export function hasWildcard(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

export function matchPatchPattern(pattern: string, baseDir: string, files: FileView = REAL_FILES): PatchMatch {
  const full = path.resolve(baseDir, pattern);
  const base = path.basename(full);
  if (hasWildcard(path.dirname(full))) return { error: 'wildcards are allowed in the file name only' };
  if (!hasWildcard(base)) return files.exists(full) ? { files: [full] } : { error: `no such file (${full})` };
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  const matches = (files.listDir(path.dirname(full)) ?? [])
    .filter((n) => re.test(n))
    .sort()
    .map((n) => path.join(path.dirname(full), n));
  return matches.length > 0 ? { files: matches } : { error: `no file matches (in ${path.dirname(full)})` };
}
