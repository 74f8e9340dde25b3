// ksplice-create's inputs, checked before any build: the prepared Debian tree passes; each broken
// config directory is refused with the missing piece named.
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BadInputError, resolveKernelInputs } from '../../src/create/kernel-inputs.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { scratchDir } from '../helpers/paths.ts';

let target: TargetKernel;
let scratch: string;

before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('inputs');
});
after(() => rm(scratch, { recursive: true, force: true }));

/** A config dir like the article's, built from the cache's pieces; `omit` leaves one out. */
async function configDir(
  name: string,
  omit?: 'config' | 'map' | 'build',
  systemMap = target.systemMap,
  headers = target.headersDir,
): Promise<string> {
  const dir = path.join(scratch, name);
  await mkdir(dir, { recursive: true });
  if (omit !== 'config') await copyFile(target.config, path.join(dir, '.config'));
  if (omit !== 'map') await copyFile(systemMap, path.join(dir, 'System.map'));
  if (omit !== 'build') await symlink(headers, path.join(dir, 'build'));
  return dir;
}

test('the prepared Debian tree and its config dir are accepted, with the release from the headers', async () => {
  const inputs = await resolveKernelInputs(target.sourceDir);
  assert.equal(inputs.release, '6.1.0-50-amd64');
  assert.equal(inputs.configDir, path.join(target.sourceDir, 'ksplice'));
  assert.ok(inputs.vmlinux, 'the setup links the shipped vmlinux into the config dir');
  assert.ok(inputs.symbols.some((s) => s.name === 'cmdline_proc_show'));
});

test('each missing piece of the config dir is named with its fix', async () => {
  await assert.rejects(
    resolveKernelInputs(target.sourceDir, await configDir('no-map', 'map')),
    /missing in the config directory:\n.*System\.map/,
  );
  await assert.rejects(resolveKernelInputs(target.sourceDir, await configDir('no-config', 'config')), /\.config \(cp \/boot\/config-/);
  await assert.rejects(
    resolveKernelInputs(target.sourceDir, await configDir('no-build', 'build')),
    /ln -s \/lib\/modules\/\$\(uname -r\)\/build/,
  );
  await assert.rejects(resolveKernelInputs(scratch), /is not a kernel source tree/);
});

test("Debian's stub System.map is refused", async () => {
  const stub = path.join(target.root, 'image/boot/System.map-6.1.0-50-amd64');
  await assert.rejects(resolveKernelInputs(target.sourceDir, await configDir('stub', undefined, stub)), (e: Error) => {
    assert.ok(e instanceof BadInputError);
    assert.match(e.message, /stub System\.map/);
    return true;
  });
});

test('headers of another kernel release are refused with both releases named', async () => {
  const fakeHeaders = path.join(scratch, 'other-headers');
  await mkdir(path.join(fakeHeaders, 'include/generated'), { recursive: true });
  await writeFile(path.join(fakeHeaders, 'Makefile'), '# headers of another kernel\n');
  await writeFile(path.join(fakeHeaders, 'include/generated/utsrelease.h'), '#define UTS_RELEASE "6.1.0-49-amd64"\n');
  await assert.rejects(
    resolveKernelInputs(target.sourceDir, await configDir('other-release', undefined, target.systemMap, fakeHeaders)),
    /the source tree builds 6\.1\.0-50-amd64, the headers are for 6\.1\.0-49-amd64/,
  );
});

test('a tree configured differently from the running kernel is refused', async () => {
  const tree = path.join(scratch, 'tree');
  await mkdir(path.join(tree, 'kernel'), { recursive: true });
  await writeFile(path.join(tree, 'Makefile'), '');
  await cp(target.config, path.join(tree, '.config'));
  await writeFile(path.join(tree, '.config'), '# CONFIG_LIVEPATCH is not set\n', { flag: 'a' });
  await assert.rejects(resolveKernelInputs(tree, await configDir('for-tree')), /\.config differs from/);
});
