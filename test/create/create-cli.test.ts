// ksplice-create as a user runs it, on the real Debian tree: every corpus patch either yields the
// expected functions or is refused with its reason and exit code; bad input fails cleanly and
// leaves the tree pristine, and so do an interrupt during the build and a run killed outright.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, chmod, copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { exitCodeOf, outcomeFromJson } from '../../src/create/outcome.ts';
import { touchedFiles } from '../../src/create/patch-file.ts';
import { readUpdateTarball } from '../../src/package/update-tarball.ts';
import { fingerprintFiles, PATCH_JOURNAL } from '../../src/create/pristine-tree.ts';
import { createUpdate } from '../helpers/create-cli.ts';
import { withForgedCmdlineSource } from '../helpers/forged-source.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { runUnchecked } from '../../src/util/exec.ts';
import { CORPUS as corpus, fixture, REPO as repo, scratchDir } from '../helpers/paths.ts';

const fixtures = fixture('create');
const cli = path.join(repo, 'src/create/cli.ts');
let target: TargetKernel;
let scratch: string;

before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('create');
});
after(() => rm(scratch, { recursive: true, force: true }));

async function create(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = await runUnchecked('node', ['--import', 'tsx', cli, ...args], { cwd: repo, env });
  const json = result.stdout.trim() ? JSON.parse(result.stdout.trim().split('\n').pop()!) : null;
  return { ...result, json };
}

/** Runs ksplice-create on a patch and checks the touched files are as before. */
async function createPristine(patchPath: string, extra: string[] = ['--analyze-only']) {
  const files = touchedFiles(await readFile(patchPath, 'utf8'));
  const before = await fingerprintFiles(target.sourceDir, files);
  const result = await create([`--patch=${patchPath}`, '--json', ...extra, target.sourceDir]);
  assert.deepEqual(await fingerprintFiles(target.sourceDir, files), before, 'the tree is pristine afterwards');
  return result;
}

/** createPristine for a patch of corpus. */
const createFromCorpus = (patch: string, extra?: string[]) => createPristine(path.join(corpus, patch), extra);
/** The same for a patch of test/fixtures/create. */
const createFromFixture = (patch: string, extra?: string[]) => createPristine(path.join(fixtures, patch), extra);

const expectations: [string, string[]][] = [
  ['examples/printk.patch', ['_printk']],
  ['examples/proc_cmdline.patch', ['cmdline_proc_show']],
  ['6.1.176-to-6.1.190/kernel_time_time.patch', ['__ia32_compat_sys_settimeofday', '__x64_compat_sys_settimeofday']],
  ['6.1.176-to-6.1.190/net_ipv4_arp.patch', ['arp_ioctl']],
  ['6.1.176-to-6.1.190/kernel_sys.patch', ['prctl_set_auxv']],
];

for (const [patch, functions] of expectations) {
  test(`${patch} changes exactly ${functions.join(', ')}`, async () => {
    const { exitCode, json, stderr } = await createFromCorpus(patch);
    assert.equal(exitCode, 0, stderr);
    assert.equal(json.outcome, 'analyzed');
    assert.deepEqual(json.changed.map((c: { function: string }) => c.function).sort(), functions);
    assert.ok(
      json.changed.every((c: { module: string }) => c.module === 'vmlinux'),
      JSON.stringify(json.changed),
    );
    assert.deepEqual(json.new, []);
    assert.deepEqual(json.unsafe, []);
    assert.equal(json.kernelRelease, '6.1.0-50-amd64');
    assert.match(json.id, /^[a-z0-9]{8}$/);
  });
}

test('kernel_audit_tree.patch changes no code: "No changes detected", exit 66', async () => {
  const { exitCode, stderr, json } = await createFromCorpus('6.1.176-to-6.1.190/kernel_audit_tree.patch');
  assert.equal(exitCode, 66);
  assert.match(stderr, /No changes detected/);
  assert.equal(json.outcome, 'no-changes');
  assert.deepEqual(json.changed, []);
});

