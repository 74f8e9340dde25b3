/**
 * Which objects the target's configuration builds, and whether each goes into vmlinux or a
 * module, as kbuild itself says: `make -n -k all` prints every compile command without running
 * it (about 25 s for Debian's config). The answer is cached beside the tree, keyed by the
 * .config's hash.
 *
 * Usage:
 *   const index = await kbuildObjects(tree);
 *   index.get('kernel/printk/printk.o')   // 'vmlinux'
 *   index.get('net/x25/x25_link.o')       // 'module'
 *   index.get('drivers/nope.o')           // undefined: not built with this config
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kbuildArgs } from '../setup/kbuild-flags.ts';
import { runUnchecked } from '../util/exec.ts';
import type { LogSink } from '../util/progress.ts';

export type ObjectHome = 'vmlinux' | 'module';

const CACHE_FILE = '.ksplice-objects.json';

/**
 * Objects named in kbuild's quiet-command echo lines of a dry run.
 *
 * Example line: `set -e;  echo '  CC [M]  net/x25/x25_link.o';  ...` → net/x25/x25_link.o is a module's.
 */
export function parseDryRun(output: string): Map<string, ObjectHome> {
  const objects = new Map<string, ObjectHome>();
  for (const m of output.matchAll(/echo '  (?:CC|AS)( \[M\])? +([^ ']+\.o)'/g)) {
    objects.set(m[2], m[1] ? 'module' : 'vmlinux');
  }
  return objects;
}

export async function kbuildObjects(tree: string, log?: LogSink): Promise<Map<string, ObjectHome>> {
  const configHash = createHash('sha256').update(await readFile(path.join(tree, '.config'))).digest('hex');
  const cacheFile = path.join(tree, CACHE_FILE);
  const cached = await readFile(cacheFile, 'utf8').then((t) => JSON.parse(t) as { configHash: string; objects: [string, ObjectHome][] }).catch(() => null);
  if (cached?.configHash === configHash) return new Map(cached.objects);

  log?.('listing the objects this config builds (make -n, once per tree)');
  // -k: Debian's config names a signing key that only Debian's build has; the dry run goes past it.
  const result = await runUnchecked('make', [...kbuildArgs(tree, 1), '-n', '-k', 'all']);
  const objects = parseDryRun(result.stdout);
  if (objects.size < 1000) {
    throw new Error(`kbuild's dry run listed only ${objects.size} objects in ${tree}; is the tree prepared?\n${result.stderr.slice(-2000)}`);
  }
  await writeFile(cacheFile, JSON.stringify({ configHash, objects: [...objects] }));
  return objects;
}
