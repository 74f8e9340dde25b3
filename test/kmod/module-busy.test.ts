/**
 * module_busy in the guest: an update asked to apply while its module is being unloaded. The
 * engine pins the update module for the whole apply (try_module_get); a module already going
 * away cannot be pinned, so the apply must abort with module_busy and change nothing, and the
 * unload must finish. The window is held open deterministically by another update whose
 * pre_apply hook sleeps under the engine's lock (test/fixtures/kmod/slow_pre_apply_hooks.c);
 * scenario-module-busy.sh has the timeline.
 *
 * Run: bash scripts/test.sh test/kmod/module-busy.test.ts   (about 30 s)
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { runScenario } from '../helpers/guest-scenario.ts';
import { createTestUpdate, type TestUpdate } from '../helpers/test-updates.ts';
import { fixture, REPO } from '../helpers/paths.ts';

const FIX = fixture('kmod');
const OUT = path.join(REPO, '.tmp/kmod-busy');

let vmlinuz = '';
let cmdline1: TestUpdate;
let slowhook: TestUpdate;

before(async () => {
  const target = await ensureTarget();
  vmlinuz = target.vmlinuz;
  cmdline1 = await createTestUpdate(target, {
    id: 'cmdline1',
    patch: path.join(REPO, 'corpus/examples/proc_cmdline.patch'),
    outputDir: OUT,
  });
  slowhook = await createTestUpdate(target, {
    id: 'slowhook',
    patch: path.join(FIX, 'cmdline-second.patch'),
    hooks: path.join(FIX, 'slow_pre_apply_hooks.c'),
    outputDir: OUT,
  });
});

test('apply of an update whose module is going away: module_busy, nothing changed, the unload completes', async () => {
  const { checks: c, output } = await runScenario({
    vmlinuz,
    scenario: path.join(FIX, 'scenario-module-busy.sh'),
    files: [cmdline1.core, cmdline1.ko, slowhook.ko],
    keepLogAs: path.join(OUT, 'module-busy.log'),
  });
  assert.equal(c.get('state-at-apply'), 'Unloading', `the apply was asked while the module was going away\n${output}`);
  assert.notEqual(c.get('apply-rc'), '0', 'the apply failed');
  const log = [...output.matchAll(/^CHECK log: (.*)$/gm)].map((m) => m[1]);
  assert.ok(
    log.includes(
      'ksplice: Update cmdline1 aborted (the update module is being unloaded or cannot be pinned): module_busy: module ksplice_cmdline1 is going away',
    ),
    log.join('\n'),
  );
  assert.ok(!log.some((l) => /Update cmdline1 applied/.test(l)), 'cmdline1 was never applied');
  assert.equal(c.get('cmdline'), 'original');
  assert.equal(c.get('rmmod'), 'rmmod rc 0', 'the unload completed');
  assert.equal(c.get('module-gone'), '0');
  assert.equal(c.get('dir-gone'), 'yes');
  // The hook that held the door: it ran, refused, and its update stayed as it was.
  assert.ok(log.includes('slowhook: pre_apply holding the engine for 3 s'), log.join('\n'));
  assert.notEqual(c.get('slowhook'), 'slowhook rc 0');
  assert.equal(c.get('slowhook-stage'), 'loaded');
  assert.equal(c.get('cleanup'), 'ok');
});