test('a patch to a file this config does not compile: "No changes detected", naming the file', async () => {
  const { exitCode, stderr, json } = await createFromFixture('apm-not-built.patch');
  assert.equal(exitCode, 66, stderr);
  assert.match(stderr, /No changes detected \(arch\/x86\/kernel\/apm_32\.c: not compiled in the configuration of 6\.1\.0-50-amd64\)/);
  assert.deepEqual(json.notes, ['arch/x86/kernel/apm_32.c: not compiled in the configuration of 6.1.0-50-amd64']);
});

test('kernel_user.patch adds an export: refused with that rule and reason, exit 2; the JSON reads back as the same outcome', async () => {
  const { exitCode, json, stderr, stdout } = await createFromCorpus('6.1.176-to-6.1.190/kernel_user.patch');
  assert.equal(exitCode, 2);
  assert.equal(json.outcome, 'unsafe');
  assert.deepEqual(
    json.unsafe.map((u: { symbol: string; rule: string }) => [u.symbol, u.rule]),
    [['free_uid', 'export-change']],
  );
  assert.match(stderr, /free_uid: newly exported \(EXPORT_SYMBOL_GPL\).* \[export-change\]/);
  const outcome = outcomeFromJson(stdout.trim().split('\n').pop()!);
  assert.equal(exitCodeOf(outcome), exitCode);
  assert.ok(Array.isArray(outcome.notes) && outcome.reproduction.shippedVmlinux, 'notes and reproduction are in the JSON');
});

test('without --analyze-only the run writes ksplice-<id>.tar.gz (exit 0) into --output-dir', async () => {
  const out = path.join(scratch, 'out');
  const { exitCode, json, stderr } = await createFromCorpus('examples/proc_cmdline.patch', [`--output-dir=${out}`]);
  assert.equal(exitCode, 0, stderr);
  assert.equal(json.outcome, 'built');
  assert.equal(json.tarball, path.join(out, `ksplice-${json.id}.tar.gz`));
  const { manifest } = readUpdateTarball(await readFile(json.tarball), { kernelRelease: '6.1.0-50-amd64' });
  assert.equal(manifest.updateModule, `ksplice_${json.id}.ko`);
  assert.deepEqual(
    manifest.changed.map((c) => c.function),
    ['cmdline_proc_show'],
  );
});

test('a patch that does not apply: exit 1, patch named, tree untouched', async () => {
  const bad = path.join(scratch, 'bad.patch');
  await writeFile(
    bad,
    '--- a/fs/proc/cmdline.c\n+++ b/fs/proc/cmdline.c\n@@ -1,3 +1,3 @@\n-nothing like this\n+at all\n context\n context\n',
  );
  const before = await fingerprintFiles(target.sourceDir, ['fs/proc/cmdline.c']);
  const { exitCode, stderr } = await create([`--patch=${bad}`, '--analyze-only', target.sourceDir]);
  assert.equal(exitCode, 1);
  assert.match(stderr, /does not apply/);
  assert.deepEqual(await fingerprintFiles(target.sourceDir, ['fs/proc/cmdline.c']), before);
});

