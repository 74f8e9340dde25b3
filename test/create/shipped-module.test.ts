// The reproduction check for module code: the pre build of a module's object is compared with
// Debian's shipped .ko (linked at a made-up address by linkShippedModule), byte for byte outside
// relocations, which must lead to the same symbols. Every module object of the corpus reproduces;
// one flipped byte in a pre function is caught, naming the function and offset.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, readlink, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createUpdate, MissingShippedModulesError } from '../../src/create/create.ts';
import { doubleBuild } from '../../src/create/double-build.ts';
import { checkReproduction } from '../../src/create/reproduction-check.ts';
import { checkShippedModuleFor, linkShippedModule, moduleInfo, shippedModulePath } from '../../src/create/shipped-module.ts';
import { readElf } from '../../src/elf/reader.ts';
import { isFunction } from '../../src/elf/types.ts';
import { relocationResult, impliedSymbolValue } from '../../src/x86/relocation-values.ts';
import { R_X86_64_32S, R_X86_64_64, R_X86_64_PC32, R_X86_64_PLT32 } from '../../src/x86/relocations.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { corpusPatch, scratchDir } from '../helpers/paths.ts';

let target: TargetKernel;
let scratch: string;

before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('shipped-module');
});
after(() => rm(scratch, { recursive: true, force: true }));

async function preObject(patch: string, object: string) {
  const build = await doubleBuild({
    tree: target.sourceDir,
    patchPath: corpusPatch(patch),
    outDir: path.join(scratch, path.basename(patch)),
    log: () => {},
  });
  assert.ok(build.objects.includes(object), `${object} built`);
  return readElf(await readFile(path.join(build.preDir, object)));
}

async function linked(module: string) {
  return linkShippedModule(readElf(await readFile(await shippedModulePath(target.modulesDir, module))));
}

test('relocationResult is the inverse of impliedSymbolValue for every type the modules use', () => {
  const place = 0xffffffffc0001000n;
  for (const type of [R_X86_64_PC32, R_X86_64_PLT32, R_X86_64_32S, R_X86_64_64]) {
    for (const symbol of [0xffffffffc0000040n, 0xffffffffb0000010n]) {
      const stored = relocationResult(type, symbol, place, -4n);
      const width = type === R_X86_64_64 ? 64n : 32n;
      assert.equal(impliedSymbolValue(type, stored & ((1n << width) - 1n), place, -4n), symbol, `type ${type}`);
    }
  }
});

test('a shipped module is found by its kernel name through modules.order, and a missing one is refused by name', async () => {
  assert.match(await shippedModulePath(target.modulesDir, 'sch_multiq'), /kernel\/net\/sched\/sch_multiq\.ko$/);
  assert.match(await shippedModulePath(target.modulesDir, 'ext4'), /kernel\/fs\/ext4\/ext4\.ko$/);
  await assert.rejects(shippedModulePath(target.modulesDir, 'no_such_module'), /module no_such_module is not among the shipped modules/);
});

for (const [patch, object, module, changed] of [
  ['modules-6.1.176-to-6.1.190/fs_ext4_namei.patch', 'fs/ext4/namei.o', 'ext4', 'ext4_search_dir'],
  ['modules-6.1.176-to-6.1.190/fs_ext4_ialloc.patch', 'fs/ext4/ialloc.o', 'ext4', '__ext4_new_inode'],
  ['modules-6.1.176-to-6.1.190/net_sched_sch_multiq.patch', 'net/sched/sch_multiq.o', 'sch_multiq', 'multiq_dequeue'],
  ['modules-6.1.176-to-6.1.190/net_sctp_auth.patch', 'net/sctp/auth.o', 'sctp', 'sctp_auth_ep_add_chunkid'],
] as const) {
  test(`${object} built here reproduces Debian's shipped ${module}.ko`, async () => {
    const pre = await preObject(patch, object);
    const { kernel, map } = await linked(module);
    const report = checkReproduction(pre, object, map, kernel);
    assert.deepEqual(report.mismatches, []);
    assert.ok(
      report.checked.some((c) => c.function === changed),
      `${changed} was checked`,
    );
    const withCode = pre.symbols.filter((s) => isFunction(s) && s.size > 0).length;
    assert.ok(report.checked.length >= withCode / 2, `${report.checked.length} of ${withCode} functions checked`);
  });
}

test('one byte changed in a pre function is caught, naming the function and offset', async () => {
  const pre = await preObject('modules-6.1.176-to-6.1.190/net_sched_sch_multiq.patch', 'net/sched/sch_multiq.o');
  const fn = pre.symbols.find((s) => s.name === 'multiq_dequeue')!;
  const covered = new Set(
    (pre.sections.find((s) => s.rela?.target === fn.section)?.rela?.entries ?? []).flatMap((r) => [0, 1, 2, 3].map((i) => r.offset + i)),
  );
  let at = fn.value + 8;
  while (covered.has(at)) at++;
  fn.section!.data[at] ^= 0x01;
  const { kernel, map } = await linked('sch_multiq');
  const report = checkReproduction(pre, 'net/sched/sch_multiq.o', map, kernel);
  assert.equal(report.mismatches.length, 1);
  assert.equal(report.mismatches[0].function, 'multiq_dequeue');
  assert.equal(report.mismatches[0].offset, at - fn.value);
});

test('a config dir without the shipped modules is an error for a module patch, before any update is made', async () => {
  const configDir = path.join(scratch, 'config-without-modules');
  await mkdir(configDir);
  for (const file of ['.config', 'System.map']) await copyFile(path.join(target.configDir, file), path.join(configDir, file));
  for (const link of ['build', 'vmlinux']) await symlink(await readlink(path.join(target.configDir, link)), path.join(configDir, link));
  await assert.rejects(
    createUpdate({
      sourceDir: target.sourceDir,
      configDir,
      patchPath: corpusPatch('modules-6.1.176-to-6.1.190/net_sched_sch_multiq.patch'),
      analyzeOnly: true,
      log: () => {},
    }),
    (e: Error) =>
      e instanceof MissingShippedModulesError && /net\/sched\/sch_multiq\.o/.test(e.message) && /--skip-reproduction-check/.test(e.message),
  );
});

test("a composite module's same-named static functions are all listed, in symbol table order (the engine's sympos)", async () => {
  const ext4 = await linked('ext4');
  const delayed = ext4.functionAddresses('ext4_es_is_delayed');
  assert.equal(delayed.length, 2, 'ext4_es_is_delayed is emitted out of line by two objects of ext4.ko');
  assert.notEqual(delayed[0], delayed[1]);
  assert.equal(ext4.functionAddresses('ext4_search_dir').length, 1);
  assert.deepEqual(ext4.functionAddresses('no_such_function'), []);
});

test('a shipped module built for another kernel is refused by name, naming both releases', async () => {
  const where = await shippedModulePath(target.modulesDir, 'sch_multiq');
  const info = moduleInfo(readElf(await readFile(where)));
  assert.match(info.get('vermagic') ?? '', new RegExp(`^${target.release.replace(/\./g, '\\.')} SMP`));
  assert.doesNotThrow(() => checkShippedModuleFor(target.release, 'sch_multiq', info, where));
  assert.throws(
    () => checkShippedModuleFor('6.1.0-57-amd64', 'sch_multiq', info, where),
    new RegExp(`sch_multiq\\.ko \\(.*\\) was built for kernel ${target.release.replace(/\./g, '\\.')} .*not 6\\.1\\.0-57-amd64`),
  );
  assert.throws(() => checkShippedModuleFor(target.release, 'x', new Map(), 'x.ko'), /has no vermagic/);
});
