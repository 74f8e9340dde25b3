/**
 * The kernel engine (kmod/) in a real guest: Debian's 6.1.0-50-amd64 vmlinuz under QEMU (TCG),
 * KASLR on, with updates made by ksplice-create from small patches of the Debian tree
 * (test/helpers/test-updates.ts), some of them deliberately broken afterwards.
 *
 * Updates: cmdline1 (the corpus's proc_cmdline.patch; saved_command_line reached through a
 * livepatch relocation), cmdline2 (another change of the same function, stacked on it), cmdhook
 * (with the hooks of cmdline_hooks.c), nanosleep (do_nanosleep, for the busy check); broken copies:
 * cmdbad (pre code corrupted at +0x6), cmdaddr (the System.map address of seq_puts instead),
 * cmdwrong (made for another kernel release), cmdklp (its livepatch symbol renamed to another
 * kernel variable of the same name length: the loader resolves it, the core must refuse). Boots twice through the harness
 * (test/helpers/guest-scenario.ts): scenario-apply-undo.sh (sysfs directly) and scenario-tools.sh
 * (the busybox tools). Every run fails on a kernel splat or an unexpected taint.
 *
 * Run: bash scripts/test.sh test/kmod/engine.test.ts   (about 2 min on 2 cores)
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { readSystemMap, SystemMapIndex, type MapSymbol } from '../../src/kbuild/system-map.ts';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { runScenario, type ScenarioRun } from '../helpers/guest-scenario.ts';
import { klpSymbolName } from '../../src/create/klp-relocations.ts';
import { createTestUpdate, flipPreByte, le64, replaceAll, tamperUpdate, type TestUpdate } from '../helpers/test-updates.ts';
import { corpusPatch, fixture, REPO } from '../helpers/paths.ts';

const FIX = fixture('kmod');
const OUT = path.join(REPO, '.tmp/kmod-test');
const PROC_CMDLINE = corpusPatch('examples/proc_cmdline.patch');

/** `rmmod -f` (the forced-unload check) taints the kernel R, bit 3. */
const TAINT_FORCED_RMMOD = 1 << 3;

/** A scenario of test/fixtures/kmod in a guest; runScenario asserts the run clean (exit 0, no splat, no stray taint). */
function runGuest(vmlinuz: string, scenario: string, files: string[], extraTaint = 0): Promise<ScenarioRun> {
  return runScenario({ vmlinuz, scenario: path.join(FIX, scenario), files, extraTaint, keepLogAs: path.join(OUT, `${scenario}.log`) });
}

/** Another variable System.map holds once, whose name is as long as `name` (so a klp symbol can be renamed in place). */
function sameLengthVariable(symbols: readonly MapSymbol[], map: SystemMapIndex, name: string): string {
  const other = symbols.find(
    (s) =>
      s.type === 'B' && s.name !== name && s.name.length === name.length && /^[a-z_]+$/.test(s.name) && map.unique(s.name) !== undefined,
  )?.name;
  if (!other) throw new Error(`no other .bss variable named with ${name.length} letters`);
  return other;
}

