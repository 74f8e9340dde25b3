/**
 * Prepares a replica of a Debian target kernel from Debian's archive, once, into a cache.
 *
 * Usage:
 *   const target = await ensureTarget();                     // default 6.1.0-50-amd64
 *   const target = await ensureTarget({ release: '6.1.0-47-amd64', cacheDir: '/var/cache/ksa' });
 *
 * Pipeline (each step logged with its number and time):
 *   host packages → release checked against the archive → versions resolved and every package's
 *   source checked (apt's records, before any download) → headers downloaded, the target's compiler
 *   checked → the rest downloaded → unpack headers, image, System.map + vmlinux from -dbg → unpack
 *   source → Debian's config → make olddefconfig prepare modules_prepare → headers' scripts/ and
 *   tools/ pointed at the tree's → config dir → completion marker.
 *
 * No `linux-kbuild-*` package: Debian keeps it only at a few source versions (for 6.1: 176-1 and
 * the newest), while headers, image, -dbg and source exist for every release. The kbuild programs
 * (fixdep, modpost, genksyms, objtool) are built by `make prepare modules_prepare` in the prepared
 * source tree of the very same version, and Debian's headers (their .config, generated headers
 * and Module.symvers, i.e. the target's vermagic and CRCs) use those. External modules are built
 * with `make -C <headers> M=…` as before; the headers never change while the tree is patched by a
 * double build, so a module build never sees a half-patched tree.
 *
 * Bad requests are refused by name before any download: a name that does not parse, a flavour
 * other than amd64 / cloud-amd64 (rt, other architectures), a release the archive does not hold,
 * a missing package version, packages whose records name different source versions, and a
 * target compiler this host cannot install (read from the 1 MB headers package first).
 *
 * Why the -dbg package for System.map: Debian's /boot/System.map is a stub, and the -dbg package
 * holds both the real System.map and the vmlinux whose bytes the reproduction check compares
 * against, from the very build that made the image. /proc/kallsyms would need the target running
 * and gives no vmlinux. Only those two members are unpacked; they come first in the archive.
 *
 * The cache is `<cacheDir>/<release>/` with a marker written last: a run killed halfway leaves no
 * marker, and the next run wipes the half tree and starts that release again. Downloads are kept
 * in `<cacheDir>/debs/` and survive that.
 */
import { copyFile, mkdir, readdir, readFile, rm, stat, symlink, writeFile, access, readlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  archiveControl,
  availableVersions,
  downloadPackage,
  extractMembers,
  extractPackage,
  packageNames,
  readControl,
} from './debian-archive.ts';
import { ensureHostPackages, HOST_PACKAGES } from './host-packages.ts';
import {
  chooseSourceVersion,
  checkFlavour,
  packagesFor,
  parseRelease,
  releasesInArchive,
  resolveRelease,
  ReleaseRefusedError,
  sourceMismatches,
  type PackageRole,
  type ReleaseName,
} from './kernel-release.ts';
import { ensureTargetCompiler } from './target-compiler.ts';
import { readSystemMap } from '../kbuild/system-map.ts';
import type { TargetKernel } from './target-kernel-types.ts';
import { kbuildArgs } from '../kbuild/flags.ts';
import { kbuildObjects } from '../kbuild/objects.ts';
import { run, runShell } from '../util/exec.ts';
import { defaultCacheDir } from '../util/cache-dir.ts';
import { withLock } from '../util/lock.ts';
import { Progress, stderrSink, type LogSink } from '../util/progress.ts';

export type { TargetKernel } from './target-kernel-types.ts';

export const DEFAULT_RELEASE = '6.1.0-50-amd64';
const READY_MARKER = '.ksplice-ready.json';
/** Bump when the prepared layout changes, so old caches are rebuilt rather than misread. */
const CACHE_LAYOUT = 1;

