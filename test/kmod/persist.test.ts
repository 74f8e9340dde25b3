/**
 * Hosts keep their updates: `ksplice-apply --persist` stores an update for the next boot of the
 * same kernel release, `ksplice-apply --restore` (the ExecStart of
 * kmod/tools/systemd/ksplice-restore.service) applies the stored ones in order, `ksplice-undo`
 * forgets, `ksplice-view` shows which are persistent.
 *
 * On the host (no guest): the tools under dash with busybox's applets (test/helpers/tools-sandbox.ts)
 * and stand-in insmod/rmmod that play the engine on a folder standing in for /sys/kernel/ksplice:
 * insmod of ksplice.ko makes the folder, insmod of ksplice_<id>.ko makes <id>/ (its stage a folder,
 * so the "apply" write fails, when the fake module's content says fail), rmmod takes them away.
 * The store layout, undo forgetting, restore order and its stop at the first failure, and hostile
 * store content (refused before any insmod). The unit file: systemd-analyze verify.
 *
 * In the guest: Debian's 6.1.0-50 under QEMU/TCG, one ext4 image attached as /dev/vda to three
 * consecutive boots of the same kernel, mounted on /var (test/fixtures/kmod/scenario-persist-boot*.sh):
 * boot 1 applies cmdline1 and cmdline2 (stacked) with --persist; boot 2 runs the unit's ExecStart
 * and finds both back, in order, then undoes them; boot 3 restores nothing, then stops at a
 * corrupted update in a hand-made store. A store of another release on the disk is ignored.
 *
 * Run: bash scripts/test.sh test/kmod/persist.test.ts   (about 4 min on 2 cores: three updates built, three boots)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { runScenario } from '../helpers/guest-scenario.ts';
import { fixture, corpusPatch, REPO, scratchDir } from '../helpers/paths.ts';
import { createTestUpdate, flipPreByte, tamperUpdate, type TestUpdate } from '../helpers/test-updates.ts';
import { makeSandbox, runTool, TOOLS_DIR, type Sandbox, type ToolRun } from '../helpers/tools-sandbox.ts';

const exec = promisify(execFile);
const UNIT = path.join(REPO, 'kmod/tools/systemd/ksplice-restore.service');
const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** insmod/rmmod standing in for the engine (see the header); every call recorded as in tools-sandbox. */
const FAKE_INSMOD = `#!/usr/bin/dash
echo "insmod \${1##*/}" >> "$KSPLICE_STANDIN_CALLS"
case "\${1##*/}" in
ksplice.ko) mkdir "$KSPLICE_SYSFS" ;;
ksplice_*.ko)
	id=\${1##*/ksplice_}; id=\${id%.ko}; d=$KSPLICE_SYSFS/$id
	mkdir "$d" || exit 1
	echo "ksplice_$id" > "$d/module"; echo 1 > "$d/stop_ns"; : > "$d/conflicts"
	if grep -q fail "$1"; then mkdir "$d/stage"; echo "no_match: fake engine refused $id" > "$d/abort_cause"
	else echo loaded > "$d/stage"; echo none > "$d/abort_cause"; fi ;;
*) exit 1 ;;
esac
`;
const FAKE_RMMOD = `#!/usr/bin/dash
echo "rmmod $*" >> "$KSPLICE_STANDIN_CALLS"
case "$1" in
ksplice) rmdir "$KSPLICE_SYSFS" 2>/dev/null ;;
ksplice_*) rm -rf "$KSPLICE_SYSFS/\${1#ksplice_}" ;;
*) exit 1 ;;
esac
`;

