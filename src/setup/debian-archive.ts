/**
 * Debian's archive through Debian's own tools: which packages and versions exist (`apt-cache
 * pkgnames`, `madison`, `show`), fetching one (`apt-get download`), reading its control fields
 * (`dpkg-deb -f`) and unpacking it (`dpkg-deb -x`). Downloads land in a cache folder and are reused.
 *
 * Package lists: the system's (/var/lib/apt/lists) when they answer. When they are empty (a fresh
 * machine, or the toolchain container, whose image deletes them), root refreshes them with
 * `apt-get update`; any other user cannot write there, so it keeps a private copy of the lists in
 * `<cache>/apt` (`-o Dir::State::Lists=…`, `-o Dir::Cache=…`) and every later query and download
 * uses that copy. The sources stay the system's (/etc/apt/sources.list*).
 *
 * Usage: `const deb = await downloadPackage('linux-headers-6.1.0-50-amd64', '6.1.176-1', debDir)`.
 */
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { defaultCacheDir } from '../util/cache-dir.ts';
import { run, runUnchecked } from '../util/exec.ts';
import { withLock } from '../util/lock.ts';

/** Extra `-o` options of every apt call: empty while the system's lists serve. */
let aptOptions: string[] = [];
let aptListsRefreshed = false;

/** The apt options that make apt keep its lists and caches under `stateDir` (no root needed). */
export function privateAptOptions(stateDir: string): string[] {
  return ['-o', `Dir::State::Lists=${path.join(stateDir, 'lists')}`, '-o', `Dir::Cache=${path.join(stateDir, 'cache')}`];
}

/**
 * Downloads the package lists into `stateDir` (as any user) and makes every later query of this
 * process use them.
 */
export async function usePrivateAptLists(stateDir: string): Promise<void> {
  const options = privateAptOptions(stateDir);
  await withLock(path.join(stateDir, 'update.lock'), async () => {
    await mkdir(path.join(stateDir, 'lists', 'partial'), { recursive: true });
    await mkdir(path.join(stateDir, 'cache', 'archives', 'partial'), { recursive: true });
    await run('apt-get', [...options, 'update']);
  });
  aptOptions = options;
  aptListsRefreshed = true;
}

/** The apt options in force (for tests and diagnostics). */
export function currentAptOptions(): readonly string[] {
  return aptOptions;
}

/** Refreshes the package lists once per process: the system's as root, else a private copy. */
async function refreshListsOnce(): Promise<boolean> {
  if (aptListsRefreshed) return false;
  aptListsRefreshed = true;
  if (process.getuid?.() === 0) await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update']);
  else await usePrivateAptLists(process.env.KSPLICE_APT_STATE_DIR ?? path.join(defaultCacheDir(), 'apt'));
  return true;
}

/** Runs an archive query; an empty answer may mean empty or stale lists: refresh once and ask again. */
async function askArchive<T extends readonly unknown[]>(query: () => Promise<T>): Promise<T> {
  const first = await query();
  if (first.length > 0 || !(await refreshListsOnce())) return first;
  return query();
}

/** Versions of `pkg` the configured apt sources offer, newest first (as apt orders them). */
export function availableVersions(pkg: string): Promise<string[]> {
  return askArchive(() => madison(pkg));
}

async function madison(pkg: string): Promise<string[]> {
  const result = await runUnchecked('apt-cache', [...aptOptions, 'madison', pkg]);
  const versions = result.stdout
    .split('\n')
    .map((line) => line.split('|').map((f) => f.trim()))
    .filter((fields) => fields.length >= 3 && fields[0] === pkg)
    .map((fields) => fields[1]);
  return [...new Set(versions)];
}

/** Names of every package the apt sources offer that start with `prefix` (e.g. `linux-image-6.1.0-`). */
export function packageNames(prefix: string): Promise<string[]> {
  return askArchive(async () => {
    const result = await runUnchecked('apt-cache', [...aptOptions, 'pkgnames', prefix]);
    return result.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .sort();
  });
}

/**
 * The archive's record of `pkg` at `version` (`apt-cache show`), parsed into the fields a .deb's
 * control would give: read before downloading, so a disagreement is found for free.
 */
