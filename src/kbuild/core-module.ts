/**
 * The core module (kmod/) built against a target's headers, in a copy of its sources per kernel:
 * the repository's kmod/ never receives build outputs, and creates for two kernels never share
 * (or overwrite) each other's .o files.
 *
 * The copy lives in `<cacheDir>/core/<release>-<key>/`, key = sha256 of the core's sources and of
 * the headers' Module.symvers, so a later create for the same kernel and the same kmod/ reuses it,
 * and an edit of kmod/ or other headers give a new one. A marker written after the build says the
 * folder is complete; a lock keeps two processes from building the same one at once.
 *
 * Usage:
 *   const core = await buildCore(target.headersDir, '6.1.0-50-amd64');
 *   core.ko    // <dir>/ksplice.ko
 *   core.dir   // its Module.symvers and ksplice_update.h, for building update modules against it
 *   const ko = await signedCore(core, signer, path.join(scratch, 'ksplice.ko'));   // for Secure Boot hosts
 *
 * The cached ksplice.ko stays unsigned: creates with different keys (or none) share it, and each
 * signs its own copy (signedCore).
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultCacheDir } from '../util/cache-dir.ts';
import { run } from '../util/exec.ts';
import { withLock } from '../util/lock.ts';
import { projectPath } from '../util/repo-root.ts';
import type { Signer } from './sign-module.ts';

const READY_MARKER = '.ksplice-core-ready';

export interface CoreModule {
  /** The built ksplice.ko. */
  ko: string;
  /** The folder it was built in: Module.symvers (the ABI's CRCs) and the core's headers. */
  dir: string;
}

export interface BuildCoreOptions {
  /** Where the core's sources are (default: the repository's kmod/). */
  sourceDir?: string;
  /** Default: defaultCacheDir(). */
  cacheDir?: string;
}

/** The files of kmod/ a build needs: Kbuild, Makefile, *.c and *.h (not tools/, not build outputs). */
async function coreSources(sourceDir: string): Promise<string[]> {
  const names = await readdir(sourceDir);
  return names.filter((n) => n === 'Kbuild' || n === 'Makefile' || (/\.[ch]$/.test(n) && !n.endsWith('.mod.c'))).sort();
}

/** Builds (or finds built) the core module for the kernel whose headers are `headersDir`. */
export async function buildCore(headersDir: string, release: string, options: BuildCoreOptions = {}): Promise<CoreModule> {
  const sourceDir = options.sourceDir ?? projectPath('kmod');
  const sources = await coreSources(sourceDir);
  const hash = createHash('sha256');
  for (const name of sources)
    hash
      .update(`${name}\0`)
      .update(await readFile(path.join(sourceDir, name)))
      .update('\0');
  hash.update(await readFile(path.join(headersDir, 'Module.symvers')));
  const dir = path.join(options.cacheDir ?? defaultCacheDir(), 'core', `${release}-${hash.digest('hex').slice(0, 16)}`);
  const core = { ko: path.join(dir, 'ksplice.ko'), dir };
  const ready = async () => (await stat(path.join(dir, READY_MARKER)).catch(() => null)) !== null;
  if (await ready()) return core;
  return withLock(`${dir}.lock`, async () => {
    if (await ready()) return core;
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const name of sources) await copyFile(path.join(sourceDir, name), path.join(dir, name));
    await run('make', ['-C', headersDir, `M=${dir}`, 'modules']);
    await writeFile(path.join(dir, READY_MARKER), `${release}\n`);
    return core;
  });
}

/** A copy of the core at `dest`, signed (src/kbuild/sign-module.ts); the cached core stays unsigned. */
export async function signedCore(core: CoreModule, signer: Signer, dest: string): Promise<string> {
  await signer.sign(core.ko, dest);
  return dest;
}
