// A setup killed halfway must never leave a cache that looks whole, and the next run must recover.
// Uses a private cache folder (sharing only the downloaded .deb files) so the main cache is untouched.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { defaultCacheDir, ensureTarget, findReadyTarget } from '../../src/setup/target-kernel.ts';
import { scratchDir } from '../helpers/paths.ts';

const RELEASE = '6.1.0-50-amd64';

/** Starts the setup CLI and kills it (SIGKILL: no cleanup handlers) once it reaches `killAt`. */
function runSetupAndKillAt(cacheDir: string, killAt: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/setup/cli.ts', `--release=${RELEASE}`, `--cache-dir=${cacheDir}`], {
      env: { ...process.env, KSPLICE_DEB_DIR: path.join(defaultCacheDir(), 'debs') },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let log = '';
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (killAt.test(log) && child.pid) process.kill(-child.pid, 'SIGKILL');
    });
    child.on('error', reject);
    child.on('close', () => resolve(log));
  });
}

test('a setup killed while unpacking leaves no ready marker, and the next run rebuilds it whole', async () => {
  const cacheDir = await scratchDir('killed');
  try {
    const log = await runSetupAndKillAt(cacheDir, /unpacking the kernel source/);
    assert.match(log, /unpacking the kernel source/);
    assert.doesNotMatch(log, /ready in/);
    // Half a tree is on disk, but nothing says it is ready.
    assert.ok((await stat(path.join(cacheDir, RELEASE))).isDirectory());
    assert.equal(await findReadyTarget(RELEASE, cacheDir), null);

    const lines: string[] = [];
    const target = await ensureTarget({
      cacheDir,
      debDir: path.join(defaultCacheDir(), 'debs'),
      skipHostPackages: true,
      log: (l) => lines.push(l),
    });
    assert.ok(
      lines.some((l) => /ready in/.test(l)),
      'the second run prepared the tree again',
    );
    assert.ok((await stat(path.join(target.sourceDir, 'scripts/mod/modpost'))).isFile());
    assert.deepEqual(await findReadyTarget(RELEASE, cacheDir), target);
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
});
