/**
 * Test helper: `ksplice-create --json` run as a user runs it (node on src/create/cli.ts), its exit
 * code, output and the JSON line it ends with (null when it ends without one).
 *
 * Usage:
 *   const made = await createUpdate({ patch, sourceDir: target.sourceDir, outputDir: scratch, extra: ['--hooks=h.c'] });
 *   assert.equal(made.exitCode, 0, made.stderr);
 *   made.json.tarball
 */
import path from 'node:path';
import { runUnchecked } from '../../src/util/exec.ts';
import { REPO as repo } from './paths.ts';

export interface CreateRequest {
  patch: string;
  sourceDir: string;
  /** Where the tarball goes (--output-dir); left out with --analyze-only. */
  outputDir?: string;
  extra?: string[];
}

export async function createUpdate(request: CreateRequest) {
  const args = [
    `--patch=${request.patch}`,
    '--json',
    ...(request.outputDir ? [`--output-dir=${request.outputDir}`] : []),
    ...(request.extra ?? []),
    request.sourceDir,
  ];
  const result = await runUnchecked('node', ['--import', 'tsx', path.join(repo, 'src/create/cli.ts'), ...args], { cwd: repo });
  const last = result.stdout.trim().split('\n').pop();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the --json shape is asserted by each test
  const json = last?.startsWith('{') ? (JSON.parse(last) as any) : null;
  return { ...result, json };
}
