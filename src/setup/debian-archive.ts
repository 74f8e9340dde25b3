/**
 * Debian's archive through Debian's own tools: which versions of a package exist (`apt-cache
 * madison`), fetching one (`apt-get download`), reading its control fields (`dpkg-deb -f`) and
 * unpacking it (`dpkg-deb -x`). Downloads land in a cache folder and are reused.
 *
 * Usage: `const deb = await downloadPackage('linux-kbuild-6.1', '6.1.176-1', debDir)`.
 */
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { run, runUnchecked } from '../util/exec.ts';

let aptListsRefreshed = false;

/** Versions of `pkg` the configured apt sources offer, newest first (as apt orders them). */
export async function availableVersions(pkg: string): Promise<string[]> {
  let versions = await madison(pkg);
  if (versions.length === 0 && !aptListsRefreshed) {
    // A fresh machine may have empty or stale package lists: refresh once, then ask again.
    aptListsRefreshed = true;
    if (process.getuid?.() === 0) await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update']);
    versions = await madison(pkg);
  }
  return versions;
}

async function madison(pkg: string): Promise<string[]> {
  const result = await runUnchecked('apt-cache', ['madison', pkg]);
  const versions = result.stdout
    .split('\n')
    .map((line) => line.split('|').map((f) => f.trim()))
    .filter((fields) => fields.length >= 3 && fields[0] === pkg)
    .map((fields) => fields[1]);
  return [...new Set(versions)];
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
  const text = await run('dpkg-deb', ['-f', debPath, 'Package', 'Version', 'Source', 'Architecture']);
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m) fields.set(m[1], m[2].trim());
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

/**
 * Fetches `pkg` at exactly `version` into `debDir`, unless a complete copy is already there.
 * apt-get writes into a private temp folder first, so an interrupted download never leaves a
 * truncated .deb under the final name.
 */
export async function downloadPackage(pkg: string, version: string, debDir: string): Promise<string> {
  await mkdir(debDir, { recursive: true });
  const cached = await findCachedDeb(pkg, version, debDir);
  if (cached) return cached;
  const tmp = await mkdtemp(path.join(debDir, `.download-${pkg}-`));
  try {
    await run('apt-get', ['download', `${pkg}=${version}`], { cwd: tmp });
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
