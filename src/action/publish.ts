/**
 * Publishing an update: the tarball as a workflow artifact (uploaded as the .tar.gz itself, not
 * zipped: `skipArchive`), and on a release tag, attached to that release (created if missing).
 *
 * Usage:
 *   const artifact = await uploadTarball(tarball);                      // { name, id, size }
 *   const asset = await attachToRelease({ token, repository: 'org/repo', tag: 'v1', tarball });
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

function isNotFound(e: unknown): boolean {
  return (e as { status?: number }).status === 404;
}

/** Attaches the tarball to the release of `tag`, creating the release if there is none; returns the asset's URL. */
export async function attachToRelease(target: ReleaseTarget): Promise<string> {
  const [owner, repo] = target.repository.split('/');
  if (!owner || !repo) throw new Error(`GITHUB_REPOSITORY ${target.repository}: expected owner/name`);
  const octokit = getOctokit(target.token, target.apiUrl ? { baseUrl: target.apiUrl } : {});
  let release;
  try {
    release = (await octokit.rest.repos.getReleaseByTag({ owner, repo, tag: target.tag })).data;
  } catch (e) {
    if (!isNotFound(e)) throw e;
    release = (await octokit.rest.repos.createRelease({ owner, repo, tag_name: target.tag, name: target.tag })).data;
  }
  const name = path.basename(target.tarball);
  const data = await readFile(target.tarball);
  // the upload URL GitHub gives with the release (uploads.github.com, a URI template with {?name,label})
  const asset = await octokit.request({
    method: 'POST', url: release.upload_url, name,
    data, headers: { 'content-type': 'application/gzip', 'content-length': data.length },
  });
  return (asset.data as { browser_download_url: string }).browser_download_url;
}
