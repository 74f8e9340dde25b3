/**
 * Which module an object is part of, as kbuild itself compiled it: every compile of a module's
 * object defines `KBUILD_MODNAME` (the module's name as the kernel knows it: `-` made `_`), and
 * kbuild keeps the command beside the object in `.<name>.o.cmd`. Built-in code is `vmlinux`.
 *
 * Example: fs/ext4/namei.o (`ext4-y += ... namei.o` in fs/ext4/Makefile) → `ext4`;
 * net/sctp/auth.o → `sctp`; net/sched/sch_multiq.o → `sch_multiq`; kernel/sys.o → `vmlinux`.
 *
 * Usage: await moduleOfObject(tree, 'fs/ext4/namei.o', 'module')   // after the object was built
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectHome } from '../kbuild/objects.ts';

/**
 * The module name a kbuild command file gives its object, or null when it defines none.
 *
 * Example: `cmd_fs/ext4/namei.o := gcc-12 ... -DKBUILD_MODNAME='"ext4"' -D__KBUILD_MODNAME=kmod_ext4 ...` → 'ext4'.
 */
export function kbuildModuleName(cmdText: string): string | null {
  return /-DKBUILD_MODNAME='"([^"']+)"'/.exec(cmdText)?.[1] ?? null;
}

/** `vmlinux`, or the name of the module the object (built in `tree`) is linked into. */
export async function moduleOfObject(tree: string, object: string, home: ObjectHome): Promise<string> {
  if (home === 'vmlinux') return 'vmlinux';
  const cmdFile = path.join(tree, path.dirname(object), `.${path.basename(object)}.cmd`);
  const name = kbuildModuleName(await readFile(cmdFile, 'utf8'));
  if (!name) throw new Error(`${cmdFile} defines no KBUILD_MODNAME: cannot tell which module ${object} is part of`);
  return name;
}
