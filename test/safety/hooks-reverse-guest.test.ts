// The reverse side of the hooks in the QEMU guest of Debian's kernel (kmod/ksplice_hooks.h):
// an update built from the corpus proc_cmdline.patch with test/fixtures/safety/reverse-hooks.c,
// which registers pre_reverse, check_reverse, reverse, post_reverse and fail_reverse. A refusing
// check_reverse, then a refusing pre_reverse, each make `ksplice-undo` fail with call_failed,
// leave the update applied with its effect visible and run fail_reverse; with both refusals
// switched off (module parameters) the undo succeeds and runs post_reverse. The order of the
// hook calls comes from the kernel log. Then shadow variables: those attached by the module's
// code are freed when its module goes away, by rmmod of an update not applied, and by `rmmod -f`
// of an applied one (which reverses it first, waiving a refusing check_reverse).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { createUpdate } from '../helpers/create-cli.ts';
import { runScenario } from '../helpers/guest-scenario.ts';
import { fixture, REPO as repo, scratchDir } from '../helpers/paths.ts';

const fixtures = fixture('safety');
/** Kernel taint 'R': a module was removed with `rmmod -f`. */
const TAINT_FORCED_RMMOD = 1 << 3;
let target: TargetKernel;
let scratch: string;

before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('reverse-hooks');
});
after(() => (process.env.KEEP_SCRATCH ? undefined : rm(scratch, { recursive: true, force: true })));

/** The kernel log lines of the run that say what the hooks and the core did (not timings). */
function hookAndCoreLines(output: string): string[] {
  return [...output.matchAll(/^CHECK log: (.*)$/gm)]
    .map((m) => m[1]!)
    .filter((l) => !/: machine stopped for | loaded \(\d+ functions\)$/.test(l));
}

test('reverse hooks: refused undos leave the update applied and run fail_reverse; the undo after them runs post_reverse; shadows go with the module', async () => {
  const made = await createUpdate({
    patch: path.join(repo, 'corpus/examples/proc_cmdline.patch'),
    sourceDir: target.sourceDir,
    outputDir: scratch,
    extra: [`--hooks=${path.join(fixtures, 'reverse-hooks.c')}`],
  });
  assert.equal(made.exitCode, 0, made.stderr.slice(-3000));
  const id: string = made.json.id;
  const { checks, output } = await runScenario({
    vmlinuz: target.vmlinuz,
    scenario: path.join(fixtures, 'scenario-reverse-hooks.sh'),
    files: [made.json.tarball],
    extraTaint: TAINT_FORCED_RMMOD,
    keepLogAs: path.join(scratch, 'reverse-hooks.log'),
  });
  const before = checks.get('before')!;
  const applied = `${before} [rebootless update applied]`;
  assert.equal(checks.get('apply-rc'), '0', output);
  assert.equal(checks.get('applied-cmdline'), applied);
  assert.equal(checks.get('applied-shadows'), '3', 'the apply hook attached three shadows inside the stop');

  // Each refusal: ksplice-undo fails with the core's reason, the update stays applied and working.
  for (const [name, stage] of [
    ['check-refused', 'check_reverse'],
    ['pre-refused', 'pre_reverse'],
  ]) {
    assert.equal(checks.get(`${name}-rc`), '1', output);
    assert.equal(checks.get(`${name}-output`), `ksplice-undo: error reversing update ${id}: call_failed: ${stage} hook refused`);
    assert.equal(checks.get(`${name}-stage`), 'applied');
    assert.equal(checks.get(`${name}-cmdline`), applied, 'the fix is still visible');
    assert.equal(checks.get(`${name}-shadows`), '3', 'a refused undo frees nothing');
    assert.equal(checks.get(`${name}-module`), '1', 'the update module stays loaded');
  }
  assert.equal(checks.get('undo-rc'), '0', output);
  assert.equal(checks.get('undone-cmdline'), before);
  assert.equal(checks.get('undone-module'), '0');

  // Shadows attached by the module's own code, never applied: freed by rmmod.
  assert.equal(checks.get('loaded-stage'), 'loaded');
  assert.equal(checks.get('loaded-shadows'), '2');
  assert.equal(checks.get('unloaded-module'), '0');
  // Applied, 3 + 1 shadows, removed with rmmod -f: reversed first (check_reverse's refusal
  // waived), every shadow freed, the old /proc/cmdline back, the update's sysfs gone.
  assert.equal(checks.get('reapply-rc'), '0', output);
  assert.equal(checks.get('reapplied-shadows'), '4');
  assert.equal(checks.get('forced-rc'), '0', output);
  assert.equal(checks.get('forced-module'), '0');
  assert.equal(checks.get('forced-cmdline'), before);
  assert.equal(checks.get('forced-sysfs'), '1', `/sys/kernel/ksplice/${id} removed`);

  const update = `ksplice: Update ${id}`;
  assert.deepEqual(
    hookAndCoreLines(output),
    [
      `${update} applied successfully`,
      // 1. check_reverse refuses inside the stop: the core aborts, then fail_reverse runs.
      'revtest: pre_reverse refuse_pre=0 refuse_check=1',
      `${update} aborted (a hook of the update returned an error): call_failed: check_reverse hook refused`,
      'revtest: fail_reverse: calls: pre_reverse check_reverse(refused) fail_reverse; shadow attached=1',
      // pre_reverse refuses before the stop: no check_reverse, no switch.
      'revtest: pre_reverse refuse_pre=1 refuse_check=0',
      `${update} aborted (a hook of the update returned an error): call_failed: pre_reverse hook refused`,
      'revtest: fail_reverse: calls: pre_reverse(refused) fail_reverse; shadow attached=1',
      // The undo: every reverse hook in its place, shadows freed after post_reverse.
      'revtest: pre_reverse refuse_pre=0 refuse_check=0',
      'revtest: post_reverse: calls: pre_reverse check_reverse reverse post_reverse; shadow attached=1',
      `${update} reversed: freed 3 shadow variable(s)`,
      `${update} reversed successfully`,
      // 2. rmmod of the loaded, never applied update.
      `${update} unloaded: freed 2 shadow variable(s)`,
      // 3. rmmod -f of the applied update.
      `${update} applied successfully`,
      `${update}: forced unload while applied, reversing it first`,
      'revtest: pre_reverse refuse_pre=0 refuse_check=1',
      'revtest: post_reverse: calls: pre_reverse check_reverse(refused) reverse post_reverse; shadow attached=1',
      `${update} reversed: freed 4 shadow variable(s)`,
      `${update} reversed successfully`,
    ],
    output,
  );
});