describe('persistence on the host (busybox applets, a stand-in engine)', () => {
  let work = '';
  let sb: Sandbox;
  let release = '';
  let n = 0;

  /** A fresh stand-in sysfs (not there: no core loaded, as after a boot) and store for one story. */
  async function host(): Promise<{ sysfs: string; store: string; releaseStore: string }> {
    const dir = path.join(work, `host-${++n}`);
    await mkdir(dir);
    const store = path.join(dir, 'store');
    return { sysfs: path.join(dir, 'sysfs'), store, releaseStore: path.join(store, release) };
  }

  function tool(name: string, args: string[], h: { sysfs: string; store: string }, shell?: 'dash' | 'busybox'): Promise<ToolRun> {
    return runTool(sb, name, args, { sysfs: h.sysfs, store: h.store, shell });
  }

  /** What the engine does to the stage after a successful write: the stand-in's plain file keeps the word written. */
  async function settle(sysfs: string): Promise<void> {
    for (const id of existsSync(sysfs) ? await readdir(sysfs) : []) {
      const stage = path.join(sysfs, id, 'stage');
      if ((await stat(stage)).isFile()) {
        const word = (await readFile(stage, 'utf8')).trim();
        await writeFile(stage, word === 'apply' ? 'applied\n' : word === 'undo' ? 'reversed\n' : `${word}\n`);
      }
    }
  }

  /** A package of update `id` for `forRelease` whose fake update module applies, or fails when `fail`. */
  async function pack(id: string, opts: { fail?: boolean; forRelease?: string; corrupt?: boolean } = {}): Promise<string> {
    const root = path.join(work, 'packs', `${id}-${++n}`);
    const dir = path.join(root, `ksplice-${id}`);
    await mkdir(dir, { recursive: true });
    const files: Record<string, string> = { 'ksplice.ko': 'core', [`ksplice_${id}.ko`]: opts.fail ? 'fail' : 'ok' };
    for (const [f, c] of Object.entries(files)) await writeFile(path.join(dir, f), c);
    const entries = Object.entries(files).map(([f, c]) => `    { "path": "${f}", "sha256": "${sha(opts.corrupt ? c + 'x' : c)}" }`);
    const manifest = [
      '{',
      '  "formatVersion": 1,',
      `  "id": "${id}",`,
      `  "kernelRelease": "${opts.forRelease ?? release}",`,
      '  "coreModule": "ksplice.ko",',
      `  "updateModule": "ksplice_${id}.ko",`,
      '  "files": [',
      entries.join(',\n'),
      '  ]',
      '}',
      '',
    ];
    await writeFile(path.join(dir, 'manifest.json'), manifest.join('\n'));
    const tarball = path.join(root, `ksplice-${id}.tar.gz`);
    await exec('tar', ['-C', root, '-czf', tarball, `ksplice-${id}`]);
    return tarball;
  }

  /** Puts `tarball` in the store by hand, as entry `name`. */
  async function storeAs(releaseStore: string, name: string, tarball: string): Promise<void> {
    await mkdir(releaseStore, { recursive: true });
    await copyFile(tarball, path.join(releaseStore, name));
  }

  const list = async (dir: string): Promise<string[]> => (existsSync(dir) ? (await readdir(dir)).sort() : []);

  before(async () => {
    work = await scratchDir('persist');
    sb = await makeSandbox(path.join(work, 'sandbox'));
    await writeFile(path.join(sb.bin, 'insmod'), FAKE_INSMOD, { mode: 0o755 });
    await writeFile(path.join(sb.bin, 'rmmod'), FAKE_RMMOD, { mode: 0o755 });
    await symlink('/bin/busybox', path.join(sb.bin, 'rmdir'));
    release = (await exec('/bin/busybox', ['uname', '-r'])).stdout.trim();
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('--persist stores the verified bytes after the apply succeeded, numbered in apply order; a plain apply stores nothing', async () => {
    const h = await host();
    const zz = await pack('zz');
    let r = await tool('ksplice-apply', ['--persist', zz], h);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, ['insmod ksplice.ko', 'insmod ksplice_zz.ko'], 'the core, then the update: really applied');
    assert.match(r.stdout, /^Ksplice update zz applied successfully \(machine stopped 1 ns\)\n/);
    assert.match(r.stdout, new RegExp(`Ksplice update zz stored: re-applied at boot as \\S+/store/${release}/000001-zz\\.tar\\.gz\\n$`));
    await settle(h.sysfs);
    // "aa" sorts before "zz": the number, not the id, gives the order
    r = await tool('ksplice-apply', ['--persist', await pack('aa')], h);
    assert.equal(r.status, 0, r.stderr);
    r = await tool('ksplice-apply', [await pack('plain')], h);
    assert.equal(r.status, 0, r.stderr);
    await settle(h.sysfs);
    assert.deepEqual(await list(h.store), [release], 'one folder per kernel release');
    assert.deepEqual(
      await list(h.releaseStore),
      ['000001-zz.tar.gz', '000002-aa.tar.gz'],
      'no staging file left, the plain apply not stored',
    );
    assert.deepEqual(await readFile(path.join(h.releaseStore, '000001-zz.tar.gz')), await readFile(zz), 'the tarball as given');
    assert.equal((await stat(path.join(h.releaseStore, '000001-zz.tar.gz'))).mode & 0o777, 0o600);
    assert.equal((await stat(h.releaseStore)).mode & 0o777, 0o700);
    assert.equal((await tool('ksplice-view', [], h)).stdout, 'aa applied persistent\nplain applied\nzz applied persistent\n');
    const detail = await tool('ksplice-view', ['--id=zz'], h);
    assert.match(detail.stdout, new RegExp(`^Persistent: yes \\(\\S+/${release}/000001-zz\\.tar\\.gz\\)$`, 'm'));
    assert.match((await tool('ksplice-view', ['--id=plain'], h)).stdout, /^Persistent: no$/m);
  });

  test('--persist of an update that fails to apply, or is refused, or is for another kernel, stores nothing', async () => {
    const h = await host();
    const cases: [string, string, RegExp][] = [
      ['engine refuses', await pack('bad', { fail: true }), /error applying update bad: no_match: fake engine refused bad/],
      ['checksum', await pack('sum', { corrupt: true }), /checksum mismatch in \S+ksplice-sum\.tar\.gz/],
      ['release', await pack('rel', { forRelease: '6.1.0-99-amd64' }), /update rel is for kernel 6\.1\.0-99-amd64, this kernel is /],
      ['missing', path.join(work, 'missing.tar.gz'), /missing\.tar\.gz: no such file/],
    ];
    for (const [what, tarball, why] of cases) {
      const r = await tool('ksplice-apply', ['--persist', tarball], h);
      assert.equal(r.status, 1, `${what}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, why, what);
      assert.deepEqual(await list(h.releaseStore), [], `${what}: nothing stored, no staging file left`);
      assert.deepEqual(r.leftovers, [], what);
    }
    assert.ok(!existsSync(path.join(h.sysfs, 'bad')), 'the refused update was unloaded');
    assert.ok(!existsSync(h.sysfs), 'and the core this run loaded');
  });

  test('ksplice-undo forgets; --forget only forgets; an update stored but not loaded is pointed at --forget', async () => {
    const h = await host();
    for (const id of ['u1', 'u2', 'u3']) {
      assert.equal((await tool('ksplice-apply', ['--persist', await pack(id)], h)).status, 0);
      await settle(h.sysfs);
    }
    let r = await tool('ksplice-undo', ['u2'], h);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Ksplice update u2 reversed successfully.*\nKsplice update u2 forgotten: no longer re-applied at boot\n$/);
    assert.deepEqual(r.calls, ['rmmod ksplice_u2']);
    assert.deepEqual(await list(h.releaseStore), ['000001-u1.tar.gz', '000003-u3.tar.gz']);
    // a plain apply of u2 again is not stored; --persist puts it after the others
    await settle(h.sysfs);
    r = await tool('ksplice-apply', ['--persist', await pack('u2')], h);
    assert.equal(r.status, 0, r.stderr);
    await settle(h.sysfs);
    assert.deepEqual(await list(h.releaseStore), ['000001-u1.tar.gz', '000003-u3.tar.gz', '000004-u2.tar.gz']);
    // gone from the kernel (as if a restore had failed at it), still stored
    await rm(path.join(h.sysfs, 'u3'), { recursive: true });
    r = await tool('ksplice-undo', ['u3'], h);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /update u3 is not loaded\nksplice-undo: it is stored for boot; ksplice-undo --forget u3 removes it from the store/,
    );
    assert.equal((await tool('ksplice-view', [], h)).stdout, 'u1 applied persistent\nu2 applied persistent\nu3 stored, not loaded\n');
    assert.match((await tool('ksplice-view', ['--id=u3'], h)).stderr, /it is stored for boot as \S+000003-u3\.tar\.gz/);
    r = await tool('ksplice-undo', ['--forget', 'u3'], h);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, [], 'the kernel not touched');
    assert.equal(r.stdout, 'Ksplice update u3 forgotten: no longer re-applied at boot\n');
    r = await tool('ksplice-undo', ['--forget', 'u3'], h);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /update u3 is not stored in /);
    assert.equal((await tool('ksplice-undo', ['--forget', '../x'], h)).status, 2);
    assert.equal((await tool('ksplice-undo', ['--forget'], h)).status, 2);
    // a refused undo forgets nothing: in the guest (out_of_order), a plain file here cannot refuse the write
  });

  test("--restore applies the running release's store in stored order, ignores other releases with a line, and is harmless twice", async () => {
    const h = await host();
    await storeAs(h.releaseStore, '000001-zz.tar.gz', await pack('zz'));
    await storeAs(h.releaseStore, '000002-aa.tar.gz', await pack('aa'));
    await storeAs(h.releaseStore, '000010-mm.tar.gz', await pack('mm'));
    // another release's store, with an update that would apply here: never looked at
    await storeAs(path.join(h.store, '6.1.0-99-amd64'), '000001-other.tar.gz', await pack('other'));
    await writeFile(path.join(h.releaseStore, '.staged.123'), 'an interrupted --persist');
    let r = await tool('ksplice-apply', ['--restore'], h);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, ['insmod ksplice.ko', 'insmod ksplice_zz.ko', 'insmod ksplice_aa.ko', 'insmod ksplice_mm.ko']);
    assert.match(r.stdout, /^Ignoring 1 stored Ksplice update\(s\) of kernel 6\.1\.0-99-amd64 \(this kernel is \S+\)\n/);
    assert.match(r.stdout, /Restored 3 Ksplice update\(s\) for kernel \S+\n$/);
    assert.deepEqual(r.leftovers, []);
    await settle(h.sysfs);
    r = await tool('ksplice-apply', ['--restore'], h);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, []);
    assert.match(
      r.stdout,
      /Ksplice update zz is already applied\nKsplice update aa is already applied\nKsplice update mm is already applied\nRestored 0/,
    );
    // nothing stored at all: said, not an error
    const empty = await host();
    r = await tool('ksplice-apply', ['--restore'], empty);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `No stored Ksplice updates for kernel ${release}\n`);
    for (const args of [['--restore', 'x'], ['--persist'], ['--bogus'], []])
      assert.equal((await tool('ksplice-apply', args, empty)).status, 2);
  });

  test('--restore stops at the first update that fails, unloading it (and the core it loaded), applying none after it', async () => {
    const h = await host();
    await storeAs(h.releaseStore, '000001-p1.tar.gz', await pack('p1'));
    await storeAs(h.releaseStore, '000002-p2.tar.gz', await pack('p2', { fail: true }));
    await storeAs(h.releaseStore, '000003-p3.tar.gz', await pack('p3'));
    let r = await tool('ksplice-apply', ['--restore'], h);
    assert.equal(r.status, 1);
    // the core stays: p1's run loaded it, and p1 is applied
    assert.deepEqual(r.calls, ['insmod ksplice.ko', 'insmod ksplice_p1.ko', 'insmod ksplice_p2.ko', 'rmmod ksplice_p2']);
    assert.match(r.stderr, /error applying update p2: no_match: fake engine refused p2\n/);
    assert.match(
      r.stderr,
      /restore stopped at 000002-p2\.tar\.gz \(2 of 3\): it and the updates after it are not applied, the 1 before it are\n$/,
    );
    assert.deepEqual(await list(h.sysfs), ['p1'], 'p1 applied; nothing of p2 or p3');
    assert.deepEqual(await list(h.releaseStore), ['000001-p1.tar.gz', '000002-p2.tar.gz', '000003-p3.tar.gz'], 'the store kept');
    // the first one fails: the core this run loaded goes too
    const first = await host();
    await storeAs(first.releaseStore, '000001-p2.tar.gz', await pack('p2', { fail: true }));
    await storeAs(first.releaseStore, '000002-p1.tar.gz', await pack('p1'));
    r = await tool('ksplice-apply', ['--restore'], first);
    assert.equal(r.status, 1);
    assert.deepEqual(r.calls, ['insmod ksplice.ko', 'insmod ksplice_p2.ko', 'rmmod ksplice_p2', 'rmmod ksplice']);
    assert.ok(!existsSync(first.sysfs), 'nothing left loaded');
  });

  test('hostile store content is refused before any module is loaded, under dash and busybox sh', async () => {
    const good = await pack('h1');
    const evilDir = path.join(work, 'evil');
    await mkdir(evilDir);
    const dotdot = path.join(evilDir, 'dotdot.tar.gz');
    await exec('python3', [
      '-c',
      "import tarfile, io, sys\nt = tarfile.open(sys.argv[1], 'w:gz')\ni = tarfile.TarInfo('ksplice-h1/../../../evil')\ni.size = 1\nt.addfile(i, io.BytesIO(b'x'))\nt.close()",
      dotdot,
    ]);
    const cases: [string, (releaseStore: string) => Promise<void>, RegExp][] = [
      [
        'checksum mismatch',
        (s) => storeAs(s, '000001-h1.tar.gz', path.join(work, 'corrupt.tar.gz')),
        /checksum mismatch in stored update \S+000001-h1\.tar\.gz/,
      ],
      ['.. member', (s) => storeAs(s, '000001-h1.tar.gz', dotdot), /refusing stored update \S+: (absolute path or \.\.|path with \.\.)/],
      [
        'name and content disagree',
        (s) => storeAs(s, '000001-other.tar.gz', good),
        /refusing stored update \S+000001-other\.tar\.gz: it holds update h1, not other/,
      ],
      [
        'symlink in the store',
        async (s) => {
          await mkdir(s, { recursive: true });
          await symlink(good, path.join(s, '000001-h1.tar.gz'));
        },
        /not a plain file; restore stopped at 000001-h1\.tar\.gz \(1 of 1\)/,
      ],
      ['bad id in the name', (s) => storeAs(s, '000001-a;b.tar.gz', good), /bad stored name; restore stopped at 000001-a;b\.tar\.gz/],
      [
        'another release inside',
        (s) => storeAs(s, '000001-h1.tar.gz', path.join(work, 'release.tar.gz')),
        /update h1 is for kernel 6\.1\.0-99-amd64, this kernel is /,
      ],
    ];
    await copyFile(await pack('h1', { corrupt: true }), path.join(work, 'corrupt.tar.gz'));
    await copyFile(await pack('h1', { forRelease: '6.1.0-99-amd64' }), path.join(work, 'release.tar.gz'));
    for (const [what, plant, why] of cases) {
      for (const shell of ['dash', 'busybox'] as const) {
        const h = await host();
        await plant(h.releaseStore);
        const before = await list(h.releaseStore);
        const r = await tool('ksplice-apply', ['--restore'], h, shell);
        assert.equal(r.status, 1, `${what} (${shell}): ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, why, `${what} (${shell})`);
        assert.match(r.stderr, /restore stopped at /, `${what} (${shell})`);
        assert.deepEqual(r.calls, [], `${what} (${shell}): a module was loaded`);
        assert.ok(!existsSync(h.sysfs), `${what} (${shell}): the stand-in sysfs was made`);
        assert.deepEqual(r.leftovers, [], `${what} (${shell})`);
        assert.deepEqual(await list(h.releaseStore), before, `${what} (${shell}): the store is left as it was`);
      }
    }
    // the check can fail: the good package planted the same way is applied
    const h = await host();
    await storeAs(h.releaseStore, '000001-h1.tar.gz', good);
    const r = await tool('ksplice-apply', ['--restore'], h);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, ['insmod ksplice.ko', 'insmod ksplice_h1.ko']);
  });

  test('the systemd unit: early (no default dependencies), after the local file systems, before sysinit.target, runs the restore; systemd-analyze verify is clean', async () => {
    const text = await readFile(UNIT, 'utf8');
    const key = (k: string): string[] => [...text.matchAll(new RegExp(`^${k}=(.*)$`, 'gm'))].map((m) => m[1]);
    assert.deepEqual(key('DefaultDependencies'), ['no']);
    assert.ok(key('After').join(' ').split(' ').includes('local-fs.target'));
    assert.ok(key('Before').join(' ').split(' ').includes('sysinit.target'));
    assert.deepEqual(key('RequiresMountsFor'), ['/var/lib/ksplice']);
    assert.deepEqual(key('ExecStart'), ['/usr/local/sbin/ksplice-apply --restore']);
    assert.deepEqual(key('Type'), ['oneshot']);
    assert.deepEqual(key('WantedBy'), ['sysinit.target']);
    // systemd's own reading of it, with the tool where ExecStart says (a root of our own: the host's /usr is not touched)
    const root = path.join(work, 'systemd-root');
    await mkdir(path.join(root, 'usr/local/sbin'), { recursive: true });
    await mkdir(path.join(root, 'etc/systemd/system'), { recursive: true });
    await copyFile(UNIT, path.join(root, 'etc/systemd/system/ksplice-restore.service'));
    const verify = () => exec('systemd-analyze', ['verify', `--root=${root}`, 'ksplice-restore.service']);
    // the check can fail: without the tool in place, systemd refuses the unit
    await assert.rejects(verify(), /ksplice-apply is not executable/);
    await copyFile(path.join(TOOLS_DIR, 'ksplice-apply'), path.join(root, 'usr/local/sbin/ksplice-apply'));
    await exec('chmod', ['755', path.join(root, 'usr/local/sbin/ksplice-apply')]);
    const { stdout, stderr } = await verify();
    assert.equal(stdout + stderr, '', 'no warning (an unknown key or section would be one)');
  });
});

