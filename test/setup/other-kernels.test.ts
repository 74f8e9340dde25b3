// Another 6.1 ABI than the default, end to end: Debian's 6.1.0-47-amd64 (source 6.1.170-3), whose
// linux-kbuild-6.1 package is not in the archive. Setup prepares it anyway (kbuild's programs come
// from the prepared tree), a module built against it carries the target's vermagic and CRCs, and
// ksplice-create's update of proc_cmdline is applied, checked and undone in a guest booting
// 6.1.0-47's own vmlinuz.
//
// Cost: the setup downloads ~1 GB of Debian's packages and prepares the tree: 718 s measured here
// cold (2 cores shared with other runs, load ~10), nothing once ~/.cache/ksplice-action/6.1.0-47-amd64
// is cached (CI can cache it per release); the module build, the create and the guest add a few
// minutes (TCG).
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, readlink, rm, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildExternalModule } from '../../src/kbuild/external-module.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { run, runUnchecked } from '../../src/util/exec.ts';
import { corpusPatch, fixture, REPO, scratchDir } from '../helpers/paths.ts';

const RELEASE = '6.1.0-47-amd64';
const SOURCE_VERSION = '6.1.170-3';

let target: TargetKernel;
let scratch: string;

before(async () => {
  target = await ensureTarget({ release: RELEASE });
  scratch = await scratchDir('other-kernels');
});
after(() => rm(scratch, { recursive: true, force: true }));

/** Every `.ko` under a folder, depth first. */
async function firstModule(dir: string): Promise<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isFile() && entry.name.endsWith('.ko')) return full;
    if (entry.isDirectory()) {
      const found = await firstModule(full).catch(() => '');
      if (found) return found;
    }
  }
  throw new Error(`no .ko under ${dir}`);
}

/** `name crc` pairs of a module's __versions (modprobe --dump-modversions). */
async function modversions(ko: string): Promise<Map<string, string>> {
  const dump = await run('modprobe', ['--dump-modversions', ko]);
  return new Map(
    dump
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/).reverse() as [string, string]),
  );
}

test(`${RELEASE} is prepared at ${SOURCE_VERSION} without a linux-kbuild package: the headers use the tree's kbuild programs`, async () => {
  assert.equal(target.sourceVersion, SOURCE_VERSION);
  const marker = JSON.parse(await readFile(path.join(target.root, '.ksplice-ready.json'), 'utf8')) as { packages: Record<string, string> };
  assert.ok(!Object.values(marker.packages).some((deb) => deb.startsWith('linux-kbuild')), JSON.stringify(marker.packages));
  assert.equal(await readlink(path.join(target.headersDir, 'scripts')), path.join(target.sourceDir, 'scripts'));
  assert.equal(await readlink(path.join(target.headersDir, 'tools')), path.join(target.sourceDir, 'tools'));
});

test("a module built against the prepared release has its vermagic and its symbols' CRCs", async () => {
  const dir = path.join(scratch, 'hello');
  await mkdir(dir, { recursive: true });
  await copyFile(fixture('qemu/hello.c'), path.join(dir, 'hello.c'));
  const ko = await buildExternalModule({ dir, moduleName: 'hello', parts: ['hello.o'], headersDir: target.headersDir });
  const shipped = await firstModule(path.join(target.modulesDir, 'kernel'));
  const vermagic = async (file: string) => (await run('modinfo', ['-F', 'vermagic', file])).trim();
  assert.equal(await vermagic(ko), await vermagic(shipped));
  assert.match(await vermagic(ko), /^6\.1\.0-47-amd64 SMP preempt mod_unload modversions/);

  const symvers = new Map(
    (await readFile(path.join(target.headersDir, 'Module.symvers'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t'))
      .map(([crc, name]) => [name, crc.replace(/^0x0*/, '')]),
  );
  const versions = await modversions(ko);
  assert.ok(versions.has('_printk'), [...versions.keys()].join(', '));
  for (const [name, crc] of versions) {
    if (name === 'module_layout') continue;
    assert.equal(crc.replace(/^0x0*/, ''), symvers.get(name), `${name}: CRC in hello.ko vs Debian's Module.symvers`);
  }
});

test(`proc_cmdline: created for ${RELEASE}, applied, checked and undone in a guest booting ${RELEASE}'s own kernel`, async () => {
  const tsx = path.join(REPO, 'node_modules/.bin/tsx');
  const made = await runUnchecked(
    tsx,
    [
      path.join(REPO, 'src/create/cli.ts'),
      `--kernel-release=${RELEASE}`,
      `--patch=${corpusPatch('examples/proc_cmdline.patch')}`,
      `--output-dir=${scratch}`,
      '--json',
    ],
    { cwd: scratch },
  );
  assert.equal(made.exitCode, 0, made.stderr);
  const outcome = JSON.parse(made.stdout.trim().split('\n').pop() ?? '{}') as {
    tarball: string;
    kernelRelease: string;
    reproduction: { checked: number; shippedVmlinux: boolean };
  };
  assert.equal(outcome.kernelRelease, RELEASE);
  assert.ok(outcome.reproduction.shippedVmlinux && outcome.reproduction.checked > 0, JSON.stringify(outcome.reproduction));

  const serialLog = path.join(scratch, 'serial.log');
  const guest = await runUnchecked(
    'flock',
    [
      '/tmp/ksa-guest.lock',
      tsx,
      path.join(REPO, 'src/qemu/cli.ts'),
      `--kernel-release=${RELEASE}`,
      `--update=${outcome.tarball}`,
      `--check=${fixture('qemu/check-cmdline.sh')}`,
      `--serial-log=${serialLog}`,
      '--json',
    ],
    { cwd: scratch },
  );
  assert.equal(guest.exitCode, 0, guest.stderr.split('\n').slice(-15).join('\n'));
  const verdict = JSON.parse(guest.stdout.trim().split('\n').pop() ?? '{}') as { ok: boolean; steps: { name: string }[] };
  assert.ok(verdict.ok);
  assert.deepEqual(
    verdict.steps.map((s) => s.name),
    ['tools', 'check-original', 'apply', 'check-applied', 'view', 'undo', 'check-reverted'],
  );
  const console = await readFile(serialLog, 'utf8');
  assert.match(console, new RegExp(`Linux version ${RELEASE.replace(/\./g, '\\.')} .*Debian ${SOURCE_VERSION.replace(/\./g, '\\.')}`));
  assert.match(console, /applied successfully/);
  assert.match(console, /reversed successfully/);
});