describe('kmod engine in a QEMU guest (Debian 6.1.0-50-amd64, KASLR)', () => {
  let vmlinuz = '';
  let map: SystemMapIndex;
  const u: Record<string, TestUpdate> = {};

  before(async () => {
    const target = await ensureTarget();
    vmlinuz = target.vmlinuz;
    const make = async (id: string, patch: string, hooks?: string) =>
      (u[id] = await createTestUpdate(target, { id, patch, hooks, outputDir: OUT }));
    await make('cmdline1', PROC_CMDLINE);
    await make('cmdline2', path.join(FIX, 'cmdline-second.patch'));
    await make('cmdhook', path.join(FIX, 'cmdline-hooked.patch'), path.join(FIX, 'cmdline_hooks.c'));
    await make('nanosleep', path.join(FIX, 'nanosleep.patch'));
    const symbols = await readSystemMap(target.systemMap);
    map = new SystemMapIndex(symbols);
    await tamperUpdate(await make('cmdbad', PROC_CMDLINE), (ko, parts) =>
      flipPreByte(ko, parts.preFunction('fs/proc/cmdline.o', 'cmdline_proc_show'), 0x6),
    );
    await tamperUpdate(await make('cmdaddr', PROC_CMDLINE), (ko) =>
      replaceAll(ko, le64(map.unique('cmdline_proc_show')!), le64(map.unique('seq_puts')!)),
    );
    await tamperUpdate(await make('cmdklp', PROC_CMDLINE), (ko) =>
      replaceAll(
        ko,
        Buffer.from(`\x00${klpSymbolName('saved_command_line', 0)}\x00`),
        Buffer.from(`\x00${klpSymbolName(sameLengthVariable(symbols, map, 'saved_command_line'), 0)}\x00`),
      ),
    );
    await tamperUpdate(await make('cmdwrong', PROC_CMDLINE), (ko, parts) => {
      // the descriptor's release string only, not vermagic ("6.1.0-50-amd64 SMP ..."): the module must still load
      replaceAll(ko, Buffer.from(`\x00${target.release}\x00`), Buffer.from('\x006.1.0-99-amd64\x00'));
      parts.manifest.kernelRelease = '6.1.0-99-amd64';
    });
  });

  test('apply and undo cmdline_proc_show through sysfs, with hooks', async () => {
    const run = await runGuest(vmlinuz, 'scenario-apply-undo.sh', [u.cmdline1.core, u.cmdline1.ko, u.cmdhook.ko], TAINT_FORCED_RMMOD);
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

  test('tools, stacking, out of order, mismatch, wrong kernel, busy code', async () => {
    const run = await runGuest(vmlinuz, 'scenario-tools.sh', [
      ...['ksplice-apply', 'ksplice-undo', 'ksplice-view'].map((t) => path.join(REPO, 'kmod/tools', t)),
      ...['cmdline1', 'cmdline2', 'cmdbad', 'cmdaddr', 'cmdklp', 'cmdwrong', 'nanosleep'].map((id) => u[id].tarball),
    ]);
    const c = run.checks;
    const original = c.get('cmdline-original')!;
    assert.equal(c.get('view-empty-out'), 'No Ksplice updates installed');
    assert.equal(c.get('apply1-rc'), '0');
    assert.match(c.get('apply1-out')!, /^Ksplice update cmdline1 applied successfully/);
    assert.equal(c.get('cmdline-1'), `${original} [rebootless update applied]`);
    // The module loader resolved saved_command_line through .klp.rela.vmlinux.* (no klp_enable_patch).
    assert.equal(c.get('taint-livepatch-1'), '1');
    assert.equal(c.get('apply1-twice-rc'), '1');
    assert.equal(c.get('apply1-twice-err'), 'ksplice-apply: update cmdline1 is already applied');
    assert.equal(c.get('modules-after-twice'), '1', 'the second apply loaded nothing');
    // ksplice-view --id shows what the update is: the description and patch ksplice-apply kept.
    assert.match(
      c.get('view-patch-1')!,
      /^Description: Ksplice update cmdline1 for 6\.1\.0-50-amd64: replaces cmdline_proc_show \(from proc_cmdline\.patch\);Patch:; {2}--- a\/fs\/proc\/cmdline\.c;/,
    );
    // ...and the core checked that address against System.map + the KASLR slide before applying.
    const loaded = /^saved_command_line 0x([0-9a-f]+) 0x([0-9a-f]+) verified;$/.exec(c.get('loaded-symbols-1')!);
    assert.ok(loaded, `loaded_symbols: ${c.get('loaded-symbols-1')}`);
    const slide = BigInt(`0x${c.get('kallsyms-printk')}`) - map.unique('_printk')!;
    assert.notEqual(slide, 0n, 'KASLR moved the kernel');
    assert.equal(BigInt(`0x${loaded[2]}`), map.unique('saved_command_line'));
    assert.equal(BigInt(`0x${loaded[1]}`) - BigInt(`0x${loaded[2]}`), slide, 'resolved = System.map + slide');
    assert.equal(c.get('apply2-rc'), '0');
    assert.equal(c.get('cmdline-2'), `${original} [second update]`, 'the newest update of a function wins');
    assert.equal(c.get('view'), 'cmdline1 applied;cmdline2 applied;');
    assert.equal(c.get('view-id'), 'Stage: applied;Last abort: none;');
    assert.equal(c.get('undo1-out-of-order-rc'), '1');
    assert.match(c.get('undo1-out-of-order-err')!, /out_of_order: cmdline_proc_show is patched again by later update cmdline2/);
    assert.equal(c.get('cmdline-still-2'), `${original} [second update]`);
    assert.equal(c.get('undo2-rc'), '0');
    assert.equal(c.get('cmdline-back-to-1'), `${original} [rebootless update applied]`);
    assert.equal(c.get('undo1-rc'), '0');
    assert.equal(c.get('kept-after-undo'), '', 'undo forgets the kept patches');
    assert.doesNotMatch(original, /update/);

    assert.equal(c.get('apply-bad-rc'), '1');
    assert.match(c.get('apply-bad-err')!, /no_match: cmdline_proc_show\+0x6: running byte 0x48, pre code 0xb7/);
    assert.equal(c.get('bad-module-left'), '0');
    assert.equal(c.get('cmdline-after-bad'), original, 'a mismatch changes nothing');

    assert.equal(c.get('apply-klp-rc'), '1');
    assert.match(
      c.get('apply-klp-err')!,
      /bad_address: saved_command_line: the module loader resolved it to 0x[0-9a-f]+, System\.map 0x[0-9a-f]+ \+ slide gives 0x[0-9a-f]+/,
    );
    assert.equal(c.get('klp-module-left'), '0');
    assert.equal(c.get('cmdline-after-klp'), original, 'a wrong resolution changes nothing');

    assert.equal(c.get('undo-unknown-rc'), '1');
    assert.equal(c.get('undo-unknown-err'), 'ksplice-undo: update nosuchid is not loaded');
    assert.equal(c.get('view-unknown-rc'), '1');
    assert.equal(c.get('view-unknown-err'), 'ksplice-view: update nosuchid is not loaded');

    assert.equal(c.get('apply-addr-rc'), '1');
    assert.match(
      c.get('apply-addr-err')!,
      /bad_address: cmdline_proc_show: System\.map address 0x[0-9a-f]+ \+ slide 0x[0-9a-f]+ is seq_puts\+0x0\/0x[0-9a-f]+ in the running kernel/,
    );
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
    assert.equal(c.get('modules-left'), '0');
    assert.equal(c.get('rmmod-core'), 'ok');
    for (const id of ['cmdline1', 'cmdline2', 'nanosleep']) {
      assert.match(run.dmesg, new RegExp(`ksplice: Update ${id} applied successfully\\n`));
      assert.match(run.dmesg, new RegExp(`ksplice: Update ${id} reversed successfully\\n`));
    }
  });
});
