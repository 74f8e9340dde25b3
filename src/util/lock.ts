/**
 * A cross-process lock on a cache folder, so two test files (or a test and the demo) preparing
 * the same kernel never unpack into the same tree at once.
 *
 * Usage: `await withLock(dir + '.lock', async () => { ... })`. The lock is a folder holding the
 * owner's pid; a lock whose owner is dead (a killed run) is taken over.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LogSink } from './progress.ts';

const POLL_MS = 500;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryAcquire(lockDir: string): Promise<boolean> {
  try {
    await mkdir(lockDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const owner = Number.parseInt(await readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => ''), 10);
    // No pid yet means the owner is between mkdir and writeFile: treat it as alive.
    if (Number.isNaN(owner) || isAlive(owner)) return false;
    await rm(lockDir, { recursive: true, force: true });
    return tryAcquire(lockDir);
  }
  await writeFile(path.join(lockDir, 'pid'), String(process.pid));
  return true;
}

export async function withLock<T>(lockDir: string, work: () => Promise<T>, log?: LogSink): Promise<T> {
  await mkdir(path.dirname(lockDir), { recursive: true });
  let told = false;
  while (!(await tryAcquire(lockDir))) {
    if (!told && log) log(`waiting for another process holding ${lockDir}`);
    told = true;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
