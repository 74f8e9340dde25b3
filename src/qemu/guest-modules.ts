/**
 * Modules of the target kernel in the guest: the ones a run asks for, with what they depend on,
 * at /lib/modules/<release>/ in the initramfs with a matching modules.dep, so a step can
 * `modprobe sch_multiq`, `rmmod`, `lsmod`, `modinfo` (busybox's applets), and the kernel's own
 * request_module() (an SCTP socket, the crc32c that an ext4 mount asks for) finds them through
 * /sbin/modprobe and the filtered modules.alias.
 *
 * Usage:
 *   const modules = await guestModules(modulesDirFor(target.vmlinuz), ['sch_multiq', 'ext4'], log);
 *   modules.files      // [{ hostPath, guestPath: 'kernel/fs/ext4/ext4.ko' }, ...] (relative to /lib/modules/<release>)
 *   modules.metadata   // { 'modules.dep': '...', 'modules.alias': '...', ... } only the modules above
 *   resolveModules(['ext4'], { dep: depText, alias, softdep, builtin })   // pure: load order, builtin, unknown
 *
 * Only what is asked for goes in (the whole /lib/modules is ~390 MB): the closure of the names
 * under modules.dep, plus each soft dependency (modules.softdep `pre:`/`post:`, names or exact
 * aliases) that is shipped. A name that is neither shipped nor built in is refused before anything
 * boots, by name. Names are as the kernel knows them (`sch_multiq`; `sch-multiq` is the same).
 *
 * Debian's image package has no modules.dep (its postinst runs depmod): the host's depmod (kmod)
 * indexes the image once into the cache, `<cacheDir>/module-index/<release>-<hash of the modules
 * folder>/`, never into the image folder; a stamp (the folder, modules.order's size and mtime)
 * makes a re-prepared image indexed again. A modules folder that has its own modules.dep is read
 * as it is.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultCacheDir } from '../util/cache-dir.ts';
import { run } from '../util/exec.ts';
import { withLock } from '../util/lock.ts';
import type { LogSink } from '../util/progress.ts';

/** The index files put in the guest, each filtered to the modules that go in. */
export const GUEST_INDEX_FILES = [
  'modules.dep',
  'modules.alias',
  'modules.softdep',
  'modules.symbols',
  'modules.builtin',
  'modules.order',
] as const;

export interface GuestModules {
  release: string;
  /** The names asked for, normalized. */
  requested: string[];
  /** Every module that goes in, dependencies first. */
  modules: string[];
  /** Asked for but built into the kernel: nothing to load. */
  builtin: string[];
  /** .ko files, guestPath relative to /lib/modules/<release>. */
  files: { hostPath: string; guestPath: string }[];
  /** Index file name → content, filtered to `modules`. */
  metadata: Record<string, string>;
}

export interface ModuleIndexText {
  /** modules.dep as depmod writes it: `kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko ...` */
  dep: string;
  alias?: string;
  softdep?: string;
  builtin?: string;
}

export interface ResolvedModules {
  /** Every module to ship, dependencies before their users. */
  load: { name: string; path: string }[];
  builtin: string[];
  unknown: string[];
}

/** `kernel/net/sched/sch_multiq.ko(.xz|.zst|.gz)` or `sch-multiq` → `sch_multiq`. */
export function moduleName(pathOrName: string): string {
  return path
    .basename(pathOrName)
    .replace(/\.ko(\.(xz|zst|gz))?$/, '')
    .replace(/-/g, '_');
}

/** modules.dep: module name → its path and its dependencies' paths. */
export function parseModulesDep(text: string): Map<string, { path: string; deps: string[] }> {
  const map = new Map<string, { path: string; deps: string[] }>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line.startsWith('#')) continue;
    const file = line.slice(0, colon).trim();
    map.set(moduleName(file), {
      path: file,
      deps: line
        .slice(colon + 1)
        .trim()
        .split(/\s+/)
        .filter(Boolean),
    });
  }
  return map;
}

