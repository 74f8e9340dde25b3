/**
 * The target tools (kmod/tools/) on the host, with busybox's tar, sha256sum, sed... and stand-in
 * insmod/rmmod (test/helpers/tools-sandbox.ts: dash looks commands up in PATH, busybox sh would
 * run its own applets and never the stand-ins). Everything they must refuse before touching the
 * kernel (unsafe tarball entries, checksums, unlisted modules, wrong kernel release), proven by
 * first showing that a valid package does reach the stand-in insmod; then ksplice-view and
 * ksplice-undo over a stand-in sysfs tree (KSPLICE_SYSFS). The guest half is in engine.test.ts.
 *
 * Run: bash scripts/test.sh test/kmod/tools.test.ts
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { makeSandbox, newRunDir, outsideState, runTool, type Sandbox, type ToolRun } from '../helpers/tools-sandbox.ts';
import { scratchDir } from '../helpers/paths.ts';

const exec = promisify(execFile);

let work = '';
let sysfs = '';
let sb: Sandbox;
/** The host's release as busybox uname says it: a package made for it passes the release check. */
let hostRelease = '';

function tool(name: string, args: string[], opts: { sysfs?: string; shell?: 'dash' | 'busybox' } = {}): Promise<ToolRun> {
  return runTool(sb, name, args, { sysfs: opts.sysfs ?? sysfs, shell: opts.shell });
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

interface PackOptions {
  release?: string;
  corrupt?: boolean;
  extraKo?: boolean;
  extraObject?: boolean;
  listed?: Record<string, string>;
  updateModule?: string;
}

/** A package directory ksplice-<id>/ with fake modules and a manifest; returns the tarball. */
async function pack(name: string, opts: PackOptions = {}): Promise<string> {
  const root = path.join(work, name);
  const dir = path.join(root, 'ksplice-t1');
  await mkdir(path.join(dir, 'objects/pre/fs/proc'), { recursive: true });
  const files: Record<string, string> = {
    'ksplice.ko': 'core',
    'ksplice_t1.ko': 'update',
    'objects/pre/fs/proc/cmdline.o': 'pre',
    ...opts.listed,
  };
  for (const [f, content] of Object.entries(files)) if (!f.includes('..')) await writeFile(path.join(dir, f), content);
  if (opts.extraKo) await writeFile(path.join(dir, 'evil.ko'), 'evil');
  if (opts.extraObject) await writeFile(path.join(dir, 'objects/pre/fs/proc/extra.o'), 'not listed');
  const entries = Object.entries(files).map(([f, c]) => `    { "path": "${f}", "sha256": "${opts.corrupt ? sha(c + 'x') : sha(c)}" }`);
  await writeFile(
    path.join(dir, 'manifest.json'),
    [
      '{',
      '  "formatVersion": 1,',
      '  "id": "t1",',
      `  "kernelRelease": "${opts.release ?? hostRelease}",`,
      '  "coreModule": "ksplice.ko",',
      `  "updateModule": "${opts.updateModule ?? 'ksplice_t1.ko'}",`,
      '  "files": [',
      entries.join(',\n'),
      '  ]',
      '}',
      '',
    ].join('\n'),
  );
  const tarball = path.join(work, `${name}.tar.gz`);
  await exec('tar', ['-C', root, '-czf', tarball, 'ksplice-t1']);
  return tarball;
}

/** A crafted tar member: a file (with data), a symbolic or hard link, a fifo or a device. */
interface Member {
  name: string;
  kind: 'file' | 'symlink' | 'hardlink' | 'fifo' | 'device';
  link?: string;
  data?: string;
}

/** A tarball of crafted members, in order (python's tarfile writes whatever it is told). */
async function evil(name: string, members: Member[]): Promise<string> {
  const tarball = path.join(work, `${name}.tar.gz`);
  const py = `import tarfile, io, sys, json
t = tarfile.open(sys.argv[1], 'w:gz')
for m in json.loads(sys.argv[2]):
    i = tarfile.TarInfo(m['name'])
    k = m['kind']
    if k == 'symlink':
        i.type = tarfile.SYMTYPE; i.linkname = m['link']; t.addfile(i)
    elif k == 'hardlink':
        i.type = tarfile.LNKTYPE; i.linkname = m['link']; t.addfile(i)
    elif k == 'fifo':
        i.type = tarfile.FIFOTYPE; t.addfile(i)
    elif k == 'device':
        i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; t.addfile(i)
    else:
        d = m.get('data', 'x').encode(); i.size = len(d); t.addfile(i, io.BytesIO(d))
t.close()`;
  await exec('python3', ['-c', py, tarball, JSON.stringify(members)]);
  return tarball;
}

describe('kmod/tools on the host (busybox applets, stand-in insmod/rmmod)', () => {
  before(async () => {
    work = await scratchDir('tools');
    sysfs = path.join(work, 'sysfs');
    await mkdir(sysfs);
    sb = await makeSandbox(path.join(work, 'sandbox'));
    hostRelease = (await exec('/bin/busybox', ['uname', '-r'])).stdout.trim();
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('the check can fail: a valid package reaches the stand-in insmod with its update module, and the core when none is loaded', async () => {
    const good = await pack('good');
    let r = await tool('ksplice-apply', [good]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /ksplice-apply: cannot load update module ksplice_t1\.ko/);
    assert.equal(r.calls.length, 1, r.calls.join('\n'));
    assert.match(
      r.calls[0],
      new RegExp(`^insmod \\S+/tmp/ksplice-apply\\.\\w+/x/ksplice-t1/ksplice_t1\\.ko ${sha('update')}$`),
      'the module checked, from the private folder',
    );
    assert.deepEqual(r.leftovers, [], 'the private folder is removed after a failed load too');
    r = await tool('ksplice-apply', [good], { sysfs: path.join(work, 'no-core-loaded') });
    assert.match(r.stderr, /cannot load the ksplice core \(ksplice\.ko\)/);
    assert.match(r.calls.join('\n'), new RegExp(`^insmod \\S+/ksplice\\.ko ${sha('core')}$`));
    // and rmmod: ksplice-undo of an applied update (a plain file takes the "undo" write)
    const applied = path.join(work, 'sysfs-applied');
    await mkdir(path.join(applied, 'u1'), { recursive: true });
    for (const [k, v] of Object.entries({ stage: 'applied\n', module: 'ksplice_u1\n', stop_ns: '1\n' }))
      await writeFile(path.join(applied, 'u1', k), v);
    r = await tool('ksplice-undo', ['u1'], { sysfs: applied });
    assert.deepEqual(r.calls, ['rmmod ksplice_u1']);
    assert.match(r.stderr, /could not unload the module of u1/);
  });

  test('every hostile or damaged package is refused before any module is loaded, writing nothing outside its private folder and leaving none', async () => {
    const { outside } = sb;
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
    // from the private folder (<run>/tmp/ksplice-apply.X/x): 4 ".." reach the run's own folder, 6 the sandbox root
    const up = (n: number) => Array(n).fill('..').join('/');
    const cases: [string, string, RegExp][] = [
      ['absolute path', await evil('abs', [{ name: path.join(outside.dir, 'evil-abs'), kind: 'file' }]), /absolute path/],
      [
        '..',
        await evil('dotdot', [
          { name: `ksplice-t1/${up(4)}/evil-dotdot`, kind: 'file' },
          { name: `ksplice-t1/${up(6)}/outside/evil-dotdot`, kind: 'file' },
        ]),
        /(absolute path or \.\.|path with \.\.)/,
      ],
      [
        'symlink to a file, then a write through it',
        await evil('link', [
          { name: 'ksplice-t1/ksplice.ko', kind: 'symlink', link: outside.canary },
          { name: 'ksplice-t1/ksplice.ko', kind: 'file', data: 'evil' },
        ]),
        /not a plain file or directory/,
      ],
      [
        'symlink to a folder, then a file in it',
        await evil('dirlink', [
          { name: 'ksplice-t1/objects', kind: 'symlink', link: outside.emptyDir },
          { name: 'ksplice-t1/objects/evil', kind: 'file' },
        ]),
        /not a plain file or directory/,
      ],
      [
        'hardlink, then a write through it',
        await evil('hardlink', [
          { name: 'ksplice-t1/ksplice.ko', kind: 'hardlink', link: outside.canary },
          { name: 'ksplice-t1/ksplice.ko', kind: 'file', data: 'evil' },
        ]),
        /not a plain file or directory/,
      ],
      ['fifo', await evil('fifo', [{ name: 'ksplice-t1/ksplice.ko', kind: 'fifo' }]), /not a plain file or directory/],
      ['device', await evil('device', [{ name: 'ksplice-t1/ksplice.ko', kind: 'device' }]), /not a plain file or directory/],
      ['checksum mismatch', await pack('corrupt', { corrupt: true }), /checksum mismatch/],
      [
        'wrong kernel release',
        await pack('release', { release: '6.1.0-99-amd64' }),
        /update t1 is for kernel 6\.1\.0-99-amd64, this kernel is /,
      ],
      ['truncated', truncated, /not a gzip'd tar archive|tar complained|cannot list|extraction failed/],
      ['not gzip', garbage, /not a gzip'd tar archive/],
      ['unlisted module', await pack('extra', { extraKo: true }), /evil\.ko is not listed in the manifest/],
      [
        'update module not in the file list',
        await pack('unlisted-update', { updateModule: 'ksplice_t9.ko' }),
        /manifest: module ksplice_t9\.ko not listed/,
      ],
      [
        'unlisted object',
        await pack('extra-object', { extraObject: true }),
        /objects\/pre\/fs\/proc\/extra\.o is not listed in the manifest/,
      ],
      [
        '.. in a listed path',
        await pack('dotdot-listed', { listed: { 'objects/../ksplice.ko': 'core' } }),
        /manifest: bad file name objects\/\.\.\/ksplice\.ko/,
      ],
      ['two top folders', twoFolders, /expected exactly one ksplice-<id>\/manifest\.json/],
      [
        'module in a sub-folder',
        await pack('module-in-folder', { listed: { 'objects/evil.ko': 'x' }, updateModule: 'objects/evil.ko' }),
        /module objects\/evil\.ko must sit at the top of the package/,
      ],
    ];
    const outsideBefore = await outsideState(sb);
    const systemTmpBefore = (await readdir('/tmp')).filter((f) => f.startsWith('ksplice-apply.'));
    for (const [what, tarball, why] of cases) {
      const r = await tool('ksplice-apply', [tarball]);
      assert.equal(r.status, 1, `${what}: ${r.stderr}`);
      assert.match(r.stderr, why, what);
      assert.deepEqual(r.calls, [], `${what}: insmod or rmmod was run`);
      assert.deepEqual(r.leftovers, [], `${what}: left behind in its run folder (a write through .. or a private folder not removed)`);
      assert.equal(await outsideState(sb), outsideBefore, `${what}: wrote outside (canary, its folder, the .. and absolute targets)`);
      // the same refusal under the guest's own shell (where the stand-ins cannot be seen)
      const bb = await tool('ksplice-apply', [tarball], { shell: 'busybox' });
      assert.equal(bb.status, 1, `${what} under busybox sh: ${bb.stderr}`);
      assert.match(bb.stderr, why, `${what} under busybox sh`);
      assert.deepEqual(bb.leftovers, [], `${what} under busybox sh: left behind`);
    }
    assert.equal(await readFile(outside.canary, 'utf8'), 'canary\n');
    assert.deepEqual(await readdir(outside.emptyDir), []);
    assert.ok(!existsSync(path.join(outside.dir, 'evil-abs')) && !existsSync(path.join(outside.dir, 'evil-dotdot')));
    assert.deepEqual(
      (await readdir('/tmp')).filter((f) => f.startsWith('ksplice-apply.') && !systemTmpBefore.includes(f)),
      [],
      'nothing in /tmp: TMPDIR was used',
    );
    assert.deepEqual(await readdir(sysfs), [], 'sysfs untouched');
  });

  test('the outside checks can fail: extracted naively (python tarfile, no filter) where the private folder would be, the .. and symlink tarballs do write outside', async () => {
    const before = await outsideState(sb);
    const run = await newRunDir(sb);
    const x = path.join(run.tmp, 'ksplice-apply.naive', 'x');
    await mkdir(path.join(x, 'ksplice-t1'), { recursive: true }); // the members' ".." start from ksplice-t1/
    const py = 'import tarfile, sys\nfor t in sys.argv[2:]:\n    tarfile.open(t).extractall(sys.argv[1])';
    await exec('python3', ['-c', py, x, path.join(work, 'dotdot.tar.gz'), path.join(work, 'dirlink.tar.gz')]);
    const after = await outsideState(sb);
    assert.notEqual(after, before);
    assert.match(after, /^evil-dotdot [0-9a-f]{64}$/m, 'the 6-.. member landed in outside/');
    assert.match(after, /^empty\/evil [0-9a-f]{64}$/m, 'the file under the linked folder landed in outside/empty');
    await rm(path.join(sb.outside.dir, 'evil-dotdot'));
    await rm(path.join(sb.outside.emptyDir, 'evil'));
    await rm(run.dir, { recursive: true });
    assert.equal(await outsideState(sb), before);
  });

  test('ksplice-apply refuses usage errors and a missing file', async () => {
    let r = await tool('ksplice-apply', [path.join(work, 'missing.tar.gz')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no such file/);
    r = await tool('ksplice-apply', []);
    assert.equal(r.status, 2);
    assert.deepEqual(r.calls, []);
  });

  test('ksplice-apply never writes "apply" through a symlink planted where the update would be', async () => {
    const linked = path.join(work, 'sysfs-linked');
    await mkdir(linked);
    await symlink(sb.outside.emptyDir, path.join(linked, 't1'));
    const r = await tool('ksplice-apply', [await pack('good-linked')], { sysfs: linked });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /t1 is a symlink, not an update of the core/);
    assert.deepEqual(r.calls, []);
    assert.deepEqual(await readdir(sb.outside.emptyDir), [], 'no stage file written through the link');
  });

  test('ksplice-undo of an unknown id or a hostile one is refused with a message, touching nothing', async () => {
    let r = await tool('ksplice-undo', ['nosuchid']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ksplice-undo: update nosuchid is not loaded/);
    assert.deepEqual(r.calls, []);
    r = await tool('ksplice-undo', ['../../etc']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad id/);
    assert.deepEqual(r.calls, []);
    r = await tool('ksplice-undo', []);
    assert.equal(r.status, 2);
    assert.deepEqual(r.calls, []);
  });

  test('ksplice-view lists updates and details from sysfs', async () => {
    assert.equal((await tool('ksplice-view', [])).stdout, 'No Ksplice updates installed\n');
    const d = path.join(sysfs, 'abc123');
    await mkdir(d);
    const attrs: Record<string, string> = {
      stage: 'applied\n',
      module: 'ksplice_abc123\n',
      functions: 'cmdline_proc_show 0xffffffff9140c810 ksplice_new_cmdline_proc_show [ksplice_abc123]\n',
      stop_ns: '1410680\n',
      stop_total_ns: '9770590\n',
      attempts: '1\n',
      abort_cause: 'none\n',
    };
    for (const [k, v] of Object.entries(attrs)) await writeFile(path.join(d, k), v);
    assert.equal((await tool('ksplice-view', [])).stdout, 'abc123 applied\n');
    assert.equal((await tool('ksplice-view', [], { shell: 'busybox' })).stdout, 'abc123 applied\n');
    const detail = await tool('ksplice-view', ['--id=abc123']);
    assert.equal(detail.status, 0);
    assert.match(
      detail.stdout,
      /^Update: abc123\nStage: applied\nModule: ksplice_abc123\nPersistent: no\nFunctions:\n {2}cmdline_proc_show /,
    );
    assert.match(detail.stdout, /Last stop: 1410680 ns \(stop_machine call 9770590 ns, 1 attempt\(s\)\)/);
    assert.equal((await tool('ksplice-view', ['--id=nope'])).status, 1);
    const hostile = await tool('ksplice-view', ['--id=../../etc']);
    assert.equal(hostile.status, 2);
    assert.match(hostile.stderr, /bad id/);
    assert.equal((await tool('ksplice-undo', ['nope'])).status, 1);
    assert.equal((await tool('ksplice-undo', ['../x'])).status, 2);
  });

  test('a symlink planted in the stand-in sysfs, even to a directory (/etc), is never followed or listed', async () => {
    const planted = path.join(work, 'sysfs-planted');
    await mkdir(planted);
    await symlink('/etc', path.join(planted, 'stray-link-to-dir'));
    await writeFile(path.join(planted, 'stray-file'), 'x');
    for (const shell of ['dash', 'busybox'] as const) {
      const list = await tool('ksplice-view', [], { sysfs: planted, shell });
      assert.equal(list.stdout, 'No Ksplice updates installed\n', `${shell}: ${list.stdout}${list.stderr}`);
      assert.equal(list.stderr, '', 'nothing read through the link (no cat of /etc/stage)');
      const detail = await tool('ksplice-view', ['--id=stray-link-to-dir'], { sysfs: planted, shell });
      assert.equal(detail.status, 1);
      assert.match(detail.stderr, /update stray-link-to-dir is not loaded/);
      assert.equal(detail.stdout, '');
      const undo = await tool('ksplice-undo', ['stray-link-to-dir'], { sysfs: planted, shell });
      assert.equal(undo.status, 1);
      assert.match(undo.stderr, /update stray-link-to-dir is not loaded/);
      assert.deepEqual(undo.calls, []);
    }
  });

  test('the sandbox run folder sees what a tool leaves behind (the leftover check can fail)', async () => {
    const run = await newRunDir(sb);
    await writeFile(path.join(run.tmp, 'ksplice-apply.left'), '');
    const r = await runTool(sb, 'ksplice-view', [], { sysfs, runDir: run });
    assert.deepEqual(r.leftovers, ['tmp/ksplice-apply.left']);
  });
});
