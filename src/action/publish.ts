/**
 * Publishing an update: the tarball as a workflow artifact (uploaded as the .tar.gz itself, not
 * zipped: `skipArchive`), and on a release tag, attached to that release (reused when it exists,
 * created when missing). An asset of the same name already on the release is deleted and the
 * tarball uploaded again: the name is ksplice-<id>.tar.gz and the id is derived from the patch
 * and the target, so a same-named asset is this update from an earlier run (a re-run job, a
 * moved tag) and the fresh build replaces it; GitHub would refuse a second asset of that name.
 *
 * Usage:
 *   const artifact = await uploadTarball(tarball);                      // { name, id, size }
 *   const asset = await attachToRelease({ token, repository: 'org/repo', tag: 'v1', tarball });   // { url, replaced }
 */
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

export interface ReleaseTarget {
  token: string;
  /** owner/name */
  repository: string;
  tag: string;
  tarball: string;
  /** GitHub's API (GITHUB_API_URL on GitHub Enterprise, a fake in tests). */
  apiUrl?: string;
}

function statusOf(e: unknown): number | undefined {
  return (e as { status?: number }).status;
}

type Octokit = ReturnType<typeof getOctokit>;
interface Repo {
  owner: string;
  repo: string;
}

/** The release of the tag; created when there is none (or found after all, when a parallel job created it first). */
async function releaseOf(octokit: Octokit, where: Repo, tag: string): Promise<{ id: number; upload_url: string }> {
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

/** Deletes an asset named `name` from the release, if there is one; says whether it did. */
async function deleteSameNamedAsset(octokit: Octokit, where: Repo, releaseId: number, name: string): Promise<boolean> {
  const assets = await octokit.paginate(octokit.rest.repos.listReleaseAssets, { ...where, release_id: releaseId, per_page: 100 });
  const old = assets.find((a) => a.name === name);
  if (!old) return false;
  await octokit.rest.repos.deleteReleaseAsset({ ...where, asset_id: old.id });
  return true;
}

export interface AttachedAsset {
  url: string;
  /** An asset of that name was there and was replaced. */
  replaced: boolean;
}

/** Attaches the tarball to the release of `tag` (created if missing), replacing a same-named asset. */
export async function attachToRelease(target: ReleaseTarget): Promise<AttachedAsset> {
  const [owner, repo] = target.repository.split('/');
  if (!owner || !repo) throw new Error(`GITHUB_REPOSITORY ${target.repository}: expected owner/name`);
  const octokit = getOctokit(target.token, target.apiUrl ? { baseUrl: target.apiUrl } : {});
  const where = { owner, repo };
  const release = await releaseOf(octokit, where, target.tag);
  const name = path.basename(target.tarball);
  const replaced = await deleteSameNamedAsset(octokit, where, release.id, name);
  const data = await readFile(target.tarball);
  // the upload URL GitHub gives with the release (uploads.github.com, a URI template with {?name,label}).
  // No content-length of our own: fetch sets it from the body, and Node 24's fetch refuses one given as a number.
  const asset = await octokit.request({
    method: 'POST',
    url: release.upload_url,
    name,
    data,
    headers: { 'content-type': 'application/gzip' },
  });
  return { url: (asset.data as { browser_download_url: string }).browser_download_url, replaced };
}