/** modules.alias: exact (wildcard-free) alias → the modules it names. */
function parseAliases(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^alias\s+(\S+)\s+(\S+)/.exec(line);
    if (!m || /[*?[]/.test(m[1])) continue;
    const key = m[1].replace(/-/g, '_');
    map.set(key, [...(map.get(key) ?? []), moduleName(m[2])]);
  }
  return map;
}

/** modules.softdep: module → the names (modules or aliases) it wants loaded with it. */
function parseSoftdeps(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== 'softdep' || words.length < 3) continue;
    const names = words.slice(2).filter((w) => w !== 'pre:' && w !== 'post:');
    map.set(moduleName(words[1]), [...(map.get(moduleName(words[1])) ?? []), ...names]);
  }
  return map;
}

/**
 * The modules `wanted` needs, from the text of depmod's index: each name's modules.dep closure
 * and its soft dependencies that are shipped, in an order that loads dependencies first. Pure.
 */
export function resolveModules(wanted: readonly string[], index: ModuleIndexText): ResolvedModules {
  const dep = parseModulesDep(index.dep);
  const aliases = parseAliases(index.alias ?? '');
  const softdeps = parseSoftdeps(index.softdep ?? '');
  const builtinNames = new Set((index.builtin ?? '').split('\n').filter(Boolean).map(moduleName));
  const byPath = new Map([...dep.values()].map((e) => [e.path, e]));
  const load: { name: string; path: string }[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const entry = dep.get(name)!;
    for (const d of entry.deps) if (byPath.has(d)) visit(moduleName(d));
    load.push({ name, path: entry.path });
    for (const soft of softdeps.get(name) ?? []) {
      const key = moduleName(soft);
      for (const target of dep.has(key) ? [key] : (aliases.get(key) ?? [])) if (dep.has(target)) visit(target);
    }
  };
  const builtin: string[] = [];
  const unknown: string[] = [];
  for (const raw of wanted) {
    const name = moduleName(raw);
    if (dep.has(name)) visit(name);
    else if (builtinNames.has(name)) builtin.push(name);
    else unknown.push(raw);
  }
  return { load, builtin, unknown };
}

