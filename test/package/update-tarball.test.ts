// The update tarball: deterministic bytes, readable by GNU tar and busybox, and hostile or broken
// tarballs (made with the real GNU tar where possible) refused with a reason.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { readTarGz, TarballError, writeTarGz } from '../../src/package/tar.ts';
import {
  readUpdateTarball,
  updateIdFor,
  writeUpdateTarball,
  type ManifestFields,
  type PackedFile,
} from '../../src/package/update-tarball.ts';
import { run } from '../../src/util/exec.ts';
import { scratchDir } from '../helpers/paths.ts';

let scratch: string;
before(async () => {
  scratch = await scratchDir('tar');
});
after(() => rm(scratch, { recursive: true, force: true }));

const fields: ManifestFields = {
  id: 'abc123xy',
  kernelRelease: '6.1.0-50-amd64',
  sourceVersion: '6.1.176-1',
  toolchain: { cc: 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0', as: 24000, ld: 24000 },
  description: 'test update',
  patch: 'printk.patch',
  coreModule: 'ksplice.ko',
  updateModule: 'ksplice_abc123xy.ko',
  changed: [{ object: 'kernel/printk/printk.o', function: '_printk', address: 'ffffffff81b4c6a8' }],
  new: [],
};
const files: PackedFile[] = [
  { path: 'printk.patch', data: Buffer.from('--- a/x\n+++ b/x\n') },
  { path: 'objects/pre/kernel/printk/printk.o', data: Buffer.alloc(3000, 7) },
  { path: 'objects/post/kernel/printk/printk.o', data: Buffer.alloc(3001, 8) },
  { path: 'bin/ksplice-apply', data: Buffer.from('#!/bin/sh\necho hi\n'), executable: true },
];

async function tarball(name: string, data: Buffer): Promise<string> {
  const file = path.join(scratch, name);
  await writeFile(file, data);
  return file;
}

test('the same inputs give byte-identical tarballs, whatever the order given', () => {
  const a = writeUpdateTarball(fields, files);
  const b = writeUpdateTarball(fields, [...files].reverse());
  assert.ok(a.equals(b));
  assert.notEqual(updateIdFor('x', 'y'), updateIdFor('x', 'z'));
  assert.match(updateIdFor('patch text', '6.1.0-50-amd64'), /^[a-z0-9]{8}$/);
});

test('GNU tar lists it sorted, owned by root, mtime 0, modes kept', async () => {
  const file = await tarball('ok.tar.gz', writeUpdateTarball(fields, files));
  const listing = await run('tar', ['--numeric-owner', '--full-time', '-tvzf', file]);
  const names = listing
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/).pop()!);
  assert.deepEqual(names, [...names].sort());
  assert.ok(names.includes('ksplice-abc123xy/manifest.json'));
  assert.match(listing, /^-rwxr-xr-x 0\/0\s+\d+ 1970-01-01 00:00:00 ksplice-abc123xy\/bin\/ksplice-apply$/m);
  assert.match(listing, /^drwxr-xr-x 0\/0\s+0 1970-01-01 00:00:00 ksplice-abc123xy\/objects\/$/m);
});

