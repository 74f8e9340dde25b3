/**
 * The compiled sources that include a header, directly or through other headers, and the
 * objects that compile a `.c` file #included into another one (kernel/sched/build_policy.c
 * includes rt.c, idle.c and deadline.c: a change to rt.c is a change to build_policy.o).
 *
 * A header change must rebuild every object that includes it, and only those: a targeted build
 * that misses one ships a kernel whose callers disagree with the patched code. This reads every
 * `#include` line of the tree (x86 and generic code, ~280k lines, a few seconds) and walks the
 * include graph backwards from the header. Textual includes inside `#if` blocks count, so the
 * answer can be too large but not too small; kbuild's own dependency files then trim it after
 * the pre build (see `objectDependsOn`).
 *
 * Headers forced into every compile with `-include` (include/linux/kconfig.h, compiler_types.h,
 * ...) have no include line at all: `forcedIncludes` reads them from kbuild's Makefiles so the
 * caller can refuse them, and whatever they include, rather than miss almost every user.
 *
 * Usage:
 *   const graph = await readIncludeGraph(tree);           // one grep of the tree
 *   graph.sourcesIncluding('include/linux/printk.h')      // ['arch/x86/kernel/...c', ...]
 *   graph.sourcesIncluding('kernel/sched/rt.c')           // ['kernel/sched/build_policy.c', 'kernel/sched/rt.c']
 *   graph.forcedThrough('include/linux/compiler_attributes.h', await forcedIncludes(tree))
 *                                                         // 'include/linux/compiler_types.h'
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runUnchecked } from '../util/exec.ts';

/** Directories the kernel's `-I` flags search for `<...>` includes on x86, in kbuild's order. */
const X86_INCLUDE_ROOTS = [
  'arch/x86/include/',
  'arch/x86/include/generated/',
  'include/',
  'arch/x86/include/uapi/',
  'arch/x86/include/generated/uapi/',
  'include/uapi/',
  'include/generated/uapi/',
];

const OTHER_ARCHES =
  'alpha|arc|arm|arm64|csky|hexagon|ia64|loongarch|m68k|microblaze|mips|nios2|openrisc|parisc|powerpc|riscv|s390|sh|sparc|um|xtensa';

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

/**
 * Every file that includes `file`, directly or through other files (headers or `.c` files
 * included in turn), `file` itself first.
 */
export function filesIncludingFrom(lines: readonly IncludeLine[], file: string): string[] {
  return filesIncluding(indexIncludes(lines), file);
}

function filesIncluding(index: IncludeIndex, file: string): string[] {
  const reached = new Set<string>([file]);
  const queue = [file];
  while (queue.length > 0) {
    for (const includer of includersOf(index, queue.shift()!)) {
      if (reached.has(includer)) continue;
      reached.add(includer);
      // A .c file is #included too (build_policy.c includes rt.c): follow it like a header.
      queue.push(includer);
    }
  }
  return [...reached];
}

const isCompiled = (f: string) => /\.(c|S)$/.test(f);

export function sourcesIncludingFrom(lines: readonly IncludeLine[], header: string): string[] {
  return filesIncludingFrom(lines, header).filter(isCompiled).sort();
}

/** The tree's include lines, indexed once for any number of questions. */
export interface IncludeGraph {
  /** 'all' include lines, or only those naming a `.c` file (a cheaper read for patches of .c files). */
  scope: IncludeScope;
  /** Every file that is or includes `file`, directly or through others. */
  filesIncluding(file: string): string[];
  /** Compiled sources (`.c`, `.S`) that are or include `file`, sorted. */
  sourcesIncluding(file: string): string[];
  /** The first of `forced` that is `file` or includes it, if any. */
  forcedThrough(file: string, forced: readonly string[]): string | undefined;
}

export type IncludeScope = 'all' | 'c-files';

export function includeGraphFrom(lines: readonly IncludeLine[], scope: IncludeScope = 'all'): IncludeGraph {
  const index = indexIncludes(lines);
  return {
    scope,
    filesIncluding: (file) => filesIncluding(index, file),
    sourcesIncluding: (file) => filesIncluding(index, file).filter(isCompiled).sort(),
    forcedThrough: (file, forced) => {
      const reached = new Set(filesIncluding(index, file));
      return forced.find((f) => reached.has(f));
    },
  };
}

const INCLUDE_LINE = {
  all: '^\\s*#\\s*include\\s*[<"]',
  // About 500 lines in 6.1, and a faster read than the 335k of 'all'.
  'c-files': '^\\s*#\\s*include\\s*[<"][^>"]*\\.c[>"]',
};

/**
 * Reads the tree's include lines (x86 and generic code). Scope 'c-files' answers only who
 * includes a `.c` file, and only while no header is on the way (filesIncluding shows it).
 */
export async function readIncludeGraph(tree: string, scope: IncludeScope = 'all'): Promise<IncludeGraph> {
  const result = await runUnchecked(
    'grep',
    [
      '-rEH',
      '--include=*.c',
      '--include=*.h',
      '--include=*.S',
      INCLUDE_LINE[scope],
      '--exclude-dir=Documentation',
      '--exclude-dir=tools',
      '--exclude-dir=samples',
      '--exclude-dir=.git',
      '.',
    ],
    { cwd: tree },
  );
  return includeGraphFrom(parseIncludeLines(result.stdout), scope);
}

export async function sourcesIncluding(tree: string, header: string): Promise<string[]> {
  return (await readIncludeGraph(tree)).sourcesIncluding(header);
}

/** kbuild's Makefiles that add `-include` flags to every C and assembler compile on x86. */
const FLAG_MAKEFILES = ['Makefile', 'scripts/Makefile.lib', 'arch/x86/Makefile'];

/**
 * The headers kbuild forces into every compile with `-include $(srctree)/...`, as its Makefiles
 * say. Example (6.1): include/linux/compiler-version.h, include/linux/kconfig.h (top Makefile,
 * LINUXINCLUDE) and include/linux/compiler_types.h (scripts/Makefile.lib, c_flags).
 */
export async function forcedIncludes(tree: string): Promise<string[]> {
  const forced = new Set<string>();
  for (const makefile of FLAG_MAKEFILES) {
    const text = await readFile(path.join(tree, makefile), 'utf8').catch(() => '');
    for (const m of text.matchAll(/-include \$\((?:srctree|objtree)\)\/(\S+\.h)\b/g)) forced.add(m[1]);
  }
  return [...forced].sort();
}

/**
 * A dependency as kbuild's .cmd file writes it, as a path in the tree: gcc keeps the include's
 * own spelling. Example: `kernel/rcu/../time/tick-internal.h` (rcu/tree.c includes
 * "../time/tick-internal.h") → `kernel/time/tick-internal.h`; `$(srctree)/include/x.h` → `include/x.h`.
 */
export function dependencyPath(token: string, tree?: string): string {
  const inTree = tree && token.startsWith(`${tree}/`) ? token.slice(tree.length + 1) : token;
  return path.posix.normalize(inTree.replace(/^\$\(srctree\)\//, ''));
}

/**
 * Did kbuild record `file` as a dependency of `object` in its last build? kbuild writes each
 * object's dependencies (from gcc -MMD) into `<dir>/.<name>.o.cmd`.
 */
export async function objectDependsOn(tree: string, object: string, file: string): Promise<boolean> {
  const cmdFile = path.join(tree, path.dirname(object), `.${path.basename(object)}.cmd`);
  const text = await readFile(cmdFile, 'utf8');
  return text.split(/\s+/).some((token) => dependencyPath(token, path.resolve(tree)) === file);
}
