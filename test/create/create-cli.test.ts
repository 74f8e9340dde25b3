// ksplice-create as a user runs it, on the real Debian tree: every corpus patch either yields the
// expected functions or is refused with its reason and exit code; bad input fails cleanly and
// leaves the tree pristine.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { touchedFiles } from '../../src/create/patch-file.ts';
import { readUpdateTarball } from '../../src/package/update-tarball.ts';
import { fingerprintFiles } from '../../src/create/pristine-tree.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { runUnchecked } from '../../src/util/exec.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const corpus = path.resolve(repo, '../shared/corpus');
let target: TargetKernel;
let scratch: string;

before(async () => {
  target = await ensureTarget();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'ksa-create-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

async function create(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = await runUnchecked('node', ['--import', 'tsx', path.join(repo, 'src/create/cli.ts'), ...args], { cwd: repo, env });
  const json = result.stdout.trim() ? JSON.parse(result.stdout.trim().split('\n').pop()!) : null;
  return { ...result, json };
}

/** Runs ksplice-create on a corpus patch and checks the touched files are as before. */
async function createFromCorpus(patch: string, extra: string[] = ['--analyze-only']) {
  const patchPath = path.join(corpus, patch);
  const files = touchedFiles(await readFile(patchPath, 'utf8'));
  const before = await fingerprintFiles(target.sourceDir, files);
  const result = await create([`--patch=${patchPath}`, '--json', ...extra, target.sourceDir]);
  assert.deepEqual(await fingerprintFiles(target.sourceDir, files), before, 'the tree is pristine afterwards');
  return result;
}

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
    assert.deepEqual(json.changed.map((c: { function: string }) => c.function).sort(), functions);
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
  assert.deepEqual(json.changed, []);
});

test('kernel_user.patch adds an export: refused with that reason, exit 2', async () => {
  const { exitCode, json, stderr } = await createFromCorpus('6.1.176-to-6.1.190/kernel_user.patch');
  assert.equal(exitCode, 2);
  assert.deepEqual(json.unsafe.map((u: { symbol: string }) => u.symbol), ['free_uid']);
  assert.match(stderr, /free_uid: newly exported \(EXPORT_SYMBOL_GPL\)/);
});

test('without --analyze-only the run writes ksplice-<id>.tar.gz (exit 0) into --output-dir', async () => {
  const out = path.join(scratch, 'out');
  const { exitCode, json, stderr } = await createFromCorpus('examples/proc_cmdline.patch', [`--output-dir=${out}`]);
  assert.equal(exitCode, 0, stderr);
  assert.equal(json.tarball, path.join(out, `ksplice-${json.id}.tar.gz`));
  const { manifest } = readUpdateTarball(await readFile(json.tarball), { kernelRelease: '6.1.0-50-amd64' });
  assert.equal(manifest.updateModule, `ksplice_${json.id}.ko`);
  assert.deepEqual(manifest.changed.map((c) => c.function), ['cmdline_proc_show']);
});

test('a patch that does not apply: exit 1, patch named, tree untouched', async () => {
  const bad = path.join(scratch, 'bad.patch');
  await writeFile(bad, '--- a/fs/proc/cmdline.c\n+++ b/fs/proc/cmdline.c\n@@ -1,3 +1,3 @@\n-nothing like this\n+at all\n context\n context\n');
  const before = await fingerprintFiles(target.sourceDir, ['fs/proc/cmdline.c']);
  const { exitCode, stderr } = await create([`--patch=${bad}`, '--analyze-only', target.sourceDir]);
  assert.equal(exitCode, 1);
  assert.match(stderr, /does not apply/);
  assert.deepEqual(await fingerprintFiles(target.sourceDir, ['fs/proc/cmdline.c']), before);
});

test('a forged toolchain mismatch stops before building, naming both compilers', async () => {
  const bin = path.join(scratch, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(path.join(bin, 'gcc-12'), '#!/bin/sh\n[ "$1" = --version ] && { echo "gcc-12 (Debian 12.9.9-1) 12.9.9"; exit 0; }\nexec /usr/bin/gcc-12 "$@"\n');
  await chmod(path.join(bin, 'gcc-12'), 0o755);
  const { exitCode, stderr } = await create(
    [`--patch=${path.join(corpus, 'examples/printk.patch')}`, '--analyze-only', target.sourceDir],
    { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  );
  assert.equal(exitCode, 1);
  assert.match(stderr, /toolchain mismatch/);
  assert.match(stderr, /12\.2\.0-14\+deb12u1.*12\.9\.9-1/s);
  assert.doesNotMatch(stderr, /double build/);
});
