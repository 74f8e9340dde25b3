// The create stage's run-pre material (src/create/run-pre-sites.ts) on one real Debian object where
// the order of the relocation table matters, and on a module's object (a target in binfmt_misc.ko). Whole objects are matched in the guest by
// test/kmod/matcher.test.ts (through test/helpers/stub-update.ts).
//
// Run: bash scripts/test.sh test/create/run-pre-sites.test.ts
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { runPreModuleTarget, runPreTarget } from '../../src/create/run-pre-sites.ts';
import { descriptorSource } from '../../src/create/update-descriptor.ts';
import { readElf } from '../../src/elf/reader.ts';
import { kbuildArgs } from '../../src/kbuild/flags.ts';
import { readSystemMap, SystemMapIndex } from '../../src/kbuild/system-map.ts';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { run } from '../../src/util/exec.ts';
import { withLock } from '../../src/util/lock.ts';

test('a retpoline site names its thunk even when objtool appended the relocation out of order', async () => {
  const target = await ensureTarget();
  await withLock(`${target.sourceDir}.build.lock`, () => run('make', [...kbuildArgs(target.sourceDir, 2), 'kernel/sched/core.o']));
  const core = readElf(await readFile(path.join(target.sourceDir, 'kernel/sched/core.o')));
  const relocs = core.sections.find((s) => s.name === '.rela.text.deactivate_task');
  assert.ok(relocs, 'deactivate_task has its own relocation section');
  // deactivate_task: +0x3e `jmp __x86_indirect_thunk_rax` (reloc +0x3f, listed last), +0x44 `call update_rq_clock` (reloc +0x45)
  const sites = runPreTarget(core, 'deactivate_task', new SystemMapIndex(await readSystemMap(target.systemMap))).sites;
  const retpoline = sites.find((s) => s.kind === 'RETPOLINE');
  assert.ok(retpoline, JSON.stringify(sites.map((s) => [s.kind, s.offset])));
  assert.equal(retpoline.offset, 0x3e);
  assert.equal(retpoline.symbol, '__x86_indirect_thunk_rax');
  assert.equal(retpoline.isJump, true);
  assert.equal(retpoline.length, 5);
});

test('a target in a loadable module: no System.map address, the module named, its own symbols resolved in the module', async () => {
  const target = await ensureTarget();
  await withLock(`${target.sourceDir}.build.lock`, () => run('make', [...kbuildArgs(target.sourceDir, 2), 'fs/binfmt_misc.o']));
  const obj = readElf(await readFile(path.join(target.sourceDir, 'fs/binfmt_misc.o')));
  const map = new SystemMapIndex(await readSystemMap(target.systemMap));
  const t = runPreModuleTarget(obj, 'bm_status_read', map, 'binfmt_misc');
  assert.equal(t.module, 'binfmt_misc');
  assert.equal(t.mapAddr, 0n);
  assert.deepEqual(t.candidates, []);
  assert.equal(t.sympos, 0);
  const reloc = (symbol: string) => t.sites.find((s) => s.kind === 'RELOC' && s.symbol === symbol);
  // `enabled` is a static of binfmt_misc.c: resolved by name in the loaded module, never through System.map
  assert.equal(reloc('enabled')?.symbolInModule, true);
  assert.equal(reloc('enabled')?.symbolMapAddr, 0n);
  // a vmlinux export the module calls: computed from System.map + slide, as for built-in code
  assert.equal(reloc('simple_read_from_buffer')?.symbolMapAddr, map.unique('simple_read_from_buffer'));
  assert.equal(reloc('simple_read_from_buffer')?.symbolInModule, false);
  // the .cold part (section symbol .text.unlikely.bm_status_read) is named by its holder, in the module
  assert.equal(reloc('bm_status_read.cold')?.symbolInModule, true);
  // merged strings: checked by content, not looked up
  const str = t.sites.find((s) => s.targetString === 'enabled\n');
  assert.ok(str && !str.symbolInModule, JSON.stringify(t.sites.map((s) => [s.kind, s.symbol])));
  assert.ok(t.sites.some((s) => s.kind === 'FENTRY'));

  const c = descriptorSource({
    id: 'modt',
    release: target.release,
    livepatch: false,
    targets: [{ ...t, newFunction: 'ksplice_new_bm_status_read' }],
    printkMapAddr: map.unique('_printk')!,
    stopMachineMapAddr: map.unique('stop_machine')!,
    modulesMapAddr: map.unique('modules')!,
  });
  assert.match(c, /\.module = "binfmt_misc",/);
  assert.match(c, /\.symbol = "enabled", \.symbol_in_module = 1,/);
  assert.match(c, new RegExp(`\\.modules_map_addr = 0x${map.unique('modules')!.toString(16)}UL,`));
  assert.doesNotMatch(c, /ksplice_candidates_bm_status_read/, 'a module target has no System.map candidates');
});