/** The lines of an index file that are about `names` (modules.dep, .alias, .softdep, .symbols, .order). */
export function filterIndex(file: string, text: string, names: ReadonlySet<string>): string {
  if (file === 'modules.builtin') return text;
  const keep = (line: string): boolean => {
    if (file === 'modules.dep') return names.has(moduleName(line.slice(0, line.indexOf(':'))));
    if (file === 'modules.order') return names.has(moduleName(line.trim()));
    const words = line.trim().split(/\s+/);
    if (file === 'modules.softdep') return words[0] === 'softdep' && names.has(moduleName(words[1] ?? ''));
    return words[0] === 'alias' && names.has(moduleName(words[2] ?? ''));
  };
  const lines = text.split('\n').filter((l) => l.trim() !== '' && keep(l));
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** The prepared target's modules folder for its vmlinuz: `<image>/boot/vmlinuz-R` → `<image>/lib/modules/R`. */
export function modulesDirFor(vmlinuz: string): string {
  const base = path.basename(vmlinuz);
  if (!base.startsWith('vmlinuz-'))
    throw new Error(`cannot tell the kernel release from ${vmlinuz} (expected vmlinuz-<release>): give modulesDir`);
  return path.join(path.dirname(path.dirname(vmlinuz)), 'lib', 'modules', base.slice('vmlinuz-'.length));
}

/**
 * The folder holding modules.dep (and the other index files) for `modulesDir`: the folder itself
 * if it has one, else depmod's output for it in the cache, made once.
 */
export async function moduleIndexDir(modulesDir: string, log?: LogSink, cacheDir = defaultCacheDir()): Promise<string> {
  if (existsSync(path.join(modulesDir, 'modules.dep'))) return modulesDir;
  const release = path.basename(modulesDir);
  const real = await realpath(modulesDir).catch(() => {
    throw new Error(`no modules folder ${modulesDir} (the target kernel's /lib/modules/<release>)`);
  });
  const order = await stat(path.join(real, 'modules.order')).catch(() => {
    throw new Error(`${modulesDir} has neither modules.dep nor modules.order: not a kernel's modules folder`);
  });
  const stamp = JSON.stringify({ modulesDir: real, orderSize: order.size, orderMtimeMs: order.mtimeMs });
  const home = path.join(cacheDir, 'module-index', `${release}-${createHash('sha256').update(real).digest('hex').slice(0, 12)}`);
  const indexDir = path.join(home, 'lib', 'modules', release);
  const stampFile = path.join(home, 'stamp.json');
  const fresh = async () => (await readFile(stampFile, 'utf8').catch(() => '')) === stamp;
  if (await fresh()) return indexDir;
  return withLock(
    home + '.lock',
    async () => {
      if (await fresh()) return indexDir;
      const started = Date.now();
      const base = `${home}.tmp`;
      await rm(base, { recursive: true, force: true });
      const work = path.join(base, 'lib', 'modules', release);
      await mkdir(work, { recursive: true });
      await symlink(path.join(real, 'kernel'), path.join(work, 'kernel'));
      for (const f of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
        if (existsSync(path.join(real, f))) await copyFile(path.join(real, f), path.join(work, f));
      }
      await run('depmod', ['-b', base, release]).catch((e: Error) => {
        throw new Error(`depmod (host package kmod) could not index ${modulesDir}: ${e.message}`);
      });
      await rm(path.join(work, 'kernel'));
      await rm(home, { recursive: true, force: true });
      await rename(base, home);
      await writeFile(stampFile, stamp);
      log?.(`[qemu] indexed the modules of ${release} with depmod in ${((Date.now() - started) / 1000).toFixed(1)} s (${indexDir})`);
      return indexDir;
    },
    log,
  );
}

/**
 * The modules `names` need from `modulesDir` (the target's /lib/modules/<release>), ready for the
 * initramfs. Throws, naming them, for names the kernel neither ships nor builds in.
 */
export async function guestModules(modulesDir: string, names: readonly string[], log?: LogSink): Promise<GuestModules> {
  const indexDir = await moduleIndexDir(modulesDir, log);
  const read = (f: string) => readFile(path.join(indexDir, f), 'utf8').catch(() => '');
  const text = Object.fromEntries(await Promise.all(GUEST_INDEX_FILES.map(async (f) => [f, await read(f)] as const))) as Record<
    (typeof GUEST_INDEX_FILES)[number],
    string
  >;
  const resolved = resolveModules(names, {
    dep: text['modules.dep'],
    alias: text['modules.alias'],
    softdep: text['modules.softdep'],
    builtin: text['modules.builtin'],
  });
  if (resolved.unknown.length) {
    throw new Error(
      `module${resolved.unknown.length > 1 ? 's' : ''} not shipped with ${path.basename(modulesDir)}: ${resolved.unknown.join(', ')} (no such module in ${path.join(indexDir, 'modules.dep')}, nor built in)`,
    );
  }
  const keep = new Set(resolved.load.map((m) => m.name));
  const metadata: Record<string, string> = {};
  for (const f of GUEST_INDEX_FILES) metadata[f] = filterIndex(f, text[f], keep);
  const files = resolved.load.map((m) => ({ hostPath: path.join(modulesDir, m.path), guestPath: m.path }));
  for (const f of files) {
    if (!existsSync(f.hostPath)) throw new Error(`module file missing: ${f.hostPath} (listed in ${path.join(indexDir, 'modules.dep')})`);
  }
  return {
    release: path.basename(modulesDir),
    requested: names.map(moduleName),
    modules: [...keep],
    builtin: resolved.builtin,
    files,
    metadata,
  };
}
