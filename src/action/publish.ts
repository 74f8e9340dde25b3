/**
 * Publishing an update: the tarball as a workflow artifact (uploaded as the .tar.gz itself, not
 * zipped: `skipArchive`), and on a release tag, attached to that release (reused when it exists,
 * created when missing), with a `SHA256SUMS` asset beside it (sha256sum's format, one line per
 * tarball on the release) that every attach merges its line into.
 *
 * A same-named asset already on the release is never silently replaced. The name is
 * ksplice-<id>.tar.gz and the id is derived from the patch and the target, so it is this update
 * from an earlier run (a re-run job, a moved tag): with the same bytes (builds are reproducible)
 * nothing is uploaded; with other bytes the attach is refused (AssetExistsError) unless
 * `overwrite: true`, when the old asset is deleted and the new one uploaded (GitHub refuses a
 * second asset of a name). SHA256SUMS follows the tarball it lists.
 *
 * Parallel jobs (a matrix over kernels or patches) attach to one release: each re-reads SHA256SUMS
 * after its upload and merges again when a neighbour's upload dropped its line.
 *
 * Usage:
 *   const artifact = await uploadTarball(tarball);                      // { name, id, size }
 *   const asset = await attachToRelease({ token, repository: 'org/repo', tag: 'v1', tarball, overwrite: false });
 *   // → { url, replaced, unchanged, checksumsUrl }
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';
import { getOctokit } from '@actions/github';

export interface UploadedArtifact {
  name: string;
  id: number | undefined;
  size: number | undefined;
}

export async function uploadTarball(tarball: string): Promise<UploadedArtifact> {
  const client = new DefaultArtifactClient();
  const result = await client.uploadArtifact(path.basename(tarball), [tarball], path.dirname(tarball), { skipArchive: true });
  return { name: path.basename(tarball), id: result.id, size: result.size };
}

/** The release checksum file's asset name. */
export const CHECKSUMS_ASSET = 'SHA256SUMS';

export interface ReleaseTarget {
  token: string;
  /** owner/name */
  repository: string;
  tag: string;
  tarball: string;
  /** Replace an asset of the tarball's name whose bytes differ (the Action's `overwrite` input). Default false: refuse. */
  overwrite?: boolean;
  /** GitHub's API (GITHUB_API_URL on GitHub Enterprise, a fake in tests). */
  apiUrl?: string;
}

/** A same-named asset with other bytes is on the release and `overwrite` was not given. */
export class AssetExistsError extends Error {
  constructor(
    readonly asset: string,
    readonly tag: string,
  ) {
    super(
      `${asset} is already on release ${tag} with other bytes: not replaced (set overwrite: true to replace it, or delete the asset, or use a new tag)`,
    );
    this.name = 'AssetExistsError';
  }
}

/** sha256 of bytes, as lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A sha256sum file's entries, name → digest. Lines are `<64 hex><space><space or *><name>`; a
 * malformed line is an error (the file is ours: anything else means someone else wrote it).
 */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new Error(`${CHECKSUMS_ASSET} line ${i + 1}: not "<sha256>  <name>": ${JSON.stringify(line.slice(0, 120))}`);
    sums.set(m[2], m[1]);
  });
  return sums;
}

/** sha256sum's text format (`sha256sum -c` reads it), names in order so the bytes depend on the set only. */
export function formatSha256Sums(sums: Map<string, string>): string {
  return [...sums]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, digest]) => `${digest}  ${name}\n`)
    .join('');
}

function statusOf(e: unknown): number | undefined {
  return (e as { status?: number }).status;
}

type Octokit = ReturnType<typeof getOctokit>;
interface Repo {
  owner: string;
  repo: string;
}
interface Release {
  id: number;
  upload_url: string;
}
interface Asset {
  id: number;
  name: string;
  size: number;
  browser_download_url: string;
}

export function splitRepository(repository: string): Repo {
  const [owner, repo, extra] = repository.split('/');
  if (!owner || !repo || extra !== undefined) throw new Error(`GITHUB_REPOSITORY ${repository}: expected owner/name`);
  return { owner, repo };
}

export function octokitFor(token: string, apiUrl: string | undefined): Octokit {
  return getOctokit(token, apiUrl ? { baseUrl: apiUrl } : {});
}

/** The release of the tag; created when there is none (or found after all, when a parallel job created it first). */
async function releaseOf(octokit: Octokit, where: Repo, tag: string): Promise<Release> {
  try {
    return (await octokit.rest.repos.getReleaseByTag({ ...where, tag })).data;
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
  }
  try {
    return (await octokit.rest.repos.createRelease({ ...where, tag_name: tag, name: tag })).data;
  } catch (e) {
    // 422: another job of the same workflow (a matrix) created it between our two calls
    if (statusOf(e) !== 422) throw e;
    return (await octokit.rest.repos.getReleaseByTag({ ...where, tag })).data;
  }
}

async function assetsOf(octokit: Octokit, where: Repo, releaseId: number): Promise<Asset[]> {
  return octokit.paginate(octokit.rest.repos.listReleaseAssets, { ...where, release_id: releaseId, per_page: 100 });
}

