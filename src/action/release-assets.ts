/**
 * The updates already released: every `ksplice-*.tar.gz` attached to a published release of a
 * repository, downloaded through GitHub's REST API (@actions/github's octokit; no `gh`, whose
 * Debian bookworm build 2.23.0 lacks `gh release list --json`) and checked against the release's
 * SHA256SUMS when it has one (publish.ts attaches it): a tarball whose bytes differ from its line,
 * or that is missing from the file, is an error, never proven as if it were the released update.
 * Drafts are left out (admins cannot download them); a release without tarballs is only noted.
 * With a kernel release, only the updates built for it are kept (their manifest says which; a
 * tarball that is not a readable update is an error): a matrix over kernels proves each against
 * its own kernel.
 *
 * workflows/nightly-qemu.yml's `released` job runs it from the Action's bundle:
 *   node dist/index.js release-assets --dir=released --kernel-release=R > tarballs.txt   (release-assets-cli.ts)
 *
 * Usage:
 *   const got = await downloadReleasedTarballs({ token, repository: 'org/repo', dir: 'released' });
 *   // → [{ tag: 'v1.0', name: 'ksplice-0123abcd.tar.gz', path: 'released/v1.0/ksplice-0123abcd.tar.gz', verified: true }]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defineCli } from '../util/cli.ts';
import type { LogSink } from '../util/progress.ts';
import { readUpdateTarball } from '../package/update-tarball.ts';
import { CHECKSUMS_ASSET, downloadAsset, octokitFor, parseSha256Sums, sha256Hex, splitRepository } from './publish.ts';

/** An update tarball's asset name, as publish.ts attaches it (ksplice-<id>.tar.gz). */
export function isUpdateTarball(name: string): boolean {
  return /^ksplice-[A-Za-z0-9][A-Za-z0-9._-]*\.tar\.gz$/.test(name);
}

/** A tag as one folder name: characters other than letters, digits, `.`, `_`, `-` become `_` (a tag may hold `/`). */
export function tagFolder(tag: string): string {
  const folder = tag.replace(/[^A-Za-z0-9._-]/g, '_');
  return folder === '.' || folder === '..' ? `_${folder}` : folder;
}

/**
 * Which tarballs a checksum file vouches for: each name → its verdict. A missing line or another
 * digest is an error message; `sums` null (a release from before SHA256SUMS) verifies nothing.
 */
export function checkAgainstSums(sums: Map<string, string> | null, name: string, digest: string): 'verified' | 'unverified' | string {
  if (!sums) return 'unverified';
  const expected = sums.get(name);
  if (expected === undefined) return `${name} is not listed in the release's ${CHECKSUMS_ASSET}`;
  if (expected !== digest) return `${name}: sha256 ${digest} differs from the release's ${CHECKSUMS_ASSET} (${expected})`;
  return 'verified';
}

export interface ReleasedTarball {
  tag: string;
  name: string;
  /** Where it was written: <dir>/<tag folder>/<name>. */
  path: string;
  /** Its sha256 matched the release's SHA256SUMS (false: the release has none). */
  verified: boolean;
}

/**
 * Whether a released tarball is an update for `kernelRelease` (its manifest's kernel release);
 * throws when it is not a readable update tarball at all.
 */
export function isUpdateFor(bytes: Buffer, kernelRelease: string): { wanted: boolean; release: string } {
  const { manifest } = readUpdateTarball(bytes);
  return { wanted: manifest.kernelRelease === kernelRelease, release: manifest.kernelRelease };
}

export interface DownloadOptions {
  token: string;
  /** owner/name */
  repository: string;
  dir: string;
  /** GitHub's API (GITHUB_API_URL on GitHub Enterprise, a fake in tests). */
  apiUrl?: string;
  /** Keep only the updates built for this kernel release (uname -r); default: all. */
  kernelRelease?: string;
  log?: LogSink;
}