export interface EnsureTargetOptions {
  release?: string;
  /** Default: $KSPLICE_CACHE_DIR, else $XDG_CACHE_HOME/ksplice-action, else ~/.cache/ksplice-action. */
  cacheDir?: string;
  /** Where downloaded .deb files are kept; default $KSPLICE_DEB_DIR, else `<cacheDir>/debs`. */
  debDir?: string;
  log?: LogSink;
  /** Skip the apt check of host tools (the caller has done it). */
  skipHostPackages?: boolean;
}

export { defaultCacheDir };

export { packagesFor, parseRelease, sourceMismatches, type ReleaseName } from './kernel-release.ts';

/** Where each part of a prepared release lives, relative to nothing: pure path arithmetic. */
export function targetLayout(root: string, name: ReleaseName, sourceVersion: string): TargetKernel {
  const sourceDir = path.join(root, `linux-source-${name.series}`);
  const headersDir = path.join(root, 'headers', 'usr', 'src', `linux-headers-${name.release}`);
  const configDir = path.join(sourceDir, 'ksplice');
  return {
    release: name.release,
    sourceVersion,
    upstreamVersion: sourceVersion.replace(/-[^-]+$/, ''),
    root,
    sourceDir,
    configDir,
    headersDir,
    vmlinuz: path.join(root, 'image', 'boot', `vmlinuz-${name.release}`),
    vmlinux: path.join(root, 'dbg', `vmlinux-${name.release}`),
    systemMap: path.join(configDir, 'System.map'),
    config: path.join(configDir, '.config'),
    modulesDir: path.join(root, 'image', 'lib', 'modules', name.release),
  };
}

interface ReadyMarker {
  layout: number;
  release: string;
  sourceVersion: string;
  packages: Record<string, string>;
  preparedAt: string;
}

/** The prepared target if `<cacheDir>/<release>` carries a valid completion marker, else null. */
export async function findReadyTarget(release: string, cacheDir = defaultCacheDir()): Promise<TargetKernel | null> {
  const name = parseRelease(release);
  const root = path.join(cacheDir, release);
  const marker = await readFile(path.join(root, READY_MARKER), 'utf8')
    .then((t) => JSON.parse(t) as ReadyMarker)
    .catch(() => null);
  if (!marker || marker.layout !== CACHE_LAYOUT || marker.release !== release) return null;
  const target = targetLayout(root, name, marker.sourceVersion);
  await linkShippedModules(target);
  return target;
}

/**
 * The config dir's `modules` link to the image's /lib/modules/<release> (the shipped .ko files the
 * reproduction check compares module code with). Made at setup, and added to a tree prepared
 * before the link existed.
 */
async function linkShippedModules(target: TargetKernel): Promise<void> {
  const link = path.join(target.configDir, 'modules');
  if (await readlink(link).catch(() => null)) return;
  // Another process may make it at the same moment: one link is all that is wanted.
  await symlink(target.modulesDir, link).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}

/** The host packages ensureTarget makes sure of: all of them on every call, whatever the cache holds, unless the caller did it. */
export function hostPackagesToEnsure(options: Pick<EnsureTargetOptions, 'skipHostPackages'>): readonly string[] {
  return options.skipHostPackages ? [] : HOST_PACKAGES;
}

export async function ensureTarget(options: EnsureTargetOptions = {}): Promise<TargetKernel> {
  const requested = options.release ?? DEFAULT_RELEASE;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const log = options.log ?? stderrSink;
  // On every call, prepared or not: a warm cache still needs the compiler and the guest's tools.
  const hostPackages = hostPackagesToEnsure(options);
  if (hostPackages.length > 0) await ensureHostPackages(hostPackages, log);

  // A named release already prepared needs no archive (offline reuse); an alias always asks it.
  if (!isAlias(requested)) {
    checkFlavour(parseRelease(requested));
    const ready = await findReadyTarget(requested, cacheDir);
    if (ready) return ready;
  }
  const name = await releaseInArchive(requested);
  const release = name.release;
  if (release !== requested) {
    log(`${requested} is ${release}`);
    const ready = await findReadyTarget(release, cacheDir);
    if (ready) return ready;
  }

  return withLock(
    path.join(cacheDir, `${release}.lock`),
    async () => {
      // Another process may have finished while this one waited for the lock.
      const readyNow = await findReadyTarget(release, cacheDir);
      if (readyNow) return readyNow;
      return prepareTarget(
        name,
        cacheDir,
        options.debDir ?? process.env.KSPLICE_DEB_DIR ?? path.join(cacheDir, 'debs'),
        log,
        false, // ensured above
      );
    },
    log,
  );
}

