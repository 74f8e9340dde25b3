// The create stage's run-pre material (src/create/run-pre-sites.ts) on one real Debian object where
// the order of the relocation table matters. Whole objects are matched in the guest by
// test/kmod/matcher.test.ts (through test/helpers/stub-update.ts).
//
// Run: bash scripts/test.sh test/create/run-pre-sites.test.ts
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { runPreTarget } from '../../src/create/run-pre-sites.ts';
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