export async function archiveControl(pkg: string, version: string): Promise<DebControl | null> {
  const result = await runUnchecked('apt-cache', [...aptOptions, 'show', `${pkg}=${version}`]);
  if (result.exitCode !== 0) return null;
  // Several records when several suites hold the same version: they are one package.
  const first = result.stdout.split(/\n\n/)[0];
  return parseControl(first);
}

/** Control fields (`Package`, `Version`, `Source`, `Architecture`) of one package record. */
export function parseControl(text: string): DebControl {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m && !fields.has(m[1])) fields.set(m[1], m[2].trim());
  }
  const version = fields.get('Version') ?? '';
  const sourceField = fields.get('Source') ?? fields.get('Package') ?? '';
  const sm = /^(\S+)(?:\s+\(([^)]+)\))?$/.exec(sourceField);
  return {
    package: fields.get('Package') ?? '',
    version,
    source: sm?.[1] ?? sourceField,
    sourceVersion: sm?.[2] ?? version,
    architecture: fields.get('Architecture') ?? '',
  };
}

/** The file name apt-get gives a downloaded package (`:` in an epoch becomes `%3a`). */
export function debFileName(pkg: string, version: string, arch: string): string {
  return `${pkg}_${version.replace(/:/g, '%3a')}_${arch}.deb`;
}

export interface DebControl {
  package: string;
  version: string;
  /** Source package name (without its version), e.g. `linux`. */
  source: string;
  /** Source package version: the `Source: linux (6.1.176-1)` form when it differs, else `version`. */
  sourceVersion: string;
  architecture: string;
}

export async function readControl(debPath: string): Promise<DebControl> {
  return parseControl(await run('dpkg-deb', ['-f', debPath, 'Package', 'Version', 'Source', 'Architecture']));
}

/**
 * Fetches `pkg` at exactly `version` into `debDir`, unless a complete copy is already there.
 * apt-get writes into a private temp folder first, so an interrupted download never leaves a
 * truncated .deb under the final name.
 */
export async function downloadPackage(pkg: string, version: string, debDir: string): Promise<string> {
  await mkdir(debDir, { recursive: true });
  const cached = await findCachedDeb(pkg, version, debDir);
  if (cached) return cached;
  // The lists must know the package (a fresh machine's are empty): ask, which refreshes them.
  if (!(await availableVersions(pkg)).includes(version)) throw new Error(`Debian's archive has no ${pkg} at ${version}`);
  const tmp = await mkdtemp(path.join(debDir, `.download-${pkg}-`));
  try {
    await run('apt-get', [...aptOptions, 'download', `${pkg}=${version}`], { cwd: tmp });
    const files = (await readdir(tmp)).filter((f) => f.endsWith('.deb'));
    if (files.length !== 1) throw new Error(`apt-get download ${pkg}=${version} produced ${files.length} files`);
    const final = path.join(debDir, files[0]);
    await rename(path.join(tmp, files[0]), final);
    return final;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function findCachedDeb(pkg: string, version: string, debDir: string): Promise<string | null> {
  const prefix = debFileName(pkg, version, '').replace(/\.deb$/, '');
  for (const file of await readdir(debDir)) {
    if (!file.startsWith(prefix) || !file.endsWith('.deb')) continue;
    const full = path.join(debDir, file);
    if ((await stat(full)).size === 0) continue;
    // dpkg-deb reads the whole control member: a corrupt cached file fails here and is fetched again.
    const control = await readControl(full).catch(() => null);
    if (control && control.package === pkg && control.version === version) return full;
  }
  return null;
}

/** Unpacks the whole package under `dest` (as `dpkg -x` does, without touching dpkg's database). */
export async function extractPackage(debPath: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  await run('dpkg-deb', ['-x', debPath, dest]);
}

/**
 * Unpacks only `members` (paths as in the package, e.g. `./usr/lib/debug/boot/System.map-R`),
 * stopping once each is found: the -dbg package is 855 MB of xz and the wanted files come first.
 */
export async function extractMembers(debPath: string, members: readonly string[], dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  const quoted = members.map((m) => `'${m.replace(/'/g, `'\\''`)}'`).join(' ');
  // tar stops reading after the last --occurrence match; dpkg-deb then sees a closed pipe (SIGPIPE),
  // which is expected, so only tar's exit status counts.
  await run('bash', [
    '-c',
    `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --occurrence=1 ${quoted}; exit \${PIPESTATUS[1]}`,
    'bash',
    debPath,
    dest,
  ]);
}
