/**
 * Test helper: the Action's bundle built from these sources (not the committed dist/index.js),
 * with `npm run build:action`'s own options and banner read from package.json, for tests that run
 * the Action the way a runner does (a job container, the workflows' steps).
 *
 * Usage:
 *   await buildActionBundle(path.join(workspace, '.ksplice-action/dist/index.js'));
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { REPO } from './paths.ts';

export async function buildActionBundle(outfile: string): Promise<void> {
  const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const banner = /--banner:js="([^"]+)"/.exec(pkg.scripts['build:action']!)![1]!;
  await build({
    absWorkingDir: REPO,
    entryPoints: ['src/action/index.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    legalComments: 'none',
    banner: { js: banner },
    logLevel: 'error',
  });
}