function isAlias(requested: string): boolean {
  return requested.startsWith('latest');
}

/** The requested release as the archive holds it (an alias resolved), or a refusal by name. */
export async function releaseInArchive(requested: string): Promise<ReleaseName> {
  if (!isAlias(requested)) checkFlavour(parseRelease(requested));
  return resolveRelease(requested, releasesInArchive(await packageNames('linux-image-')));
}

async function prepareTarget(name: ReleaseName, cacheDir: string, debDir: string, log: LogSink, checkHost: boolean): Promise<TargetKernel> {
  const progress = new Progress(`setup ${name.release}`, 11, log);

  progress.step('host packages');
  if (checkHost) await ensureHostPackages(HOST_PACKAGES, (l) => progress.info(l));

  progress.step("resolving package versions in Debian's archive and checking their source");
  const wanted = packagesFor(name);
  const { source, sourceVersion } = await resolveSourceVersion(name, wanted);
  progress.info(`source ${source} ${sourceVersion}`);

  progress.step("downloading the headers and checking the target's compiler");
  const debs = {} as Record<PackageRole, string>;
  debs.headers = await downloadPackage(wanted.headers, sourceVersion, debDir);
  const configProbe = path.join(cacheDir, `.${name.release}.config-probe`);
  await rm(configProbe, { recursive: true, force: true });
  await extractMembers(debs.headers, [`./usr/src/linux-headers-${name.release}/.config`], configProbe);
  const configText = await readFile(path.join(configProbe, 'usr', 'src', `linux-headers-${name.release}`, '.config'), 'utf8');
  await rm(configProbe, { recursive: true, force: true });
  await ensureTargetCompiler(configText, (l) => progress.info(l));

  progress.step('downloading packages (cached in ' + debDir + ')');
  for (const role of Object.keys(wanted) as PackageRole[]) {
    debs[role] ??= await downloadPackage(wanted[role], sourceVersion, debDir);
    progress.info(path.basename(debs[role]));
  }

  progress.step('checking that every package comes from one source version');
  await checkSameSource(debs, sourceVersion, source);

  const root = path.join(cacheDir, name.release);
  const target = targetLayout(root, name, sourceVersion);
  // No marker (we would have returned): whatever is here is a killed run's leftovers.
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });

  progress.step('unpacking headers and image');
  const headersRoot = path.join(root, 'headers');
  for (const role of ['headers', 'headersCommon'] as const) await extractPackage(debs[role], headersRoot);
  await relocateHeadersMakefile(target.headersDir, headersRoot);
  await extractPackage(debs.image, path.join(root, 'image'));

  progress.step('unpacking the real System.map and vmlinux from the -dbg package');
  const dbgDir = path.join(root, 'dbg');
  const dbgBoot = './usr/lib/debug/boot';
  await extractMembers(debs.dbg, [`${dbgBoot}/System.map-${name.release}`, `${dbgBoot}/vmlinux-${name.release}`], dbgDir);
  const fullVmlinux = path.join(dbgDir, dbgBoot, `vmlinux-${name.release}`);
  // DWARF is 90% of the file and nothing here reads it; code and symbols are what we compare.
  await run('objcopy', ['--strip-debug', fullVmlinux, target.vmlinux]);
  const realMap = path.join(dbgDir, `System.map-${name.release}`);
  await copyFile(path.join(dbgDir, dbgBoot, `System.map-${name.release}`), realMap);
  await rm(path.join(dbgDir, 'usr'), { recursive: true, force: true });
  await readSystemMap(realMap); // refuses a stub, should Debian ever ship one there

  progress.step('unpacking the kernel source');
  await unpackSource(debs.source, name.series, root);

  progress.step("installing Debian's config and build variables");
  const debianConfig = path.join(target.headersDir, '.config');
  await copyFile(debianConfig, path.join(target.sourceDir, '.config'));
  // .kernelvariables sets KERNELRELEASE and CC exactly as Debian's build did; the tree's Makefile
  // includes it (every make in the tree, the double build's too, sees the same variables).
  await writeFile(
    path.join(target.sourceDir, '.kernelvariables'),
    kernelVariablesForTree(await readFile(path.join(target.headersDir, '.kernelvariables'), 'utf8'), await readFile(debianConfig, 'utf8')),
  );

  progress.step('make olddefconfig prepare modules_prepare (with the update build flags)');
  await run('make', [...kbuildArgs(target.sourceDir, os.availableParallelism()), 'olddefconfig', 'prepare', 'modules_prepare'], {
    onLine: (line) => (/\b(warning|error):/i.test(line) ? progress.info(line.trim()) : progress.heartbeat(line)),
  });
  const drift = await configDrift(debianConfig, path.join(target.sourceDir, '.config'));
  if (drift.length > 0) progress.info(`warning: olddefconfig changed ${drift.length} config lines: ${drift.slice(0, 5).join('; ')}`);

  // kbuild's object list, taken while nothing is built yet (a dry run skips up-to-date objects).
  await kbuildObjects(target.sourceDir, (l) => progress.info(l));
  await useTreeKbuildPrograms(headersRoot, target.sourceDir);

  progress.step('writing the config directory (.config, System.map, build and vmlinux links)');
  await mkdir(target.configDir, { recursive: true });
  await copyFile(debianConfig, target.config);
  await copyFile(realMap, target.systemMap);
  await symlink(target.headersDir, path.join(target.configDir, 'build'));
  // Not in the article's list, but ksplice-create uses it when present: the shipped code the
  // reproduction check compares the pre build with.
  await symlink(target.vmlinux, path.join(target.configDir, 'vmlinux'));
  await linkShippedModules(target);

  const marker: ReadyMarker = {
    layout: CACHE_LAYOUT,
    release: name.release,
    sourceVersion,
    packages: Object.fromEntries(Object.entries(debs).map(([role, deb]) => [role, path.basename(deb)])),
    preparedAt: new Date().toISOString(),
  };
  await writeFile(path.join(root, READY_MARKER), JSON.stringify(marker, null, 2) + '\n');
  progress.done(`${name.release} (${sourceVersion}) ready in ${root}`);
  return target;
}

