/**
 * The kernel engine (kmod/) in a real guest: Debian's 6.1.0-50-amd64 vmlinuz under QEMU (TCG),
 * KASLR on, with update modules built by the fixture generator from the Debian tree.
 *
 * Builds: the core, updates cmdline1/cmdline2 (two versions of cmdline_proc_show), cmdbad (pre
 * code corrupted at +0x6), cmdwrong (another kernel release) and nanosleep (do_nanosleep, for the
 * busy check), cmdklp (new code naming saved_command_line, resolved by the module loader through a
 * livepatch relocation). Boots three times through the harness (test/helpers/guest-scenario.ts):
 * scenario-apply-undo.sh (sysfs directly), scenario-printk.sh and scenario-tools.sh (the busybox
 * tools). Every run fails on a kernel splat or an unexpected taint.
 *
 * Run: bash scripts/test.sh test/kmod/engine.test.ts   (about 1 min on 2 cores)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { runScenario, type ScenarioRun } from '../helpers/guest-scenario.ts';

const exec = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIX = path.join(REPO, 'test/fixtures/kmod');
const OUT = path.join(REPO, '.tmp/kmod-test');

async function makeUpdate(id: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('npx', ['tsx', path.join(FIX, 'make-update.ts'), `--id=${id}`, `--out=${OUT}`, ...args], {
    cwd: REPO, maxBuffer: 1 << 24,
  });
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { tarball: string }).tarball;
}

/** `rmmod -f` (the forced-unload check) taints the kernel R, bit 3. */
const TAINT_FORCED_RMMOD = 1 << 3;

const cmdline = ['--func=cmdline_proc_show', '--object=fs/proc/cmdline.o', '--new-code=test/fixtures/kmod/cmdline_new.c', '--symbol=saved_command_line'];

/** A scenario of test/fixtures/kmod in a guest; runScenario asserts the run clean (exit 0, no splat, no stray taint). */
function runGuest(vmlinuz: string, scenario: string, files: string[], extraTaint = 0): Promise<ScenarioRun> {
  return runScenario({ vmlinuz, scenario: path.join(FIX, scenario), files, extraTaint, keepLogAs: path.join(OUT, `${scenario}.log`) });
}

