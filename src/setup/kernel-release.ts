/**
 * Debian kernel release names and the rules a requested one must pass before anything is
 * downloaded: the name parses, its flavour is one we support, and the archive holds it. Pure
 * functions; the archive's answer (its image package names) is passed in.
 *
 * Two naming schemes, one per kernel line in bookworm:
 *   6.1 line:   `6.1.0-50-amd64`        ABI `6.1.0-50`,       source package `linux`
 *   6.12 line:  `6.12.115+deb12-amd64`  ABI `6.12.115+deb12`, source package `linux-6.12`
 *
 * Usage:
 *   const releases = releasesInArchive(await packageNames('linux-image-'));
 *   const name = resolveRelease('latest', releases);     // newest 6.1 ABI, amd64
 */

/** Flavours whose kernels this project builds updates for (the guest proof boots amd64 code). */
export const SUPPORTED_FLAVOURS = ['amd64', 'cloud-amd64'] as const;

/** `latest`: the newest 6.1 ABI; `latest-<series>` the newest of that line (amd64 flavour). */
export const LATEST_ALIASES: Record<string, string> = { latest: '6.1', 'latest-6.12': '6.12' };

/** The pieces of a Debian kernel release name, e.g. `6.1.0-50-amd64` → series 6.1, abi 6.1.0-50, flavour amd64. */
export interface ReleaseName {
  release: string;
  series: string;
  abi: string;
  flavour: string;
}

/** A request the tools refuse by name, before any download. */
export class ReleaseRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReleaseRefusedError';
  }
}

const RELEASE_PATTERN = /^((\d+\.\d+)\.\d+(?:-\d+|\+deb\d+))-([a-z0-9][a-z0-9-]*)$/;

export function parseRelease(release: string): ReleaseName {
  const m = RELEASE_PATTERN.exec(release);
  if (!m)
    throw new ReleaseRefusedError(`not a Debian kernel release name: '${release}' (expected e.g. 6.1.0-50-amd64 or 6.12.115+deb12-amd64)`);
  return { release, abi: m[1], series: m[2], flavour: m[3] };
}

/** Refuses a flavour (rt, another architecture) this project does not build for. */
export function checkFlavour(name: ReleaseName): void {
  if ((SUPPORTED_FLAVOURS as readonly string[]).includes(name.flavour)) return;
  const why = name.flavour.startsWith('rt-')
    ? 'PREEMPT_RT kernels are not supported'
    : name.flavour.endsWith('amd64')
      ? 'this flavour is not supported'
      : 'only x86-64 (amd64) kernels are supported';
  throw new ReleaseRefusedError(`${name.release}: flavour '${name.flavour}' refused (${why}; supported: ${SUPPORTED_FLAVOURS.join(', ')})`);
}

/** The releases (every flavour) whose unsigned image the archive offers, from its package names. */
export function releasesInArchive(packageNames: readonly string[]): ReleaseName[] {
  const releases: ReleaseName[] = [];
  for (const pkg of packageNames) {
    const m = /^linux-image-(.+)-unsigned$/.exec(pkg);
    if (!m || !RELEASE_PATTERN.test(m[1])) continue;
    releases.push(parseRelease(m[1]));
  }
  return releases.sort(compareReleases);
}

/** Numbers of an ABI in order of significance: `6.1.0-57` → [6,1,0,57]; `6.12.115+deb12` → [6,12,115,12]. */
function abiNumbers(abi: string): number[] {
  return abi
    .split(/[.+-]|deb/)
    .filter(Boolean)
    .map(Number);
}

/** Oldest first by ABI, then by flavour name. */
export function compareReleases(a: ReleaseName, b: ReleaseName): number {
  const x = abiNumbers(a.abi);
  const y = abiNumbers(b.abi);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return a.flavour < b.flavour ? -1 : a.flavour > b.flavour ? 1 : 0;
}

/**
 * The release a request names: an alias (`latest`, `latest-6.12`) becomes the newest amd64 ABI of
 * its line; a name is checked for its flavour and for being in the archive. Refused by name.
 */
export function resolveRelease(requested: string, inArchive: readonly ReleaseName[]): ReleaseName {
  const aliasSeries = LATEST_ALIASES[requested];
  if (aliasSeries) {
    const line = inArchive.filter((r) => r.series === aliasSeries && r.flavour === 'amd64');
    if (line.length === 0) throw new ReleaseRefusedError(`'${requested}': Debian's archive holds no ${aliasSeries} kernel (amd64)`);
    return line[line.length - 1];
  }
  const name = parseRelease(requested);
  checkFlavour(name);
  if (!inArchive.some((r) => r.release === name.release)) {
    const supported = inArchive.filter((r) => (SUPPORTED_FLAVOURS as readonly string[]).includes(r.flavour)).map((r) => r.release);
    throw new ReleaseRefusedError(
      `unknown release ${name.release}: Debian's archive (the configured apt sources) has no linux-image-${name.release}-unsigned; ` +
        `it holds: ${supported.join(', ') || 'none'}`,
    );
  }
  return name;
}

/** The Debian packages one release needs, by role. All must come from one source package version. */
export function packagesFor(name: ReleaseName) {
  return {
    image: `linux-image-${name.release}-unsigned`,
    dbg: `linux-image-${name.release}-dbg`,
    headers: `linux-headers-${name.release}`,
    headersCommon: `linux-headers-${name.abi}-common`,
    source: `linux-source-${name.series}`,
  } as const;
}
export type PackageRole = keyof ReturnType<typeof packagesFor>;

/**
 * The source version to prepare: the newest one the image is available at where every other
 * package exists too; otherwise a refusal naming each missing package and version.
 */
export function chooseSourceVersion(release: string, versions: Record<string, readonly string[]>, imagePackage: string): string {
  const imageVersions = versions[imagePackage] ?? [];
  let problems: string[] = [];
  for (const version of imageVersions) {
    problems = Object.entries(versions)
      .filter(([, have]) => !have.includes(version))
      .map(([pkg, have]) => `${pkg} ${version} (archive has: ${have.join(', ') || 'none'})`);
    if (problems.length === 0) return version;
  }
  throw new ReleaseRefusedError(`Debian's archive lacks packages for ${release}: missing ${problems.join('; ') || imagePackage}`);
}

/** The packages (as `name: source version`) that are not from `source` at `sourceVersion`. */
export function sourceMismatches(
  controls: readonly { package: string; source: string; sourceVersion: string }[],
  source: string,
  sourceVersion: string,
): string[] {
  return controls
    .filter((c) => c.source !== source || c.sourceVersion !== sourceVersion)
    .map((c) => `${c.package} is from ${c.source} ${c.sourceVersion}, expected ${source} ${sourceVersion}`);
}