/** Downloads every released update tarball into `<dir>/<tag>/`, newest release first; throws on a checksum mismatch. */
export async function downloadReleasedTarballs(options: DownloadOptions): Promise<ReleasedTarball[]> {
  const where = splitRepository(options.repository);
  const octokit = octokitFor(options.token, options.apiUrl);
  const log = options.log ?? (() => {});
  const releases = await octokit.paginate(octokit.rest.repos.listReleases, { ...where, per_page: 100 });
  const got: ReleasedTarball[] = [];
  const problems: string[] = [];
  for (const release of releases) {
    if (release.draft) continue;
    const tag = release.tag_name;
    const assets = await octokit.paginate(octokit.rest.repos.listReleaseAssets, { ...where, release_id: release.id, per_page: 100 });
    const tarballs = assets.filter((a) => isUpdateTarball(a.name));
    if (tarballs.length === 0) {
      log(`${tag}: no update tarball`);
      continue;
    }
    const sumsAsset = assets.find((a) => a.name === CHECKSUMS_ASSET);
    const sums = sumsAsset ? parseSha256Sums((await downloadAsset(octokit, where, sumsAsset.id)).toString('utf8')) : null;
    if (!sums) log(`${tag}: no ${CHECKSUMS_ASSET} (released before it was attached): its tarballs are not verified`);
    const folder = path.join(options.dir, tagFolder(tag));
    await mkdir(folder, { recursive: true });
    for (const asset of tarballs) {
      const bytes = await downloadAsset(octokit, where, asset.id);
      const verdict = checkAgainstSums(sums, asset.name, sha256Hex(bytes));
      if (verdict !== 'verified' && verdict !== 'unverified') {
        problems.push(`${tag}: ${verdict}`);
        continue;
      }
      if (options.kernelRelease) {
        let target: { wanted: boolean; release: string };
        try {
          target = isUpdateFor(bytes, options.kernelRelease);
        } catch (e) {
          problems.push(`${tag}: ${asset.name}: not a readable update tarball: ${(e as Error).message}`);
          continue;
        }
        if (!target.wanted) {
          log(`${tag}: ${asset.name} is for ${target.release}, not ${options.kernelRelease}: left out`);
          continue;
        }
      }
      const file = path.join(folder, asset.name);
      await writeFile(file, bytes);
      got.push({ tag, name: asset.name, path: file, verified: verdict === 'verified' });
      log(`${tag}: ${asset.name} (${bytes.length} bytes${verdict === 'verified' ? `, matches ${CHECKSUMS_ASSET}` : ''})`);
    }
  }
  if (problems.length > 0) throw new Error(`released tarballs that do not match their release:\n${problems.join('\n')}`);
  return got;
}

/** The option table of `node dist/index.js release-assets` (release-assets-cli.ts): its parser and --help. */
export const RELEASE_ASSETS_CLI = defineCli({
  name: 'release-assets',
  summary: 'download every released update tarball (ksplice-*.tar.gz) of a repository, checked against its SHA256SUMS',
  usage: ['--dir=DIR [--kernel-release=R] [--repository=OWNER/NAME]'],
  options: {
    dir: { type: 'string', value: 'DIR', description: 'where to write them, one folder per release tag' },
    'kernel-release': {
      type: 'string',
      value: 'R',
      description: 'keep only the updates built for this kernel release (their manifest says which); default: every update',
    },
    repository: { type: 'string', value: 'OWNER/NAME', description: 'the repository whose releases to read (default $GITHUB_REPOSITORY)' },
  },
  notes: [
    "Needs a token in $GITHUB_TOKEN (or $GH_TOKEN); $GITHUB_API_URL when not github.com. Prints the paths of the tarballs written, one per line; a tarball that does not match its release's SHA256SUMS fails the run (exit 1) and is not written.",
  ],
  exitCodes: ['ok', 'error', 'usage'],
});
