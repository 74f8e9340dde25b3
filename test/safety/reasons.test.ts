// The safety analysis on the real Debian tree: each kind of change an update cannot carry without
// custom code, made by a minimal patch in test/fixtures/safety/, is refused by
// `ksplice-create --analyze-only --json` with exit 2 and a reason naming the cause; --accept lets
// reviewed findings through and still refuses the others.
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { createUpdate } from '../helpers/create-cli.ts';
import { CORPUS as corpus, fixture } from '../helpers/paths.ts';

const fixtures = fixture('safety');
let target: TargetKernel;

before(async () => {
  target = await ensureTarget();
});

interface Finding {
  symbol: string;
  reason: string;
}

async function analyze(patchPath: string, extra: string[] = []) {
  const result = await createUpdate({ patch: patchPath, sourceDir: target.sourceDir, extra: ['--analyze-only', ...extra] });
  return { ...result, json: result.json as { unsafe: Finding[]; accepted: Finding[]; changed: { object: string; function: string }[] } | null };
}

/** [patch, symbol of the finding, what its reason must say] */
const cases: [string, string, RegExp][] = [
  ['init-code.patch', 'proc_cmdline_init', /changed code in \.init\.text: __init\/__exit code runs once at boot/],
  ['init-data.patch', 'main_extable_sort_needed', /init-only data changed in \.init\.data.*read only while the kernel boots/],
  ['data.patch', 'strict_iomem_checks', /initialized data changed .*the update replaces code, not the running kernel's data/],
  ['layout.patch', 'struct fib_alias', /data layout of struct fib_alias changed in net\/ipv4\/fib_lookup\.h: the running kernel's struct fib_alias objects keep the old layout/],
  ['layout-wide-header.patch', 'struct task_struct', /data layout of struct task_struct changed in include\/linux\/sched\.h/],
  ['noinstr.patch', '__stack_chk_fail', /cannot be redirected: it is noinstr \(in \.noinstr\.text/],
  ['lib-y.patch', 'lib/cmdline.o', /lib\/cmdline\.o is a lib-y archive member \(lib\/Makefile\)/],
  ['exit-code.patch', 'cubictcp_unregister', /changed code in \.exit\.text: __init\/__exit code runs once at boot \(or never, when built in\)/],
  ['lib-y.patch', 'get_option', /cannot be redirected: its object is built without ftrace \(no function of it has a fentry call/],
  ['notrace.patch', 'ktime_get_boot_fast_ns', /^cannot be redirected: it is notrace \(other functions of its object have fentry calls, this one was compiled without/],
  ['export-removed.patch', 'jiffies_to_msecs', /^no longer exported \(was EXPORT_SYMBOL\): the running kernel's export table cannot change, and loaded modules may use it/],
  ['export-gpl.patch', 'ns_to_timespec64', /^export changed from EXPORT_SYMBOL to EXPORT_SYMBOL_GPL: the running kernel's export table cannot change/],
  ['assembly.patch', 'arch/x86/kernel/irqflags.o', /arch\/x86\/kernel\/irqflags\.S is assembly: its functions \(native_save_fl\) have no fentry call/],
  ['new-static-data.patch', 'cmdline_reads', /new zero-initialized static variable in \.bss\.cmdline_reads, used by the new code: the update module brings a fresh copy/],
  ['static-key.patch', 'cmdline_proc_show', /cmdline_proc_show now tests static key sched_smt_present \(jump label\)/],
  ['static-key-definition.patch', 'timers_nohz_active', /static key definition changed .*the running kernel's key keeps its state and every jump-label site its code/],
  ['inline-header.patch', 'clocksource_delta', /inline function clocksource_delta of header kernel\/time\/timekeeping_internal\.h changed: its code is copied into every caller.*ktime_get \(kernel\/time\/timekeeping\.o\).*loadable modules built with the old clocksource_delta keep it/],
];

const results = new Map<string, Awaited<ReturnType<typeof analyze>>>();
async function analyzeFixture(patch: string) {
  let r = results.get(patch);
  if (!r) results.set(patch, (r = await analyze(path.join(fixtures, patch))));
  return r;
}

for (const [patch, symbol, reason] of cases) {
  test(`${patch}: refused (exit 2), ${symbol}: ${reason.source.slice(0, 60)}…`, async () => {
    const r = await analyzeFixture(patch);
    assert.equal(r.exitCode, 2, r.stderr.slice(-2000));
    const finding = r.json?.unsafe.find((u) => u.symbol === symbol);
    assert.ok(finding, `${symbol} in ${JSON.stringify(r.json?.unsafe)}`);
    assert.match(finding.reason, reason);
    // The reason is printed for humans too.
    assert.ok(r.stderr.includes(`${symbol}: ${finding.reason}`), r.stderr.slice(-2000));
  });
}

test('changed __exit code: the object is built in (vmlinux), and only the __exit function is named', async () => {
  const r = await analyzeFixture('exit-code.patch');
  assert.deepEqual(r.json?.unsafe.map((u) => u.symbol), ['cubictcp_unregister'], JSON.stringify(r.json?.unsafe));
  assert.ok(!r.json?.unsafe.some((u) => /loadable module/.test(u.reason)), 'net/ipv4/tcp_cubic.o is built into vmlinux');
});

test('a notrace function is named notrace, not one of several guesses; the other fast accessors are not involved', async () => {
  const r = await analyzeFixture('notrace.patch');
  assert.deepEqual(r.json?.changed, [{ object: 'kernel/time/timekeeping.o', function: 'ktime_get_boot_fast_ns' }]);
  assert.deepEqual(r.json?.unsafe.map((u) => u.symbol), ['ktime_get_boot_fast_ns']);
  assert.doesNotMatch(r.json!.unsafe[0]!.reason, /built without ftrace|assembly/);
});

test('export removed or made GPL-only: each refused alone, the function code itself unchanged', async () => {
  for (const [patch, symbol] of [['export-removed.patch', 'jiffies_to_msecs'], ['export-gpl.patch', 'ns_to_timespec64']]) {
    const r = await analyzeFixture(patch!);
    assert.equal(r.exitCode, 2);
    assert.deepEqual(r.json?.unsafe.map((u) => u.symbol), [symbol], `${patch}: ${JSON.stringify(r.json?.unsafe)}`);
    assert.ok(!r.json?.changed.some((c) => c.function === symbol), `${symbol}'s code did not change`);
  }
});

test('a header inline lists its callers: the changed functions that reach it, not every changed function', async () => {
  const r = await analyzeFixture('inline-header.patch');
  const reason = r.json!.unsafe.find((u) => u.symbol === 'clocksource_delta')!.reason;
  const listed = /here (.*) — and loadable modules/.exec(reason)?.[1]?.split(', ') ?? [];
  // Real callers in both objects that include the header, each by name and object.
  for (const caller of ['ktime_get (kernel/time/timekeeping.o)', 'ktime_get_raw (kernel/time/timekeeping.o)', 'timekeeping_advance (kernel/time/timekeeping.o)', 'cycles_to_nsec_safe (kernel/time/clocksource.o)']) {
    assert.ok(listed.includes(caller), `${caller} in ${listed.join(', ')}`);
  }
  // The patch also changes ktime_get_resolution_ns, which does not call clocksource_delta.
  assert.ok(r.json!.changed.some((c) => c.function === 'ktime_get_resolution_ns'), JSON.stringify(r.json!.changed));
  assert.ok(!listed.some((c) => c.startsWith('ktime_get_resolution_ns ')), listed.join(', '));
  assert.equal(listed.length, r.json!.changed.length - 1, `every other changed function calls it: ${listed.join(', ')}`);
});

test('changed export (corpus kernel_user.patch): refused with the export named', async () => {
  const r = await analyze(path.join(corpus, '6.1.176-to-6.1.190/kernel_user.patch'));
  assert.equal(r.exitCode, 2, r.stderr.slice(-2000));
  assert.ok(r.json?.unsafe.some((u) => u.symbol === 'free_uid' && /newly exported \(EXPORT_SYMBOL_GPL\): an update cannot add to the running kernel's export table/.test(u.reason)), JSON.stringify(r.json?.unsafe));
});

test('--accept lets a reviewed finding through: the patch is analysed as an update (exit 0)', async () => {
  const r = await analyze(path.join(fixtures, 'new-static-data.patch'), ['--accept=cmdline_reads']);
  assert.equal(r.exitCode, 0, r.stderr.slice(-2000));
  assert.deepEqual(r.json?.unsafe, []);
  assert.deepEqual(r.json?.accepted.map((a) => a.symbol), ['cmdline_reads']);
  assert.deepEqual(r.json?.changed, [{ object: 'fs/proc/cmdline.o', function: 'cmdline_proc_show' }]);
});

test('--accept of one finding still refuses the others; a name that matches nothing, or a function ftrace cannot redirect, is an error', async () => {
  const partial = await analyze(path.join(fixtures, 'lib-y.patch'), ['--accept=lib/cmdline.o']);
  assert.equal(partial.exitCode, 2);
  assert.deepEqual(partial.json?.unsafe, [{ symbol: 'get_option', reason: partial.json?.unsafe[0]?.reason }], 'JSON findings are {symbol, reason}');
  assert.deepEqual(partial.json?.accepted.map((a) => a.symbol), ['lib/cmdline.o']);
  const never = await analyze(path.join(fixtures, 'noinstr.patch'), ['--accept=__stack_chk_fail']);
  assert.equal(never.exitCode, 1);
  assert.match(never.stderr, /cannot be accepted, change the patch instead:\n {2}__stack_chk_fail: cannot be redirected: it is noinstr/);
  const typo = await analyze(path.join(fixtures, 'new-static-data.patch'), ['--accept=cmdline_read']);
  assert.equal(typo.exitCode, 1);
  assert.match(typo.stderr, /--accept names no finding: cmdline_read \(findings: cmdline_reads\)/);
});
