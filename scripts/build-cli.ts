/**
 * Builds the installed tools (package.json `bin`): one bundle per command in dist/bin/
 * (ksplice-create.js, ksplice-diff.js, ksplice-qemu.js, ksplice-setup.js, each with a node shebang),
 * their shared code in dist/bin/chunks/. Plain node runs them, no tsx; at run time they find the
 * package's kmod/ by walking up (src/util/repo-root.ts), so dist/bin must stay inside the package.
 *
 * Run: npm run build:cli [-- OUTDIR]   (default dist/bin; the folder is emptied first)
 * test/package/npm-pack.test.ts checks that dist/bin is what this makes from the sources.
 */
import { build } from 'esbuild';
import { chmod, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { TOOLS } from '../src/action/tools.ts';

/** bin name → its command-line source, from the one table of tools (src/action/tools.ts). */
export const CLI_ENTRIES: Record<string, string> = Object.fromEntries(Object.values(TOOLS).map((t) => [t.spec.name, t.source]));

const repo = path.resolve(import.meta.dirname, '..');
const outdir = path.resolve(process.argv[2] ?? path.join(repo, 'dist/bin'));

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: repo,
  entryPoints: Object.entries(CLI_ENTRIES).map(([out, src]) => ({ in: src, out })),
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
for (const name of await readdir(outdir)) if (name.endsWith('.js')) await chmod(path.join(outdir, name), 0o755);