describe('persistence in the guest: three boots of Debian 6.1.0-50 with one disk', () => {
  const FIX = fixture('kmod');
  const OUT = path.join(REPO, '.tmp/persist-test');
  const u: Record<string, TestUpdate> = {};
  let vmlinuz = '';
  let release = '';
  let disk = '';
  let execstart = '';

  before(async () => {
    const target = await ensureTarget();
    vmlinuz = target.vmlinuz;
    release = target.release;
    const make = async (id: string, patch: string) => (u[id] = await createTestUpdate(target, { id, patch, outputDir: OUT }));
    await make('cmdline1', corpusPatch('examples/proc_cmdline.patch'));
    await make('cmdline2', path.join(FIX, 'cmdline-second.patch'));
    await tamperUpdate(await make('cmdbad', corpusPatch('examples/proc_cmdline.patch')), (ko, parts) =>
      flipPreByte(ko, parts.preFunction('fs/proc/cmdline.o', 'cmdline_proc_show'), 0x6),
    );
    // the disk: ext4 (Debian builds it as a module, loaded in the guest), with another release's
    // store on it already, holding an update that would apply to this kernel
    const content = path.join(OUT, 'disk-content');
    await rm(content, { recursive: true, force: true });
    await mkdir(path.join(content, 'lib/ksplice/6.1.0-99-amd64'), { recursive: true });
    await copyFile(u.cmdline2.tarball, path.join(content, 'lib/ksplice/6.1.0-99-amd64/000001-cmdline2.tar.gz'));
    disk = path.join(OUT, 'var.img');
    await rm(disk, { force: true });
    await exec('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', content, disk, '32M']);
    execstart = path.join(OUT, 'execstart');
    const line = /^ExecStart=(.*)$/m.exec(await readFile(UNIT, 'utf8'))![1];
    await writeFile(execstart, `${line}\n`);
  });

  function boot(n: number, files: string[]) {
    const scenario = path.join(FIX, `scenario-persist-boot${n}.sh`);
    const tools = ['ksplice-apply', 'ksplice-undo', 'ksplice-view'].map((t) => path.join(TOOLS_DIR, t));
    return runScenario({
      vmlinuz,
      scenario,
      files: [path.join(FIX, 'persist-common.sh'), ...tools, ...files],
      modules: ['virtio_pci', 'virtio_blk', 'ext4'],
      disks: [disk],
      keepLogAs: path.join(OUT, `boot${n}.log`),
    });
  }

  test("applied with --persist, back after a reboot by the unit's ExecStart, in order; undo forgets; a failing stored update stops the restore", async () => {
    const tarballs = [u.cmdline1.tarball, u.cmdline2.tarball, u.cmdbad.tarball];
    const other = `./6.1.0-99-amd64/000001-cmdline2.tar.gz`;

    // boot 1
    let c = (await boot(1, tarballs)).checks;
    assert.equal(c.get('release'), release);
    const original = c.get('before')!;
    assert.match(original, /console=ttyS0/);
    const first = `${original} [rebootless update applied]`;
    const second = `${original} [second update]`;
    assert.equal(c.get('stored-before'), `${other} `);
    assert.equal(c.get('persist1-rc'), '0', c.get('persist1-err'));
    assert.match(
      c.get('persist1-out')!,
      new RegExp(`stored: re-applied at boot as /var/lib/ksplice/${release}/000001-cmdline1\\.tar\\.gz;$`),
    );
    assert.equal(c.get('persist2-rc'), '0', c.get('persist2-err'));
    assert.equal(c.get('cmdline'), second);
    assert.equal(c.get('persist-bad-rc'), '1');
    assert.match(c.get('persist-bad-err')!, /error applying update cmdbad: no_match: cmdline_proc_show\+0x6/);
    assert.equal(c.get('bad-modules'), 'ksplice ksplice_cmdline1 ksplice_cmdline2 ');
    const both = `./${release}/000001-cmdline1.tar.gz ./${release}/000002-cmdline2.tar.gz ${other} `;
    assert.equal(c.get('stored'), both);
    assert.equal(c.get('stored-same-bytes'), 'yes');
    assert.equal(c.get('view'), 'cmdline1 applied persistent;cmdline2 applied persistent;');
    assert.equal(c.get('view-id'), `Persistent: yes (/var/lib/ksplice/${release}/000001-cmdline1.tar.gz)`);

    // boot 2: the same kernel, the same disk
    c = (await boot(2, [execstart])).checks;
    assert.equal(c.get('before'), original, 'a reboot: the updates are gone from the kernel');
    assert.equal(c.get('modules-before'), '');
    assert.equal(c.get('stored-before'), both);
    assert.equal(c.get('restore-rc'), '0', c.get('restore-err'));
    const rel = release.replace(/\./g, '\\.');
    assert.match(
      c.get('restore-out')!,
      new RegExp(
        `^Ignoring 1 stored Ksplice update\\(s\\) of kernel 6\\.1\\.0-99-amd64 \\(this kernel is ${rel}\\);` +
          'Ksplice update cmdline1 applied successfully \\(machine stopped \\d+ ns\\);' +
          'Ksplice update cmdline2 applied successfully \\(machine stopped \\d+ ns\\);' +
          `Restored 2 Ksplice update\\(s\\) for kernel ${rel};$`,
      ),
    );
    assert.equal(c.get('cmdline'), second, 'both back, the second on top: restored in their order');
    assert.equal(c.get('modules'), 'ksplice ksplice_cmdline1 ksplice_cmdline2 ');
    assert.equal(c.get('view'), 'cmdline1 applied persistent;cmdline2 applied persistent;');
    assert.equal(c.get('restore-again-rc'), '0', c.get('restore-again-err'));
    assert.match(
      c.get('restore-again-out')!,
      /Ksplice update cmdline1 is already applied;Ksplice update cmdline2 is already applied;Restored 0 /,
    );
    assert.equal(c.get('undo-out-of-order-rc'), '1');
    assert.match(c.get('undo-out-of-order-err')!, /out_of_order/);
    assert.equal(c.get('stored-after-refused-undo'), c.get('stored-before'), 'a refused undo forgets nothing');
    assert.equal(c.get('undo2-rc'), '0', c.get('undo2-err'));
    assert.match(c.get('undo2-out')!, /Ksplice update cmdline2 forgotten: no longer re-applied at boot;$/);
    assert.equal(c.get('undo1-rc'), '0', c.get('undo1-err'));
    assert.equal(c.get('cmdline-after-undo'), original);
    assert.equal(c.get('stored-after-undo'), `${other} `, "this release's store empty; the other release's untouched");

    // boot 3: nothing to restore; then a hand-made store with a corrupted update in the middle
    c = (await boot(3, tarballs)).checks;
    assert.equal(c.get('restore-rc'), '0', c.get('restore-err'));
    assert.match(c.get('restore-out')!, new RegExp(`^Ignoring 1 stored .*;No stored Ksplice updates for kernel ${rel};$`));
    assert.equal(c.get('cmdline'), original);
    assert.equal(c.get('modules'), '', 'not even the core loaded');
    assert.equal(c.get('restore-bad-rc'), '1');
    assert.match(c.get('restore-bad-err')!, /error applying update cmdbad: no_match: cmdline_proc_show\+0x6: running byte/);
    assert.match(
      c.get('restore-bad-err')!,
      /restore stopped at 000002-cmdbad\.tar\.gz \(2 of 3\): it and the updates after it are not applied, the 1 before it are;$/,
    );
    assert.equal(c.get('cmdline-bad'), first, 'cmdline1 applied, cmdline2 not');
    assert.equal(c.get('modules-bad'), 'ksplice ksplice_cmdline1 ', 'nothing of cmdbad or cmdline2 left loaded');
    assert.equal(c.get('view-bad'), 'cmdline1 applied persistent;cmdbad stored, not loaded;cmdline2 stored, not loaded;');
    for (const k of ['undo1', 'forget-bad', 'forget2']) assert.equal(c.get(`${k}-rc`), '0', `${k}: ${c.get(`${k}-err`)}`);
    assert.equal(c.get('stored-end'), `${other} `);
  });
});