/** An asset's bytes (the API's octet-stream answer, which GitHub redirects to its storage). */
export async function downloadAsset(octokit: Octokit, where: Repo, assetId: number): Promise<Buffer> {
  const response = await octokit.rest.repos.getReleaseAsset({
    ...where,
    asset_id: assetId,
    headers: { accept: 'application/octet-stream' },
  });
  return Buffer.from(response.data as unknown as ArrayBuffer);
}

async function deleteAsset(octokit: Octokit, where: Repo, assetId: number): Promise<void> {
  await octokit.rest.repos.deleteReleaseAsset({ ...where, asset_id: assetId }).catch((e: unknown) => {
    if (statusOf(e) !== 404) throw e; // gone already: a parallel job deleted it first
  });
}

/** Uploads bytes as an asset named `name` to the release's upload URL (uploads.github.com, a URI template with {?name,label}). */
async function uploadAsset(octokit: Octokit, release: Release, name: string, data: Buffer, contentType: string): Promise<Asset> {
  // No content-length of our own: fetch sets it from the body, and Node 24's fetch refuses one given as a number.
  const response = await octokit.request({ method: 'POST', url: release.upload_url, name, data, headers: { 'content-type': contentType } });
  return response.data as Asset;
}

/** How many times SHA256SUMS is merged again when parallel jobs race on it. */
const CHECKSUM_ATTEMPTS = 12;

/**
 * Merges `name  digest` into the release's SHA256SUMS (made when missing) and checks, after its
 * own upload, that the line is still there: a parallel job may have deleted and replaced the file
 * between our read and our upload (its upload then fails 422, or ours lost its line).
 */
async function recordChecksum(octokit: Octokit, where: Repo, release: Release, name: string, digest: string): Promise<string> {
  // every line read so far, the newest read winning: a neighbour that listed while the file was
  // briefly absent (between a delete and an upload) uploads a list without them, and we restore them
  const known = new Map<string, string>();
  for (let attempt = 1; ; attempt++) {
    if (attempt > CHECKSUM_ATTEMPTS)
      throw new Error(`${CHECKSUMS_ASSET} of the release: ${name} not recorded after ${CHECKSUM_ATTEMPTS} attempts (parallel jobs)`);
    if (attempt > 1) await backOff(attempt);
    const old = (await assetsOf(octokit, where, release.id)).find((a) => a.name === CHECKSUMS_ASSET);
    let sums = new Map<string, string>();
    if (old) {
      const bytes = await downloadAsset(octokit, where, old.id).catch((e: unknown) => {
        if (statusOf(e) === 404) return null; // deleted by a parallel job between our list and our read: list again
        throw e;
      });
      if (!bytes) continue;
      sums = parseSha256Sums(bytes.toString('utf8'));
      const complete = [...known.keys()].every((k) => sums.has(k));
      if (complete && sums.get(name) === digest) return old.browser_download_url;
    }
    for (const [k, v] of sums) known.set(k, v);
    known.set(name, digest);
    if (old) await deleteAsset(octokit, where, old.id);
    try {
      await uploadAsset(octokit, release, CHECKSUMS_ASSET, Buffer.from(formatSha256Sums(known)), 'text/plain');
    } catch (e) {
      if (statusOf(e) !== 422) throw e; // 422: a parallel job uploaded its SHA256SUMS first; merge into that one
    }
  }
}

/** A random wait that grows with the attempt, so racing jobs stop meeting each other. */
function backOff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** Math.min(attempt, 6)));
}

export interface AttachedAsset {
  url: string;
  /** An asset of that name with other bytes was there and was replaced (only with overwrite). */
  replaced: boolean;
  /** An asset of that name with these very bytes was there: nothing uploaded. */
  unchanged: boolean;
  /** The release's SHA256SUMS, which lists the tarball. */
  checksumsUrl: string;
}

/**
 * Attaches the tarball to the release of `tag` (created if missing) and records its sha256 in the
 * release's SHA256SUMS. A same-named asset: kept when its bytes are these, else AssetExistsError
 * unless `overwrite`.
 */
export async function attachToRelease(target: ReleaseTarget): Promise<AttachedAsset> {
  const where = splitRepository(target.repository);
  const octokit = octokitFor(target.token, target.apiUrl);
  const release = await releaseOf(octokit, where, target.tag);
  const name = path.basename(target.tarball);
  if (name === CHECKSUMS_ASSET) throw new Error(`${target.tarball}: ${CHECKSUMS_ASSET} is the name of the release's checksum file`);
  const data = await readFile(target.tarball);
  const digest = sha256Hex(data);
  const existing = (await assetsOf(octokit, where, release.id)).find((a) => a.name === name);
  let asset: Asset;
  let replaced = false;
  let unchanged = false;
  if (existing && existing.size === data.length && sha256Hex(await downloadAsset(octokit, where, existing.id)) === digest) {
    asset = existing;
    unchanged = true;
  } else {
    if (existing && !target.overwrite) throw new AssetExistsError(name, target.tag);
    if (existing) await deleteAsset(octokit, where, existing.id);
    replaced = existing !== undefined;
    asset = await uploadAsset(octokit, release, name, data, 'application/gzip');
  }
  const checksumsUrl = await recordChecksum(octokit, where, release, name, digest);
  return { url: asset.browser_download_url, replaced, unchanged, checksumsUrl };
}
