/**
 * The update tarball `ksplice-<id>.tar.gz`: what ksplice-create writes and ksplice-apply reads.
 *
 * Layout, in one folder `ksplice-<id>/`:
 *   manifest.json          id, kernel release, source version, toolchain, changed/new functions
 *                          with their System.map addresses, and the sha256 of every other file
 *   <name>.patch           the source patch
 *   description.txt        what the update does, for ksplice-view
 *   objects/pre/<path>.o   the pre objects (old code, for run-pre matching and review)
 *   objects/post/<path>.o  the post objects (new code)
 *   ksplice.ko, ksplice_<id>.ko, ksplice-apply, -undo, -view   the engine, the update, the tools
 * The modules and tools sit at the top (the target tools load modules from there only).

 * manifest.json keeps one `files` entry per line: the target tools read it with sed under
 * busybox, without a JSON parser.
 *
 * Usage:
 *   const gz = writeUpdateTarball(manifestFields, files);
 *   const { manifest, files } = readUpdateTarball(gz, { kernelRelease: '6.1.0-50-amd64' });
 */
import { createHash } from 'node:crypto';
import { readTarGz, TarballError, writeTarGz, type TarEntry } from './tar.ts';

export const MANIFEST_FORMAT = 1;

export interface FunctionEntry {
  object: string;
  function: string;
  /** System.map address (hex, no KASLR slide) of the function being replaced; absent for new ones. */
  address?: string;
}

export interface UpdateManifest {
  formatVersion: number;
  id: string;
  kernelRelease: string;
  sourceVersion: string;
  toolchain: { cc: string; as: number; ld: number };
  description: string;
  patch: string;
  coreModule: string;
  updateModule: string;
  /**
   * Present when the modules are signed (ksplice-create --sign-key): the hash and the certificate
   * (sha256 of its DER) the target must trust. Absent: the modules are unsigned.
   */
  moduleSignature?: { hashAlgorithm: string; certificateSha256: string; certificateSubject: string };
  changed: FunctionEntry[];
  new: FunctionEntry[];
  files: { path: string; sha256: string }[];
}

export type ManifestFields = Omit<UpdateManifest, 'formatVersion' | 'files'>;

export interface PackedFile {
  /** Path inside `ksplice-<id>/`. */
  path: string;
  data: Buffer;
  executable?: boolean;
}

/** Ksplice-style ids: 8 characters of [a-z0-9], here derived from the inputs so rebuilds agree. */
export function updateIdFor(...inputs: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const input of inputs) hash.update(input).update('\0');
  return BigInt(`0x${hash.digest('hex').slice(0, 16)}`)
    .toString(36)
    .padStart(8, '0')
    .slice(-8);
}

export function isValidUpdateId(id: string): boolean {
  return /^[a-z0-9][a-z0-9_-]{0,31}$/.test(id);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Pretty JSON, except that each `files` entry stays on one line for the busybox tools. */
export function formatManifest(manifest: UpdateManifest): string {
  const { files, ...rest } = manifest;
  const head = JSON.stringify(rest, null, 2).replace(/\n}$/, '');
  const lines = files.map((f) => `    ${JSON.stringify({ path: f.path, sha256: f.sha256 }).replace(/,/g, ', ').replace(/":/g, '": ')}`);
  return `${head},\n  "files": [\n${lines.join(',\n')}\n  ]\n}\n`;
}

export function writeUpdateTarball(fields: ManifestFields, files: readonly PackedFile[]): Buffer {
  if (!isValidUpdateId(fields.id)) throw new TarballError(`invalid update id '${fields.id}' (lowercase letters, digits, _ and -)`);
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : 1));
  const manifest: UpdateManifest = {
    formatVersion: MANIFEST_FORMAT,
    ...fields,
    files: sorted.map((f) => ({ path: f.path, sha256: sha256(f.data) })),
  };
  const top = `ksplice-${fields.id}`;
  const entries: TarEntry[] = [
    { path: `${top}/manifest.json`, data: Buffer.from(formatManifest(manifest)) },
    ...sorted.map((f) => ({ path: `${top}/${f.path}`, data: f.data, executable: f.executable })),
  ];
  return writeTarGz(entries);
}

export interface ReadOptions {
  /** Refuse an update built for another kernel (uname -r of the target). */
  kernelRelease?: string;
}

/** Reads and verifies an update tarball: layout, manifest, every checksum, nothing unlisted. */
export function readUpdateTarball(gz: Buffer, options: ReadOptions = {}): { manifest: UpdateManifest; files: PackedFile[] } {
  const entries = readTarGz(gz);
  const tops = new Set(entries.map((e) => e.path.split('/')[0]));
  if (tops.size !== 1)
    throw new TarballError(`not an update tarball: expected one top folder ksplice-<id>/, found ${[...tops].join(', ') || 'none'}`);
  const top = [...tops][0];
  const manifestEntry = entries.find((e) => e.path === `${top}/manifest.json`);
  if (!manifestEntry) throw new TarballError(`not an update tarball: no ${top}/manifest.json`);
  let manifest: UpdateManifest;
  try {
    manifest = JSON.parse(manifestEntry.data.toString('utf8')) as UpdateManifest;
  } catch (e) {
    throw new TarballError(`corrupt manifest.json: ${(e as Error).message}`);
  }
  if (manifest.formatVersion !== MANIFEST_FORMAT) throw new TarballError(`unsupported manifest format ${manifest.formatVersion}`);
  if (`ksplice-${manifest.id}` !== top) throw new TarballError(`manifest id '${manifest.id}' does not match folder ${top}/`);
  if (options.kernelRelease && manifest.kernelRelease !== options.kernelRelease) {
    throw new TarballError(`update ${manifest.id} is for kernel ${manifest.kernelRelease}, this kernel is ${options.kernelRelease}`);
  }
  const listed = new Map((manifest.files ?? []).map((f) => [f.path, f.sha256]));
  const files: PackedFile[] = [];
  for (const entry of entries) {
    if (entry === manifestEntry) continue;
    const rel = entry.path.slice(top.length + 1);
    const expected = listed.get(rel);
    if (!expected) throw new TarballError(`${rel} is in the tarball but not in the manifest`);
    if (sha256(entry.data) !== expected) throw new TarballError(`checksum mismatch: ${rel}`);
    listed.delete(rel);
    files.push({ path: rel, data: entry.data, executable: entry.executable });
  }
  if (listed.size > 0) throw new TarballError(`files listed in the manifest are missing: ${[...listed.keys()].join(', ')}`);
  return { manifest, files };
}
