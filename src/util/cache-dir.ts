/**
 * The folder where prepared kernels and built core modules are kept between runs.
 *
 * Usage: `path.join(defaultCacheDir(), 'core')`. $KSPLICE_CACHE_DIR, else
 * $XDG_CACHE_HOME/ksplice-action, else ~/.cache/ksplice-action.
 */
import os from 'node:os';
import path from 'node:path';

export function defaultCacheDir(): string {
  if (process.env.KSPLICE_CACHE_DIR) return process.env.KSPLICE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'ksplice-action');
}