test('a forged toolchain mismatch stops before building, naming both compilers', async () => {
  const bin = path.join(scratch, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(
    path.join(bin, 'gcc-12'),
    '#!/bin/sh\n[ "$1" = --version ] && { echo "gcc-12 (Debian 12.9.9-1) 12.9.9"; exit 0; }\nexec /usr/bin/gcc-12 "$@"\n',
  );
  await chmod(path.join(bin, 'gcc-12'), 0o755);
  const { exitCode, stderr } = await create([`--patch=${path.join(corpus, 'examples/printk.patch')}`, '--analyze-only', target.sourceDir], {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
  });
  assert.equal(exitCode, 1);
  assert.match(stderr, /toolchain mismatch/);
  assert.match(stderr, /12\.2\.0-14\+deb12u1.*12\.9\.9-1/s);
  assert.doesNotMatch(stderr, /double build/);
});

test('a patch to kernel/sched/rt.c (#included by build_policy.c) builds kernel/sched/build_policy.o and names the changed function', async () => {
  const { exitCode, json, stderr } = await createFromFixture('sched-rt-interval.patch');
  assert.equal(exitCode, 0, stderr);
  assert.deepEqual(json.changed, [{ object: 'kernel/sched/build_policy.o', function: 'get_rr_interval_rt', module: 'vmlinux' }]);
  assert.deepEqual(json.unsafe, []);
});

test('a patch to include/linux/kconfig.h (forced into every compile with -include) is refused as too wide, saying why', async () => {
  const { exitCode, stderr } = await createFromFixture('kconfig-forced.patch');
  assert.equal(exitCode, 1);
  assert.match(
    stderr,
    /include\/linux\/kconfig\.h is in every object of the kernel \(kbuild forces it into every compile with -include\): too wide/,
  );
  assert.doesNotMatch(stderr, /pre build: /, 'nothing was built');
});

test('a forged source change in the pristine tree: exit 1, the function and offset named, no JSON', async () => {
  await withForgedCmdlineSource(target.sourceDir, async (file, forged) => {
    const made = await createUpdate({
      patch: path.join(corpus, 'examples/proc_cmdline.patch'),
      sourceDir: target.sourceDir,
      extra: ['--analyze-only'],
    });
    assert.equal(made.exitCode, 1, made.stderr);
    assert.match(made.stderr, /does not reproduce the shipped kernel/);
    assert.match(made.stderr, /fs\/proc\/cmdline\.o: proc_cmdline_init\+0x[0-9a-f]+: /);
    assert.doesNotMatch(made.stderr, /cmdline_proc_show\+0x/);
    assert.equal(made.json, null);
    assert.equal(await readFile(file, 'utf8'), forged, 'the forged file is as it was: the patch was reversed');
  });
});

/** A config dir like the article's without the shipped vmlinux. */
async function configDirWithoutVmlinux(): Promise<string> {
  const dir = path.join(scratch, 'config-no-vmlinux');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await copyFile(target.config, path.join(dir, '.config'));
  await copyFile(target.systemMap, path.join(dir, 'System.map'));
  await symlink(target.headersDir, path.join(dir, 'build'));
  return dir;
}

test('a config dir without the shipped vmlinux is an error, unless --skip-reproduction-check is given', async () => {
  const dir = await configDirWithoutVmlinux();
  const patch = `--patch=${path.join(corpus, 'examples/proc_cmdline.patch')}`;
  const refused = await create([patch, `--config=${dir}`, '--analyze-only', target.sourceDir]);
  assert.equal(refused.exitCode, 1);
  assert.match(refused.stderr, new RegExp(`no vmlinux in ${dir}: .*--skip-reproduction-check`));
  assert.doesNotMatch(refused.stderr, /\[ksplice-create [2-9]\//, 'refused in step 1, before the toolchain check and the build');
  const skipped = await create([patch, `--config=${dir}`, '--analyze-only', '--skip-reproduction-check', '--json', target.sourceDir]);
  assert.equal(skipped.exitCode, 0, skipped.stderr);
  assert.match(skipped.stderr, /reproduction check skipped/);
  assert.deepEqual(
    skipped.json.changed.map((c: { function: string }) => c.function),
    ['cmdline_proc_show'],
  );
  const usage = await create(['--patch=x.patch']);
  assert.match(usage.stderr, /--skip-reproduction-check/, 'the usage names the opt-out');
});

test('a patch adding a static helper: the tarball names toolchain, Debian source version and release; JSON has the new function and stage timings', async () => {
  const out = path.join(scratch, 'new-helper');
  const { exitCode, json, stderr } = await createFromFixture('cmdline-new-helper.patch', [`--output-dir=${out}`]);
  assert.equal(exitCode, 0, stderr);
  assert.deepEqual(json.new, [{ object: 'fs/proc/cmdline.o', function: 'cmdline_proc_mark', module: 'vmlinux' }]);
  assert.deepEqual(
    json.changed.map((c: { function: string }) => c.function),
    ['cmdline_proc_show'],
  );
  // timingsMs: one entry per stage, in milliseconds.
  const stages = Object.entries(json.timingsMs as Record<string, number>);
  assert.ok(stages.length >= 6, JSON.stringify(json.timingsMs));
  assert.ok(
    stages.every(([, ms]) => Number.isInteger(ms) && ms >= 0),
    JSON.stringify(json.timingsMs),
  );
  assert.ok(
    stages.filter(([stage]) => /build/.test(stage)).reduce((sum, [, ms]) => sum + ms, 0) > 500,
    'the build stages compile for real',
  );

  const { manifest } = readUpdateTarball(await readFile(json.tarball), { kernelRelease: '6.1.0-50-amd64' });
  assert.equal(manifest.kernelRelease, '6.1.0-50-amd64');
  assert.equal(manifest.sourceVersion, '6.1.176-1');
  assert.equal(manifest.sourceVersion, target.sourceVersion, 'the version of the Debian source package the setup unpacked');
  assert.deepEqual(manifest.toolchain, { cc: 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0', as: 24000, ld: 24000 });
  assert.deepEqual(
    manifest.new.map((f) => [f.object, f.function]),
    [['fs/proc/cmdline.o', 'cmdline_proc_mark']],
  );
  assert.deepEqual(
    manifest.changed.map((f) => f.function),
    ['cmdline_proc_show'],
  );
  assert.match(manifest.changed[0].address ?? '', /^ffffffff[0-9a-f]{8}$/);
});

test('--kernel-release=R prepares (here: finds) the Debian target itself; with a KERNEL_SOURCE too it is refused', async () => {
  const patch = `--patch=${path.join(corpus, 'examples/proc_cmdline.patch')}`;
  const made = await create([patch, '--kernel-release=6.1.0-50-amd64', '--analyze-only', '--json']);
  assert.equal(made.exitCode, 0, made.stderr);
  assert.equal(made.json.kernelRelease, '6.1.0-50-amd64');
  assert.deepEqual(
    made.json.changed.map((c: { function: string }) => c.function),
    ['cmdline_proc_show'],
  );
  assert.match(made.stderr, new RegExp(`config dir ${target.configDir}`));

  const both = await create([patch, '--kernel-release=6.1.0-50-amd64', '--analyze-only', target.sourceDir]);
  assert.equal(both.exitCode, 64, 'a usage error');
  assert.match(
    both.stderr,
    new RegExp(
      `--kernel-release=6\\.1\\.0-50-amd64 prepares its own source tree; give it or KERNEL_SOURCE \\(${target.sourceDir}\\), not both`,
    ),
  );
  assert.equal(both.stdout, '');
});

/**
 * ksplice-create started as a shell starts a job (its own process group), and a way to wait
 * until the patch is applied: the tree's copy of the touched file changes.
 */
function startCreate(args: string[]) {
  const child = spawn('node', ['--import', 'tsx', cli, ...args], { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, stderr: () => stderr };
}

async function untilPatched(file: string, pristine: Map<string, string | null>, run: ReturnType<typeof startCreate>): Promise<void> {
  let done = false;
  void run.exited.then(() => (done = true));
  for (const started = Date.now(); Date.now() - started < 300_000; await new Promise((r) => setTimeout(r, 50))) {
    if (done) throw new Error(`ksplice-create ended before applying the patch:\n${run.stderr()}`);
    const now = await fingerprintFiles(target.sourceDir, [file]);
    if (now.get(file) !== pristine.get(file)) return;
  }
  throw new Error('the patch was never applied');
}

const printkPatch = path.join(corpus, 'examples/printk.patch');
const printkFile = 'kernel/printk/printk.c';

test('Ctrl-C during the post build (patch applied): the tree is restored before exit, exit 130 with a clear message', async () => {
  const pristine = await fingerprintFiles(target.sourceDir, [printkFile]);
  const run = startCreate([`--patch=${printkPatch}`, '--analyze-only', target.sourceDir]);
  await untilPatched(printkFile, pristine, run);
  assert.ok(existsSync(path.join(target.sourceDir, PATCH_JOURNAL)), 'the journal is there while the patch is applied');
  process.kill(-run.child.pid!, 'SIGINT'); // what a terminal's Ctrl-C does: the whole job, make included
  const { code } = await run.exited;
  assert.equal(code, 130, run.stderr());
  assert.match(run.stderr(), /interrupted by SIGINT: the patch was reversed and .* is pristine again/);
  assert.deepEqual(await fingerprintFiles(target.sourceDir, [printkFile]), pristine);
  assert.ok(!existsSync(path.join(target.sourceDir, PATCH_JOURNAL)), 'the journal is gone with the patch');
});

test('a run killed outright (SIGKILL) with its patch applied: the next run reverses it first', async () => {
  const pristine = await fingerprintFiles(target.sourceDir, [printkFile]);
  const run = startCreate([`--patch=${printkPatch}`, '--analyze-only', target.sourceDir]);
  await untilPatched(printkFile, pristine, run);
  process.kill(-run.child.pid!, 'SIGKILL');
  assert.equal((await run.exited).signal, 'SIGKILL');
  assert.notDeepEqual(await fingerprintFiles(target.sourceDir, [printkFile]), pristine, 'left patched: nothing could run');
  assert.ok(existsSync(path.join(target.sourceDir, PATCH_JOURNAL)));

  const next = await create([`--patch=${path.join(corpus, 'examples/proc_cmdline.patch')}`, '--analyze-only', '--json', target.sourceDir]);
  assert.equal(next.exitCode, 0, next.stderr);
  assert.match(
    next.stderr,
    /a previous ksplice-create \(pid \d+\) was killed with its patch applied to kernel\/printk\/printk\.c: reversing it/,
  );
  assert.deepEqual(
    next.json.changed.map((c: { function: string }) => c.function),
    ['cmdline_proc_show'],
  );
  assert.deepEqual(await fingerprintFiles(target.sourceDir, [printkFile]), pristine);
  assert.ok(!existsSync(path.join(target.sourceDir, PATCH_JOURNAL)));
});

test('a killed run whose patched file was edited since: the next run refuses to build on it, naming the file and the journal', async () => {
  const file = path.join(target.sourceDir, printkFile);
  const original = await readFile(file);
  const pristine = await fingerprintFiles(target.sourceDir, [printkFile]);
  try {
    const run = startCreate([`--patch=${printkPatch}`, '--analyze-only', target.sourceDir]);
    await untilPatched(printkFile, pristine, run);
    process.kill(-run.child.pid!, 'SIGKILL');
    await run.exited;
    await appendFile(file, '/* edited by hand after the kill */\n');
    const next = await create([`--patch=${printkPatch}`, '--analyze-only', target.sourceDir]);
    assert.equal(next.exitCode, 1);
    assert.match(
      next.stderr,
      new RegExp(
        `was left patched by a ksplice-create that was killed \\(journal ${path.join(target.sourceDir, PATCH_JOURNAL)}\\): kernel/printk/printk\\.c differ`,
      ),
    );
    assert.match(next.stderr, /restore those files from the kernel source and remove the journal/);
    assert.doesNotMatch(next.stderr, /pre build/, 'nothing was built on that tree');
  } finally {
    await writeFile(file, original);
    await rm(path.join(target.sourceDir, PATCH_JOURNAL), { recursive: true, force: true });
  }
  assert.deepEqual(await fingerprintFiles(target.sourceDir, [printkFile]), pristine);
});