describe('kmod engine in a QEMU guest (Debian 6.1.0-50-amd64, KASLR)', () => {
  let vmlinuz = '';
  const tarballs: Record<string, string> = {};
  let hookUpdate = '';
  let printkTarball = '';

  before(async () => {
    const target = await ensureTarget();
    vmlinuz = target.vmlinuz;
    tarballs.cmdline1 = await makeUpdate('cmdline1', ...cmdline);
    tarballs.cmdline2 = await makeUpdate('cmdline2', ...cmdline, '--define=MESSAGE="[second update]"');
    tarballs.cmdbad = await makeUpdate('cmdbad', ...cmdline, '--corrupt-pre-byte=0x6');
    tarballs.cmdwrong = await makeUpdate('cmdwrong', ...cmdline, '--kernel-release=6.1.0-99-amd64');
    tarballs.cmdaddr = await makeUpdate('cmdaddr', ...cmdline, '--map-addr-of=seq_puts');
    hookUpdate = await makeUpdate('cmdhook', ...cmdline, '--define=MESSAGE="[hooked update]"', '--hooks=test/fixtures/kmod/cmdline_hooks.c');
    tarballs.nanosleep = await makeUpdate('nanosleep', '--func=do_nanosleep', '--object=kernel/time/hrtimer.o',
      '--new-code=test/fixtures/kmod/nanosleep_new.c');
    tarballs.nanocomp = await makeUpdate('nanocomp', '--func=do_nanosleep', '--object=kernel/time/hrtimer.o',
      '--new-code=test/fixtures/kmod/nanosleep_new.c', '--companion=hrtimer_nanosleep');
    printkTarball = await makeUpdate('8c4o6ucj', '--func=_printk', '--object=kernel/printk/printk.o',
      '--new-code=test/fixtures/kmod/printk_new.c');
    tarballs.cmdklp = await makeUpdate('cmdklp', '--func=cmdline_proc_show', '--object=fs/proc/cmdline.o',
      '--new-code=test/fixtures/kmod/cmdline_new_klp.c', '--klp-symbol=saved_command_line');
  });

  test('apply and undo cmdline_proc_show through sysfs, with hooks', async () => {
    const dir = path.dirname(tarballs.cmdline1);
    const run = await runGuest(vmlinuz, 'scenario-apply-undo.sh',
      [path.join(REPO, 'kmod/ksplice.ko'), path.join(dir, 'ksplice-cmdline1/ksplice_cmdline1.ko'),
        path.join(path.dirname(hookUpdate), 'ksplice-cmdhook/ksplice_cmdhook.ko')], TAINT_FORCED_RMMOD);
    const c = run.checks;
    const original = c.get('before')!;
    assert.match(original, /console=ttyS0/);
    assert.equal(c.get('stage-loaded'), 'loaded');
    assert.equal(c.get('after-load'), original, 'loading the update changes nothing');
    assert.equal(c.get('apply-rc'), '0');
    assert.equal(c.get('stage-applied'), 'applied');
    assert.equal(c.get('applied'), `${original} [rebootless update applied]`);
    assert.ok(Number(c.get('stop_ns')) > 0, 'stop time measured');
    assert.ok(Number(c.get('stop_total_ns')) >= Number(c.get('stop_ns')));
    assert.equal(c.get('rmmod-update-while-applied'), 'refused');
    assert.equal(c.get('rmmod-core-while-applied'), 'refused');
    assert.equal(c.get('apply-twice-rc'), 'failed');
    assert.match(c.get('apply-twice-cause')!, /^already_applied: /);
    assert.equal(c.get('undo-rc'), '0');
    assert.equal(c.get('stage-reversed'), 'reversed');
    assert.equal(c.get('reversed'), original, 'undo restores the original behaviour');
    assert.match(c.get('undo-twice-cause')!, /^not_applied: /);
    assert.equal(c.get('rmmod-update'), 'ok');
    assert.equal(c.get('rmmod-core'), 'ok');
    assert.match(run.dmesg, /ksplice: Update cmdline1 applied successfully\n/);
    assert.match(run.dmesg, /ksplice: Update cmdline1 reversed successfully\n/);

    // Hooks: a refusing pre_apply aborts cleanly (fail_apply runs), then apply/reverse hooks
    // run inside stop_machine (interrupts off) and post hooks after.
    assert.equal(c.get('hook-first-apply'), 'call_failed: pre_apply hook refused');
    assert.equal(c.get('hook-stage-after-refusal'), 'loaded');
    assert.equal(c.get('hook-cmdline-after-refusal'), original);
    assert.equal(c.get('hook-second-apply'), 'ok');
    assert.equal(c.get('hook-cmdline'), `${original} [hooked update]`);
    assert.equal(c.get('hook-undo'), 'ok');
    assert.equal(c.get('hook-rmmod'), 'ok');
    // rmmod -f of an applied update: reversed by the core before the module goes.
    assert.equal(c.get('force-applied'), `${original} [rebootless update applied]`);
    assert.equal(c.get('force-rmmod'), 'ok');
    assert.equal(c.get('force-after'), original);
    assert.equal(c.get('force-module-left'), '0');
    assert.equal(c.get('force-rmmod-core'), 'ok');
    assert.match(run.dmesg, /ksplice: Update cmdline1: forced unload while applied, reversing it first\n/);
    // Coexistence with the function tracer.
    assert.match(c.get('traced-apply')!, /^no_match: cmdline_proc_show\+0x0: fentry calls 0x[0-9a-f]+, not a known ftrace entry/);
    assert.equal(c.get('untraced-apply'), 'ok');
    assert.equal(c.get('traced-after-apply'), `${original} [rebootless update applied]`);
    assert.ok(Number(c.get('trace-lines')) > 0, 'the tracer saw the call too');
    assert.equal(c.get('traced-undo'), 'ok');
    assert.equal(c.get('traced-after-undo'), original);
    assert.equal(c.get('traced-rmmod'), 'ok');
    assert.match(c.get('hook-first-apply')!, /^call_failed/);
    assert.match(run.dmesg, /cmdhook: fail_apply\n/);
    assert.match(run.dmesg, /cmdhook: post_apply, apply hook ran with interrupts off\n/);
    assert.match(run.dmesg, /cmdhook: post_reverse, reverse hook ran with interrupts off\n/);
  });

  test("the article's example: _printk says \"Quoth the kernel:\" (ksplice-apply/undo)", async () => {
    const run = await runGuest(vmlinuz, 'scenario-printk.sh', [
      ...['ksplice-apply', 'ksplice-undo', 'ksplice-view'].map((t) => path.join(REPO, 'kmod/tools', t)), printkTarball,
    ]);
    // Multi-line values: parseChecks keeps the last line of each name, so read the log.
    const tail = [...run.output.matchAll(/^CHECK applied-tail: (.*)$/gm)].map((m) => m[1]);
    assert.equal(run.checks.get('apply-rc'), '0');
    assert.deepEqual(tail, ['Quoth the kernel:', 'ksplice: Update 8c4o6ucj applied successfully']);
    assert.equal(run.checks.get('view'), '8c4o6ucj applied;');
    assert.equal(run.checks.get('undo-rc'), '0');
    assert.equal(run.checks.get('reversed-tail'), 'ksplice: Update 8c4o6ucj reversed successfully');
    assert.equal(run.checks.get('quoth-after-undo'), '0', 'no Quoth once reversed');
  });

  test('tools, stacking, out of order, mismatch, wrong kernel, busy code', async () => {
    const run = await runGuest(vmlinuz, 'scenario-tools.sh', [
      ...['ksplice-apply', 'ksplice-undo', 'ksplice-view'].map((t) => path.join(REPO, 'kmod/tools', t)),
      ...Object.values(tarballs),
    ]);
    const c = run.checks;
    const original = c.get('cmdline-original')!;
    assert.equal(c.get('view-empty-out'), 'No Ksplice updates installed');
    assert.equal(c.get('apply1-rc'), '0');
    assert.match(c.get('apply1-out')!, /^Ksplice update cmdline1 applied successfully/);
    assert.equal(c.get('cmdline-1'), `${original} [rebootless update applied]`);
    assert.equal(c.get('apply2-rc'), '0');
    assert.equal(c.get('cmdline-2'), `${original} [second update]`, 'the newest update of a function wins');
    assert.equal(c.get('view'), 'cmdline1 applied;cmdline2 applied;');
    assert.equal(c.get('undo1-out-of-order-rc'), '1');
    assert.match(c.get('undo1-out-of-order-err')!, /out_of_order: cmdline_proc_show is patched again by later update cmdline2/);
    assert.equal(c.get('cmdline-still-2'), `${original} [second update]`);
    assert.equal(c.get('undo2-rc'), '0');
    assert.equal(c.get('cmdline-back-to-1'), `${original} [rebootless update applied]`);
    assert.equal(c.get('undo1-rc'), '0');
    assert.doesNotMatch(original, /update/);

    assert.equal(c.get('apply-bad-rc'), '1');
    assert.match(c.get('apply-bad-err')!, /no_match: cmdline_proc_show\+0x6: running byte 0x48, pre code 0xb7/);
    assert.equal(c.get('bad-module-left'), '0');
    assert.equal(c.get('cmdline-after-bad'), original, 'a mismatch changes nothing');

    assert.equal(c.get('apply-addr-rc'), '1');
    assert.match(c.get('apply-addr-err')!,
      /bad_address: cmdline_proc_show: System\.map address 0x[0-9a-f]+ \+ slide 0x[0-9a-f]+ is seq_puts\+0x0\/0x[0-9a-f]+ in the running kernel/);
    assert.equal(c.get('cmdline-after-addr'), original);

    assert.equal(c.get('apply-wrong-rc'), '1');
    assert.match(c.get('apply-wrong-err')!, /is for kernel 6\.1\.0-99-amd64/);
    assert.match(c.get('engine-wrong')!, /^wrong_kernel: /);

    assert.equal(c.get('apply-busy-rc'), '1');
    assert.match(c.get('apply-busy-err')!, /code_busy: after 5 attempts, still in use \(task pid function\): sleep \d+ do_nanosleep/);
    assert.match(c.get('busy-detail')!, /^sleep \d+ do_nanosleep$/);
    assert.equal(c.get('apply-not-busy-rc'), '0', 'applies once the sleeper is gone');
    assert.equal(c.get('sleep-under-new-code'), '2');
    assert.equal(c.get('undo-nanosleep-rc'), '0');
    assert.equal(c.get('apply-companion-rc'), '0', c.get('apply-companion-err'));
    assert.match(c.get('companion-functions')!, /^do_nanosleep 0x[0-9a-f]+ ksplice_new_do_nanosleep \[ksplice_nanocomp\];hrtimer_nanosleep 0x[0-9a-f]+ 0x0;$/);
    assert.ok(['1', '2'].includes(c.get('sleep-under-companion-update')!));
    assert.equal(c.get('undo-companion-rc'), '0', c.get('undo-companion-err'));
    // The module loader resolved saved_command_line through .klp.rela.vmlinux.* (no klp_enable_patch).
    assert.equal(c.get('apply-klp-rc'), '0', c.get('apply-klp-err'));
    assert.equal(c.get('cmdline-klp'), `${original} [klp-relocated update]`);
    assert.equal(c.get('taint-livepatch'), '1');
    assert.equal(c.get('undo-klp-rc'), '0');
    assert.equal(c.get('cmdline-after-klp'), original);
    assert.equal(c.get('modules-left'), '0');
    assert.equal(c.get('rmmod-core'), 'ok');
    for (const id of ['cmdline1', 'cmdline2', 'nanosleep', 'cmdklp']) {
      assert.match(run.dmesg, new RegExp(`ksplice: Update ${id} applied successfully\\n`));
      assert.match(run.dmesg, new RegExp(`ksplice: Update ${id} reversed successfully\\n`));
    }
  });
});