/**
 * The source package and version to use: the newest version the unsigned image is available at
 * where every other package exists too, with apt's records of all of them naming that one source
 * (checked before any download). Otherwise one refusal naming each missing or disagreeing piece.
 */
async function resolveSourceVersion(
  name: ReleaseName,
  wanted: Record<PackageRole, string>,
): Promise<{ source: string; sourceVersion: string }> {
  const versions: Record<string, string[]> = {};
  for (const pkg of Object.values(wanted)) versions[pkg] = await availableVersions(pkg);
  const sourceVersion = chooseSourceVersion(name.release, versions, wanted.image);
  const records = await Promise.all(Object.values(wanted).map((pkg) => archiveControl(pkg, sourceVersion)));
  const image = records[0];
  if (!image || records.some((r) => r === null))
    throw new ReleaseRefusedError(`apt has no record of ${name.release}'s packages at ${sourceVersion}`);
  const mismatched = sourceMismatches(records as NonNullable<(typeof records)[number]>[], image.source, sourceVersion);
  if (mismatched.length > 0) throw new ReleaseRefusedError(`${name.release}: packages disagree on their source: ${mismatched.join('; ')}`);
  return { source: image.source, sourceVersion };
}

/** Every package must be built from `source` at `sourceVersion`; mixing versions breaks the replica. */
export async function checkSameSource(debs: Record<string, string>, sourceVersion: string, source = 'linux'): Promise<void> {
  const controls = await Promise.all(Object.values(debs).map((deb) => readControl(deb)));
  const mismatched = sourceMismatches(controls, source, sourceVersion);
  if (mismatched.length > 0) throw new Error(`packages from another source version: ${mismatched.join('; ')}`);
}

