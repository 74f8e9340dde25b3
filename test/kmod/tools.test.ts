/**
 * The target tools (kmod/tools/) on the host, under busybox sh: everything they must refuse
 * before touching the kernel (unsafe tarball entries, checksums, unlisted modules, wrong kernel
 * release) and ksplice-view over a stand-in sysfs tree (KSPLICE_SYSFS). The guest half is in
 * engine.test.ts.
 *
 * Run: bash scripts/test.sh test/kmod/tools.test.ts
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOOLS = path.join(REPO, 'kmod/tools');
const BUSYBOX = '/bin/busybox';

let work = '';
let sysfs = '';

/**
 * Runs a tool with busybox sh; sysfs is a plain directory the tools must not write to, and
 * insmod/rmmod are stand-ins that only record their calls (in `calls`): a refused tarball must
 * never reach them.
 */
function tool(name: string, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(BUSYBOX, ['sh', path.join(TOOLS, name), ...args], {
    encoding: 'utf8', env: { ...process.env, KSPLICE_SYSFS: sysfs, PATH: `${path.join(work, 'bin')}:${process.env.PATH}` },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A package directory ksplice-<id>/ with fake modules and a manifest; returns the tarball. */
async function pack(name: string, opts: { release?: string; corrupt?: boolean; extraKo?: boolean; extraObject?: boolean; listed?: Record<string, string>; updateModule?: string } = {}): Promise<string> {
  const root = path.join(work, name);
  const dir = path.join(root, 'ksplice-t1');
  await mkdir(path.join(dir, 'objects/pre/fs/proc'), { recursive: true });
  const files: Record<string, string> = { 'ksplice.ko': 'core', 'ksplice_t1.ko': 'update', 'objects/pre/fs/proc/cmdline.o': 'pre', ...opts.listed };
  for (const [f, content] of Object.entries(files)) if (!f.includes('..')) await writeFile(path.join(dir, f), content);
  if (opts.extraKo) await writeFile(path.join(dir, 'evil.ko'), 'evil');
  if (opts.extraObject) await writeFile(path.join(dir, 'objects/pre/fs/proc/extra.o'), 'not listed');
  const entries = Object.entries(files).map(([f, c]) => `    { "path": "${f}", "sha256": "${opts.corrupt ? sha(c + 'x') : sha(c)}" }`);
  await writeFile(path.join(dir, 'manifest.json'), [
    '{', '  "formatVersion": 1,', '  "id": "t1",', `  "kernelRelease": "${opts.release ?? '6.1.0-99-amd64'}",`,
    '  "coreModule": "ksplice.ko",', `  "updateModule": "${opts.updateModule ?? 'ksplice_t1.ko'}",`, '  "files": [', entries.join(',\n'), '  ]', '}', ''].join('\n'));
  const tarball = path.join(work, `${name}.tar.gz`);
  await exec('tar', ['-C', root, '-czf', tarball, 'ksplice-t1']);
  return tarball;
}

/** A tarball holding one crafted member (absolute path, "..", or a symlink). */
async function evil(name: string, member: string, kind: 'file' | 'symlink' | 'hardlink' | 'fifo' | 'device'): Promise<string> {
  const tarball = path.join(work, `${name}.tar.gz`);
  const py = `import tarfile, io, sys
t = tarfile.open(sys.argv[1], 'w:gz')
i = tarfile.TarInfo(sys.argv[2])
if sys.argv[3] == 'symlink':
    i.type = tarfile.SYMTYPE; i.linkname = '/etc/passwd'; t.addfile(i)
elif sys.argv[3] == 'hardlink':
    i.type = tarfile.LNKTYPE; i.linkname = '/etc/shadow'; t.addfile(i)
elif sys.argv[3] == 'fifo':
    i.type = tarfile.FIFOTYPE; t.addfile(i)
elif sys.argv[3] == 'device':
    i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; t.addfile(i)
else:
    i.size = 1; t.addfile(i, io.BytesIO(b'x'))
t.close()`;
  await exec('python3', ['-c', py, tarball, member, kind]);
  return tarball;
}

describe('kmod/tools on the host (busybox sh)', () => {
  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ksplice-tools-'));
    sysfs = path.join(work, 'sysfs');
    await mkdir(sysfs);
    await mkdir(path.join(work, 'bin'));
    for (const cmd of ['insmod', 'rmmod']) {
      await writeFile(path.join(work, 'bin', cmd), `#!/bin/sh\necho "${cmd} $*" >> ${path.join(work, 'calls')}\nexit 1\n`, { mode: 0o755 });
    }
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('ksplice-apply refuses absolute paths, .. and links before extracting', async () => {
    for (const [name, member, kind, why] of [
      ['abs', '/tmp/ksplice-evil-abs', 'file', /absolute path/],
      ['dotdot', 'ksplice-t1/../../ksplice-evil', 'file', /(absolute path or \.\.|path with \.\.)/],
      ['link', 'ksplice-t1/manifest.json', 'symlink', /not a plain file or directory/],
      ['hardlink', 'ksplice-t1/ksplice.ko', 'hardlink', /not a plain file or directory/],
      ['fifo', 'ksplice-t1/ksplice.ko', 'fifo', /not a plain file or directory/],
      ['device', 'ksplice-t1/ksplice.ko', 'device', /not a plain file or directory/],
    ] as const) {
      const r = tool('ksplice-apply', await evil(name, member, kind));
      assert.equal(r.status, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, why);
    }
  });

  test('ksplice-apply checks checksums, unlisted files, nested paths and the kernel release', async () => {
    let r = tool('ksplice-apply', await pack('corrupt', { corrupt: true }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /checksum mismatch/);
    r = tool('ksplice-apply', await pack('extra', { extraKo: true }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /evil\.ko is not listed in the manifest/);
    r = tool('ksplice-apply', await pack('extra-object', { extraObject: true }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /objects\/pre\/fs\/proc\/extra\.o is not listed in the manifest/);
    r = tool('ksplice-apply', await pack('dotdot-listed', { listed: { 'objects/../ksplice.ko': 'core' } }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /manifest: bad file name objects\/\.\.\/ksplice\.ko/);
    r = tool('ksplice-apply', await pack('release', { release: '6.1.0-99-amd64' }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /update t1 is for kernel 6\.1\.0-99-amd64, this kernel is /);
    r = tool('ksplice-apply', path.join(work, 'missing.tar.gz'));
    assert.equal(r.status, 1);
    r = tool('ksplice-apply');
    assert.equal(r.status, 2);
  });

  test('damaged and hostile packages are refused before anything is loaded, and leave nothing behind', async () => {
    const before = (await readdir('/tmp')).filter((f) => f.startsWith('ksplice-apply.'));
    const good = await pack('good-for-damage');
    const bytes = await readFile(good);
    const truncated = path.join(work, 'truncated.tar.gz');
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const garbage = path.join(work, 'garbage.tar.gz');
    await writeFile(garbage, Buffer.from('this is not a tarball at all\n'));
    const twoFolders = path.join(work, 'two.tar.gz');
    await mkdir(path.join(work, 'two', 'ksplice-t2'), { recursive: true });
    await exec('tar', ['-xzf', good, '-C', path.join(work, 'two')]);
    await exec('cp', [path.join(work, 'two', 'ksplice-t1', 'manifest.json'), path.join(work, 'two', 'ksplice-t2', 'manifest.json')]);
    await exec('tar', ['-C', path.join(work, 'two'), '-czf', twoFolders, 'ksplice-t1', 'ksplice-t2']);
    const moduleInFolder = await pack('module-in-folder', { listed: { 'objects/evil.ko': 'x' }, updateModule: 'objects/evil.ko' });
    for (const [tarball, why] of [
      [truncated, /not a gzip'd tar archive|tar complained|cannot list|extraction failed/],
      [garbage, /not a gzip'd tar archive/],
      [twoFolders, /expected exactly one ksplice-<id>\/manifest\.json/],
      [moduleInFolder, /module objects\/evil\.ko must sit at the top of the package/],
      [await evil('abs2', '/tmp/ksplice-evil-abs2', 'file'), /absolute path/],
    ] as [string, RegExp][]) {
      const r = tool('ksplice-apply', tarball);
      assert.equal(r.status, 1, `${path.basename(tarball)}: ${r.stderr}`);
      assert.match(r.stderr, why, path.basename(tarball));
    }
    assert.ok(!existsSync(path.join(work, 'calls')), 'insmod or rmmod was never run');
    assert.ok(!existsSync('/tmp/ksplice-evil-abs2') && !existsSync('/tmp/ksplice-evil-abs'), 'nothing written outside the private folder');
    assert.deepEqual((await readdir('/tmp')).filter((f) => f.startsWith('ksplice-apply.') && !before.includes(f)), [], 'the private folder is removed');
    assert.deepEqual(await readdir(sysfs), [], 'sysfs untouched');
  });

  test('ksplice-undo of an unknown id or a hostile one is refused with a message, touching nothing', () => {
    let r = tool('ksplice-undo', 'nosuchid');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ksplice-undo: update nosuchid is not loaded/);
    r = tool('ksplice-undo', '../../etc');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad id/);
    r = tool('ksplice-undo');
    assert.equal(r.status, 2);
    assert.ok(!existsSync(path.join(work, 'calls')), 'rmmod was never run');
  });

  test('ksplice-view lists updates and details from sysfs', async () => {
    assert.equal(tool('ksplice-view').stdout, 'No Ksplice updates installed\n');
    const d = path.join(sysfs, 'abc123');
    await mkdir(d);
    const attrs: Record<string, string> = {
      stage: 'applied\n', module: 'ksplice_abc123\n', functions: 'cmdline_proc_show 0xffffffff9140c810 ksplice_new_cmdline_proc_show [ksplice_abc123]\n',
      stop_ns: '1410680\n', stop_total_ns: '9770590\n', attempts: '1\n', abort_cause: 'none\n',
    };
    for (const [k, v] of Object.entries(attrs)) await writeFile(path.join(d, k), v);
    assert.equal(tool('ksplice-view').stdout, 'abc123 applied\n');
    const detail = tool('ksplice-view', '--id=abc123');
    assert.equal(detail.status, 0);
    assert.match(detail.stdout, /^Update: abc123\nStage: applied\nModule: ksplice_abc123\nFunctions:\n {2}cmdline_proc_show /);
    assert.match(detail.stdout, /Last stop: 1410680 ns \(stop_machine call 9770590 ns, 1 attempt\(s\)\)/);
    assert.equal(tool('ksplice-view', '--id=nope').status, 1);
    assert.equal(tool('ksplice-undo', 'nope').status, 1);
    assert.equal(tool('ksplice-undo', '../x').status, 2);
  });

  test('a symlink planted in the stand-in sysfs is never followed by ksplice-view as an update', async () => {
    // ksplice-view only lists directories; a stray file or link is ignored.
    await symlink('/etc', path.join(sysfs, 'stray-link-to-file')).catch(() => undefined);
    await writeFile(path.join(sysfs, 'stray-file'), 'x');
    const out = tool('ksplice-view').stdout;
    assert.doesNotMatch(out, /stray-file/);
  });
});
