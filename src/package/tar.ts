/**
 * The update tarball's container: a deterministic ustar writer and a strict reader.
 *
 * Deterministic: the same entries give the same bytes (entries sorted, mtime 0, owner root,
 * modes normalised to 0644/0755, gzip header without name or time), so a rebuilt update can be
 * compared byte for byte with the published one.
 *
 * Strict: the reader accepts only what the writer produces (plain files and folders with
 * relative, `..`-free names, under one top folder) and refuses everything else with a reason:
 * links, devices, pax and GNU extension headers, bad checksums, truncation, duplicates.
 *
 * Usage:
 *   const gz = writeTarGz([{ path: 'ksplice-x/manifest.json', data, executable: false }]);
 *   const entries = readTarGz(gz);   // throws TarballError
 */
import { gunzipSync, gzipSync } from 'node:zlib';

export interface TarEntry {
  /** Relative path with `/` separators; folders are implied and written before their files. */
  path: string;
  data: Buffer;
  executable?: boolean;
}

export class TarballError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarballError';
  }
}

const BLOCK = 512;
/** Unpacked size above which a tarball is refused: updates are a few MB; a gzip bomb is not. */
export const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** ustar splits a long name into prefix (155) + name (100) at a `/`. */
function splitName(name: string): { prefix: string; name: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { prefix, name: rest };
  }
  throw new TarballError(`path too long for a ustar tarball: ${name}`);
}

function header(name: string, size: number, mode: number, type: '0' | '5'): Buffer {
  const block = Buffer.alloc(BLOCK);
  const parts = splitName(name);
  block.write(parts.name, 0, 100);
  block.write(octal(mode, 8), 100);
  block.write(octal(0, 8), 108); // uid
  block.write(octal(0, 8), 116); // gid
  block.write(octal(size, 12), 124);
  block.write(octal(0, 12), 136); // mtime: fixed, for reproducible tarballs
  block.write('        ', 148); // checksum field counts as spaces while summing
  block.write(type, 156);
  block.write('ustar\0', 257);
  block.write('00', 263);
  block.write('root', 265);
  block.write('root', 297);
  block.write(parts.prefix, 345, 155);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148);
  return block;
}

function checkEntryPath(path: string): void {
  if (!isSafeRelativePath(path)) throw new TarballError(`unsafe path in tarball: '${path}'`);
}

/** Relative, non-empty components, none of them `.` or `..`, no backslashes or NULs. */
export function isSafeRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || /[\\\0]/.test(path)) return false;
  return path
    .replace(/\/$/, '')
    .split('/')
    .every((c) => c !== '' && c !== '.' && c !== '..');
}

export function writeTarGz(entries: readonly TarEntry[]): Buffer {
  const files = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const dirs = new Set<string>();
  for (const file of files) {
    checkEntryPath(file.path);
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/') + '/');
  }
  const seen = new Set<string>();
  const blocks: Buffer[] = [];
  // Every folder before the files: one sorted list of both, as `tar --sort=name` would write.
  const all = [...[...dirs].map((d) => ({ path: d, dir: true as const })), ...files.map((f) => ({ ...f, dir: false as const }))].sort(
    (a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
  for (const entry of all) {
    if (seen.has(entry.path)) throw new TarballError(`duplicate tarball entry: ${entry.path}`);
    seen.add(entry.path);
    if (entry.dir) {
      blocks.push(header(entry.path, 0, 0o755, '5'));
      continue;
    }
    blocks.push(header(entry.path, entry.data.length, entry.executable ? 0o755 : 0o644, '0'));
    blocks.push(entry.data);
    const pad = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
    if (pad) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  // Node's gzip header has no file name and mtime 0: the output depends on the input only.
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

function field(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function parseOctal(block: Buffer, offset: number, length: number, what: string, name: string): number {
  const text = field(block, offset, length).trim();
  if (!/^[0-7]+$/.test(text)) throw new TarballError(`corrupt tarball: bad ${what} field for '${name}'`);
  return Number.parseInt(text, 8);
}

function verifyChecksum(block: Buffer, name: string): void {
  const stored = parseOctal(block, 148, 8, 'checksum', name);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  if (sum !== stored) throw new TarballError(`corrupt tarball: header checksum mismatch at '${name}'`);
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'hard link',
  '2': 'symbolic link',
  '3': 'character device',
  '4': 'block device',
  '6': 'FIFO',
  x: 'pax extended header',
  g: 'pax global header',
  L: 'GNU long name',
  K: 'GNU long link name',
};

/** Plain files of a tarball written by `writeTarGz` (or any tar holding only such entries). */
export function readTarGz(gz: Buffer): TarEntry[] {
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch (e) {
    throw new TarballError(
      `not a readable gzip file (truncated, corrupt or over ${MAX_UNPACKED_BYTES} bytes unpacked): ${(e as Error).message}`,
    );
  }
  const entries: TarEntry[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > tar.length) throw new TarballError('truncated tarball: no end-of-archive marker');
    const block = tar.subarray(offset, offset + BLOCK);
    if (block.every((b) => b === 0)) break;
    const prefix = field(block, 345, 155);
    const name = prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100);
    verifyChecksum(block, name);
    const type = String.fromCharCode(block[156] || 0x30);
    if (type !== '0' && type !== '5') {
      throw new TarballError(
        `refusing tarball: '${name}' is a ${TYPE_NAMES[type] ?? `type '${type}' entry`}; only plain files and folders are allowed`,
      );
    }
    checkEntryPath(name);
    const key = name.replace(/\/$/, '');
    if (seen.has(key)) throw new TarballError(`refusing tarball: duplicate entry '${name}'`);
    seen.add(key);
    const size = parseOctal(block, 124, 12, 'size', name);
    offset += BLOCK;
    if (type === '5') continue;
    if (offset + size > tar.length) throw new TarballError(`truncated tarball: '${name}' is cut short`);
    const mode = parseOctal(block, 100, 8, 'mode', name);
    entries.push({ path: name, data: Buffer.from(tar.subarray(offset, offset + size)), executable: (mode & 0o111) !== 0 });
    offset += Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}