/**
 * Debian's headers find kbuild's programs through `scripts` and `tools` links into the
 * linux-kbuild package; point them at the prepared tree's instead (same source version, built by
 * `make prepare modules_prepare` above). A tree prepared with the kbuild package keeps its links.
 */
async function useTreeKbuildPrograms(headersRoot: string, sourceDir: string): Promise<void> {
  const src = path.join(headersRoot, 'usr', 'src');
  for (const dir of await readdir(src)) {
    if (!dir.startsWith('linux-headers-')) continue;
    for (const link of ['scripts', 'tools']) {
      const at = path.join(src, dir, link);
      const to = await readlink(at).catch(() => null);
      if (to === null || !to.includes('linux-kbuild-')) continue;
      await rm(at);
      await symlink(path.join(sourceDir, link), at);
    }
  }
}

/**
 * Debian's .kernelvariables for the tree, plus what keeps Kconfig from seeing this host where
 * Debian's build saw nothing: a kernel built without rustc (6.12: `CONFIG_RUSTC_VERSION=0`) gets a
 * RUSTC that does not exist, or a rustc on this host would change the config's RUSTC lines and
 * the tree would no longer be configured as the target.
 */
export function kernelVariablesForTree(kernelVariables: string, debianConfig: string): string {
  if (!/^CONFIG_RUSTC_VERSION=0$/m.test(debianConfig)) return kernelVariables;
  return `${kernelVariables.replace(/\n?$/, '\n')}# ksplice-setup: Debian built this kernel without rustc\nRUSTC = ksplice-no-rustc\n`;
}

/**
 * Debian's headers Makefile includes the -common Makefile by absolute path under /usr/src;
 * unpacked elsewhere, point it at the unpacked copy.
 */
async function relocateHeadersMakefile(headersDir: string, unpackedRoot: string): Promise<void> {
  const makefile = path.join(headersDir, 'Makefile');
  const text = await readFile(makefile, 'utf8');
  const rewritten = text.replace(/^include \/usr\/src\//m, `include ${unpackedRoot}/usr/src/`);
  if (rewritten === text) throw new Error(`unexpected headers Makefile (no include of /usr/src/...): ${makefile}`);
  await writeFile(makefile, rewritten);
}

async function unpackSource(sourceDeb: string, series: string, root: string): Promise<void> {
  const tree = path.join(root, `linux-source-${series}`);
  if (
    await access(path.join(tree, 'Makefile')).then(
      () => true,
      () => false,
    )
  )
    return;
  const member = `./usr/src/linux-source-${series}.tar.xz`;
  await runShell(`dpkg-deb --fsys-tarfile "$1" | tar -xO "$2" | xz -dc | tar -x -C "$3"`, [sourceDeb, member, root]).catch((e: Error) => {
    throw new Error(`${path.basename(sourceDeb)} did not unpack as a kernel tree from ${member}: ${e.message}`);
  });
  await stat(path.join(tree, 'Makefile')).catch(() => {
    throw new Error(`${path.basename(sourceDeb)} held no kernel tree at ${member}`);
  });
}

/** Config lines (ignoring comments) that differ between Debian's config and the tree's. */
async function configDrift(expectedFile: string, actualFile: string): Promise<string[]> {
  const lines = async (f: string) => new Set((await readFile(f, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')));
  const expected = await lines(expectedFile);
  const actual = await lines(actualFile);
  return [
    ...[...expected].filter((l) => !actual.has(l)).map((l) => `-${l}`),
    ...[...actual].filter((l) => !expected.has(l)).map((l) => `+${l}`),
  ];
}
