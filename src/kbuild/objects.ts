/**
 * Which objects the target's configuration builds, and whether each goes into vmlinux or a
 * module, as kbuild itself says: `make -n -k all` prints every compile command without running
 * it (about 25 s for Debian's config). The answer is cached beside the tree, keyed by the
 * .config's hash. The setup computes it on the fresh tree; computed later, objects already built
 * (which a dry run skips as up to date) are added from their .cmd files, where kbuild marks a
 * module's objects with -DMODULE.
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
import { kbuildArgs } from './flags.ts';
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
  for (const m of output.matchAll(/echo ' {2}(?:CC|AS)( \[M\])? +([^ ']+\.o)'/g)) {
    objects.set(m[2], m[1] ? 'module' : 'vmlinux');
  }
  return objects;
}

export async function kbuildObjects(tree: string, log?: LogSink): Promise<Map<string, ObjectHome>> {
  const configHash = createHash('sha256')
    .update(await readFile(path.join(tree, '.config')))
    .digest('hex');
  const cacheFile = path.join(tree, CACHE_FILE);
  const cached = await readFile(cacheFile, 'utf8')
    .then((t) => JSON.parse(t) as { configHash: string; objects: [string, ObjectHome][] })
    .catch(() => null);
  if (cached?.configHash === configHash) return new Map(cached.objects);

  log?.('listing the objects this config builds (make -n, once per tree)');
  // -k: Debian's config names a signing key that only Debian's build has; the dry run goes past it.
  const result = await runUnchecked('make', [...kbuildArgs(tree, 1), '-n', '-k', 'all']);
  const objects = parseDryRun(result.stdout);
  for (const [object, home] of await alreadyBuiltObjects(tree)) if (!objects.has(object)) objects.set(object, home);
  if (objects.size < 1000) {
    throw new Error(
      `kbuild's dry run listed only ${objects.size} objects in ${tree}; is the tree prepared?\n${result.stderr.slice(-2000)}`,
    );
  }
  await writeFile(cacheFile, JSON.stringify({ configHash, objects: [...objects] }));
  return objects;
}

/** Objects with a kbuild .cmd file (built earlier), and where their compile flags say they go. */
async function alreadyBuiltObjects(tree: string): Promise<Map<string, ObjectHome>> {
  const result = await runUnchecked('find', ['.', '-name', '.*.o.cmd', '-not', '-path', './scripts/*', '-not', '-path', './tools/*'], {
    cwd: tree,
  });
  const objects = new Map<string, ObjectHome>();
  for (const cmdFile of result.stdout.split('\n').filter(Boolean)) {
    const text = await readFile(path.join(tree, cmdFile), 'utf8').catch(() => '');
    const command = /^cmd_(\S+\.o) := (.*)$/m.exec(text);
    if (!command || !/ -c /.test(command[2])) continue; // links (built-in.a, vmlinux.o) are not compiled objects
    objects.set(command[1].replace(/^\.\//, ''), / -DMODULE\b/.test(command[2]) ? 'module' : 'vmlinux');
  }
  return objects;
}
