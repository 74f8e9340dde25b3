/**
 * Targets in a loadable module, in the guest (Debian's kernel, KASLR, TCG): an update of
 * binfmt_misc.ko's bm_status_read (test/fixtures/kmod/binfmt-status.patch), made by the create
 * stage's parts with the object's module (test/helpers/module-update.ts), and binfmt_misc.ko of
 * the target's /lib/modules insmodded directly.
 * One boot, five scenarios (test/fixtures/kmod/scenario-module-targets.sh): loaded before apply;
 * loaded after apply, rmmod while patched and loaded again; undo while the module is gone; a
 * run-pre mismatch refused at apply and, for a module loaded later, refused at its load; two
 * updates of the same module function (binfmt-status-second.patch on top), reloaded in between.
 * A second boot: new code reading the module's own static `enabled` (binfmt-status-static.patch,
 * test/fixtures/kmod/scenario-module-static.sh), resolved by the core against the loaded module.
 *
 * Run: bash scripts/test.sh test/kmod/module-targets.test.ts
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { runScenario } from '../helpers/guest-scenario.ts';
import { buildModuleUpdate, writeTamperedCopy, type ModuleUpdate } from '../helpers/module-update.ts';
import { fixture, REPO } from '../helpers/paths.ts';

const FIX = fixture('kmod');
const OUT = path.join(REPO, '.tmp/kmod-modules');

let vmlinuz = '';
let binfmtKo = '';
let update: ModuleUpdate;
let tampered = '';
let second: ModuleUpdate;

before(async () => {
  const target = await ensureTarget();
  vmlinuz = target.vmlinuz;
  binfmtKo = path.join(target.modulesDir, 'kernel/fs/binfmt_misc.ko');
  update = await buildModuleUpdate(target, { id: 'bmstat', patch: path.join(FIX, 'binfmt-status.patch'), outputDir: OUT });
  tampered = await writeTamperedCopy(update, 11); // +11: `push %r13` after the load of `enabled`, no site there
  second = await buildModuleUpdate(target, { id: 'bmstat2', patch: path.join(FIX, 'binfmt-status-second.patch'), outputDir: OUT });
});

test('the update names its module target', () => {
  assert.deepEqual(update.modules, { 'fs/binfmt_misc.o': 'binfmt_misc' });
  assert.deepEqual(update.replaced, [{ object: 'fs/binfmt_misc.o', function: 'bm_status_read' }]);
});

test('module targets in the guest: loaded before and after apply, rmmod while patched, undo while gone, mismatches refused, two updates stacked', async () => {
  const { checks: c, output } = await runScenario({
    vmlinuz,
    scenario: path.join(FIX, 'scenario-module-targets.sh'),
    files: [update.core, update.ko, tampered, second.ko, binfmtKo, path.join(REPO, 'kmod/tools/ksplice-view')],
    keepLogAs: path.join(OUT, 'module-targets.log'),
  });
  const log = [...output.matchAll(/^CHECK log: (.*)$/gm)].map((m) => m[1]!);
  const all = `${output}`;
  // 1. loaded before apply
  assert.equal(c.get('s1-before'), 'enabled', all);
  assert.equal(c.get('s1-modules-loaded'), 'binfmt_misc unpatched', all);
  assert.equal(c.get('s1-apply-rc'), '0', all);
  assert.equal(c.get('s1-after'), 'patched by ksplice', all);
  assert.equal(c.get('s1-modules'), 'binfmt_misc patched', all);
  assert.match(c.get('s1-functions') ?? '', /^bm_status_read 0xffffffffc[0-9a-f]+ ksplice_new_bm_status_read/, all);
  assert.equal(c.get('s1-undo-rc'), '0', all);
  assert.equal(c.get('s1-undone'), 'enabled', all);
  assert.equal(c.get('s1-modules-undone'), 'binfmt_misc unpatched', all);
  // 2. applied first, loaded after; rmmod while patched; loaded again
  assert.equal(c.get('s2-unloaded'), '0', all);
  assert.equal(c.get('s2-apply-rc'), '0', all);
  assert.equal(c.get('s2-modules-absent'), 'binfmt_misc pending', all);
  assert.equal(c.get('s2-load-rc'), '0', all);
  assert.equal(c.get('s2-modules-loaded'), 'binfmt_misc patched', all);
  assert.equal(c.get('s2-after'), 'patched by ksplice', all);
  assert.equal(c.get('s2-view'), 'binfmt_misc patched', 'ksplice-view shows the module state');
  assert.equal(c.get('s2-rmmod-rc'), '0', 'rmmod of the patched module works');
  assert.equal(c.get('s2-modules-removed'), 'binfmt_misc pending', all);
  assert.equal(c.get('s2-again'), 'patched by ksplice', all);
  assert.equal(c.get('s2-modules-again'), 'binfmt_misc patched', all);
  assert.ok(log.includes('ksplice: Update bmstat: module binfmt_misc patched at load'), log.join('\n'));
  assert.ok(log.includes('ksplice: Update bmstat: module binfmt_misc unloaded, its targets pending'), log.join('\n'));
  // 3. undo while gone
  assert.equal(c.get('s3-undo-rc'), '0', all);
  assert.equal(c.get('s3-stage'), 'reversed', all);
  assert.equal(c.get('s3-after'), 'enabled', all);
  assert.equal(c.get('s3-rmmod-update'), '0', all);
  // 4. mismatch: refused at apply, and at a later load
  assert.notEqual(c.get('s4-apply-rc'), '0', all);
  assert.match(c.get('s4-abort') ?? '', /^no_match: bm_status_read\+0xb: running byte 0x41, pre code 0xbe$/, all);
  assert.equal(c.get('s4-stage'), 'loaded', all);
  assert.equal(c.get('s4-status'), 'enabled', all);
  assert.equal(c.get('s4-apply-absent-rc'), '0', all);
  assert.equal(c.get('s4-modules'), 'binfmt_misc pending', all);
  assert.notEqual(c.get('s4-insmod-rc'), '0', 'the load of a module that does not match is refused');
  assert.equal(c.get('s4-loaded'), '0', all);
  assert.ok(
    log.some((l) =>
      /^ksplice: bmstat: refusing to load binfmt_misc: no_match: bm_status_read\+0xb: running byte 0x41, pre code 0xbe$/.test(l),
    ),
    log.join('\n'),
  );
  assert.equal(c.get('s4-undo-rc'), '0', all);
  assert.equal(c.get('s4-final'), 'enabled', all);
  // 5. two updates of one module function
  assert.equal(c.get('s5-both'), 'patched again by ksplice', all);
  assert.equal(c.get('s5-reload'), 'patched again by ksplice', 'the newer update is on top after a reload too');
  assert.equal(c.get('s5-modules'), 'binfmt_misc patched / binfmt_misc patched', all);
  assert.notEqual(c.get('s5-undo-older-rc'), '0', all);
  assert.equal(c.get('s5-undo-older'), 'out_of_order: bm_status_read is patched again by later update bmstat2', all);
  assert.equal(c.get('s5-undo-newer'), 'patched by ksplice', all);
  assert.equal(c.get('s5-undo-older-after'), 'enabled', all);
  assert.equal(c.get('cleanup'), 'ok', all);
});

test("new code reading the module's own static data follows the loaded module's variable, also after a reload", async () => {
  const target = await ensureTarget();
  const statics = await buildModuleUpdate(target, { id: 'bmstatic', patch: path.join(FIX, 'binfmt-status-static.patch'), outputDir: OUT });
  const { checks: c, output } = await runScenario({
    vmlinuz,
    scenario: path.join(FIX, 'scenario-module-static.sh'),
    files: [statics.core, statics.ko, binfmtKo],
    keepLogAs: path.join(OUT, 'module-static.log'),
  });
  assert.equal(c.get('st-apply-rc'), '0', output);
  assert.equal(c.get('st-enabled'), 'enabled (ksplice)', output);
  assert.equal(c.get('st-disabled'), 'disabled (ksplice)', "the new code reads the module's own `enabled`");
  assert.equal(c.get('st-modules-absent'), 'binfmt_misc pending', output);
  assert.equal(c.get('st-reload-rc'), '0', output);
  assert.equal(c.get('st-reloaded'), 'enabled (ksplice)', output);
  assert.equal(c.get('st-reloaded-disabled'), 'disabled (ksplice)', "after a reload: the new instance's variable");
  assert.equal(c.get('st-undo-rc'), '0', output);
  assert.equal(c.get('st-undone'), 'disabled', output);
  assert.equal(c.get('st-cleanup'), 'ok', output);
  const log = [...output.matchAll(/^CHECK log: (.*)$/gm)].map((m) => m[1]!);
  assert.equal(log.filter((l) => /Update bmstatic: \d+ reference\(s\) into module binfmt_misc resolved/.test(l)).length, 2, log.join('\n'));
});
