/**
 * The project's own files (kmod/, the target tools) wherever the code runs from: the sources
 * (src/create/create.ts) or the Action's single bundle (dist/index.js). Walks up from the running
 * module to the folder holding kmod/Kbuild.
 *
 * Usage: const kmodDir = projectPath('kmod');
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

export function projectRoot(): string {
  if (root) return root;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'kmod', 'Kbuild'))) return (root = dir);
    if (path.dirname(dir) === dir)
      throw new Error(`cannot find the ksplice-action folder (with kmod/Kbuild) above ${fileURLToPath(import.meta.url)}`);
  }
}

export function projectPath(...parts: string[]): string {
  return path.join(projectRoot(), ...parts);
}