test('busybox tar extracts it, and the manifest checksums verify with sha256sum', async () => {
  const file = await tarball('bb.tar.gz', writeUpdateTarball(fields, files));
  const dest = path.join(scratch, 'bb');
  await mkdir(dest);
  await run('busybox', ['tar', '-xzf', file, '-C', dest]);
  const manifest = await readFile(path.join(dest, 'ksplice-abc123xy/manifest.json'), 'utf8');
  // The busybox tools read files entries line by line: one entry per line, path then sha256.
  const sums = [...manifest.matchAll(/^\s*\{"path": "([^"]+)", "sha256": "([0-9a-f]{64})"\}/gm)].map((m) => `${m[2]}  ${m[1]}`);
  assert.equal(sums.length, files.length);
  await run('sha256sum', ['-c', '-'], { cwd: path.join(dest, 'ksplice-abc123xy'), input: sums.join('\n') + '\n' });
});

test('reading back checks the manifest and every file', () => {
  const { manifest, files: read } = readUpdateTarball(writeUpdateTarball(fields, files), { kernelRelease: '6.1.0-50-amd64' });
  assert.equal(manifest.id, 'abc123xy');
  assert.deepEqual(read.map((f) => f.path).sort(), files.map((f) => f.path).sort());
  assert.equal(read.find((f) => f.path === 'bin/ksplice-apply')?.executable, true);
  assert.throws(
    () => readUpdateTarball(writeUpdateTarball(fields, files), { kernelRelease: '6.1.0-49-amd64' }),
    /is for kernel 6\.1\.0-50-amd64, this kernel is 6\.1\.0-49-amd64/,
  );
});

test('a file changed after packing is a checksum mismatch; an unlisted one is refused', () => {
  const entries = readTarGz(writeUpdateTarball(fields, files));
  const tampered = entries.map((e) => (e.path.endsWith('pre/kernel/printk/printk.o') ? { ...e, data: Buffer.alloc(3000, 9) } : e));
  assert.throws(() => readUpdateTarball(writeTarGz(tampered)), /checksum mismatch: objects\/pre\/kernel\/printk\/printk\.o/);
  const extra = [...entries, { path: 'ksplice-abc123xy/evil.ko', data: Buffer.from('x') }];
  assert.throws(() => readUpdateTarball(writeTarGz(extra)), /evil\.ko is in the tarball but not in the manifest/);
});

test('hostile tarballs made by GNU tar are refused: symlink, absolute path, .. path', async () => {
  const src = path.join(scratch, 'hostile');
  await mkdir(path.join(src, 'ksplice-x'), { recursive: true });
  await writeFile(path.join(src, 'ksplice-x/manifest.json'), '{}');
  await symlink('/etc/passwd', path.join(src, 'ksplice-x/link'));
  const withLink = path.join(scratch, 'link.tar.gz');
  await run('tar', ['-czf', withLink, '-C', src, 'ksplice-x']);
  assert.throws(() => readTarGz(readFileSync(withLink)), /'ksplice-x\/link' is a symbolic link/);

  const absolute = path.join(scratch, 'abs.tar.gz');
  await run('tar', ['-czf', absolute, '--absolute-names', path.join(src, 'ksplice-x/manifest.json')]);
  assert.throws(() => readTarGz(readFileSync(absolute)), /unsafe path in tarball: '\//);

  const dotdot = path.join(scratch, 'dotdot.tar.gz');
  await run('tar', ['-czf', dotdot, '-C', src, '--transform=s,^ksplice-x,../../etc,', 'ksplice-x/manifest.json']);
  assert.throws(() => readTarGz(readFileSync(dotdot)), /unsafe path in tarball: '\.\.\/\.\.\/etc\/manifest\.json'/);
});

test('truncated, corrupt and non-gzip input is refused with a reason', () => {
  const good = writeUpdateTarball(fields, files);
  assert.throws(() => readTarGz(good.subarray(0, good.length - 20)), TarballError);
  assert.throws(() => readTarGz(Buffer.from('not a tarball')), /not a readable gzip file/);
  const raw = Buffer.from(gzipSync(Buffer.alloc(0)));
  assert.throws(() => readTarGz(raw), /truncated tarball: no end-of-archive marker/);
  // Flip one byte of the first header's name: its checksum no longer matches.
  const tar = Buffer.from(gunzipSync(good));
  tar[3] ^= 0x20;
  assert.throws(() => readTarGz(gzipSync(tar)), /header checksum mismatch/);
  // Cut inside a file's data.
  assert.throws(() => readTarGz(gzipSync(tar.subarray(0, 512 * 4 + 100))), TarballError);
});
