/**
 * The compiled sources that include a header, directly or through other headers.
 *
 * A header change must rebuild every object that includes it, and only those: a targeted build
 * that misses one ships a kernel whose callers disagree with the patched code. This reads every
 * `#include` line of the tree (x86 and generic code, ~280k lines, a few seconds) and walks the
 * include graph backwards from the header. Textual includes inside `#if` blocks count, so the
 * answer can be too large but not too small; kbuild's own dependency files then trim it after
 * the pre build (see `objectDependsOn`).
 *
 * Usage: `await sourcesIncluding(tree, 'include/linux/printk.h')` → ['arch/x86/kernel/...c', ...]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runUnchecked } from '../util/exec.ts';

/** Directories the kernel's `-I` flags search for `<...>` includes on x86, in kbuild's order. */
const X86_INCLUDE_ROOTS = ['arch/x86/include/', 'arch/x86/include/generated/', 'include/', 'arch/x86/include/uapi/', 'arch/x86/include/generated/uapi/', 'include/uapi/', 'include/generated/uapi/'];

const OTHER_ARCHES = 'alpha|arc|arm|arm64|csky|hexagon|ia64|loongarch|m68k|microblaze|mips|nios2|openrisc|parisc|powerpc|riscv|s390|sh|sparc|um|xtensa';

interface IncludeLine {
  includer: string;
  name: string;
  quoted: boolean;
}

export function parseIncludeLines(grepOutput: string): IncludeLine[] {
  const lines: IncludeLine[] = [];
  const otherArch = new RegExp(`^arch/(${OTHER_ARCHES})/`);
  for (const line of grepOutput.split('\n')) {
    const m = /^\.\/([^:]+):\s*#\s*include\s*([<"])([^>"]+)[>"]/.exec(line);
    if (!m || otherArch.test(m[1])) continue;
    lines.push({ includer: m[1], name: m[3], quoted: m[2] === '"' });
  }
  return lines;
}

/**
 * The names by which `header` can be written in an include line through the search roots.
 *
 * Example: `include/linux/printk.h` → ['linux/printk.h']; `arch/x86/include/asm/page.h` → ['asm/page.h'].
 */
export function angleNamesOf(header: string): string[] {
  return X86_INCLUDE_ROOTS.filter((root) => header.startsWith(root)).map((root) => header.slice(root.length));
}

/** Who includes what, indexed both ways a name can resolve. */
interface IncludeIndex {
  /** `linux/printk.h` → files writing `<linux/printk.h>` (or `"linux/printk.h"`, which falls back to the roots). */
  byName: Map<string, string[]>;
  /** `fs/proc/internal.h` → files writing `"internal.h"` beside it. */
  byQuotedPath: Map<string, string[]>;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function indexIncludes(lines: readonly IncludeLine[]): IncludeIndex {
  const index: IncludeIndex = { byName: new Map(), byQuotedPath: new Map() };
  for (const line of lines) {
    push(index.byName, line.name, line.includer);
    if (line.quoted) {
      push(index.byQuotedPath, path.posix.normalize(path.posix.join(path.posix.dirname(line.includer), line.name)), line.includer);
    }
  }
  return index;
}

function includersOf(index: IncludeIndex, header: string): string[] {
  return [...(index.byQuotedPath.get(header) ?? []), ...angleNamesOf(header).flatMap((name) => index.byName.get(name) ?? [])];
}

export function sourcesIncludingFrom(lines: readonly IncludeLine[], header: string): string[] {
  const index = indexIncludes(lines);
  const reached = new Set<string>([header]);
  const queue = [header];
  while (queue.length > 0) {
    for (const includer of includersOf(index, queue.shift()!)) {
      if (reached.has(includer)) continue;
      reached.add(includer);
      if (includer.endsWith('.h')) queue.push(includer);
    }
  }
  return [...reached].filter((f) => /\.(c|S)$/.test(f)).sort();
}

export async function sourcesIncluding(tree: string, header: string): Promise<string[]> {
  const result = await runUnchecked('grep', [
    '-rEH', '--include=*.c', '--include=*.h', '--include=*.S', '^\\s*#\\s*include\\s*[<"]',
    '--exclude-dir=Documentation', '--exclude-dir=tools', '--exclude-dir=samples', '--exclude-dir=.git', '.',
  ], { cwd: tree });
  return sourcesIncludingFrom(parseIncludeLines(result.stdout), header);
}

/**
 * Did kbuild record `file` as a dependency of `object` in its last build? kbuild writes each
 * object's dependencies (from gcc -MMD) into `<dir>/.<name>.o.cmd`.
 */
export async function objectDependsOn(tree: string, object: string, file: string): Promise<boolean> {
  const cmdFile = path.join(tree, path.dirname(object), `.${path.basename(object)}.cmd`);
  const text = await readFile(cmdFile, 'utf8');
  return text.split(/\s+/).some((token) => token === file || token === `$(srctree)/${file}` || token.endsWith(`/${file}`));
}
