// The safety analysis on the real Debian tree: each kind of change an update cannot carry without
// custom code, made by a minimal patch in test/fixtures/safety/, is refused by
// `ksplice-create --analyze-only --json` with exit 2, outcome `unsafe` and a finding of its rule
// (src/diff/findings.ts), its reason printed; --accept lets reviewed findings through and still
// refuses the others.
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import type { FunctionEntry } from '../../src/create/outcome.ts';
import type { Finding, RuleCode } from '../../src/diff/findings.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { createUpdate } from '../helpers/create-cli.ts';
import { CORPUS as corpus, fixture } from '../helpers/paths.ts';

const fixtures = fixture('safety');
let target: TargetKernel;

before(async () => {
  target = await ensureTarget();
});

async function analyze(patchPath: string, extra: string[] = []) {
  const result = await createUpdate({ patch: patchPath, sourceDir: target.sourceDir, extra: ['--analyze-only', ...extra] });
  return { ...result, json: result.json as { outcome: string; unsafe: Finding[]; accepted: Finding[]; changed: FunctionEntry[] } | null };
}

/** [patch, symbol of the finding, its rule (src/diff/findings.ts)] */
const cases: [string, string, RuleCode][] = [
  ['init-code.patch', 'proc_cmdline_init', 'init-code'],
  ['init-data.patch', 'main_extable_sort_needed', 'init-data'],
  ['data.patch', 'strict_iomem_checks', 'data-change'],
  ['layout.patch', 'struct fib_alias', 'data-layout'],
  ['layout-wide-header.patch', 'struct task_struct', 'data-layout'],
  ['noinstr.patch', '__stack_chk_fail', 'noinstr'],
  ['lib-y.patch', 'lib/cmdline.o', 'lib-archive'],
  ['exit-code.patch', 'cubictcp_unregister', 'exit-code'],
  ['lib-y.patch', 'get_option', 'no-fentry'],
  ['notrace.patch', 'ktime_get_boot_fast_ns', 'notrace'],
  ['export-removed.patch', 'jiffies_to_msecs', 'export-change'],
  ['export-gpl.patch', 'ns_to_timespec64', 'export-change'],
  ['assembly.patch', 'arch/x86/kernel/irqflags.o', 'assembly'],
  ['new-static-data.patch', 'cmdline_reads', 'new-data'],
  ['static-key.patch', 'cmdline_proc_show', 'static-key'],
  ['static-key-definition.patch', 'timers_nohz_active', 'static-key-definition'],
  ['inline-header.patch', 'clocksource_delta', 'header-inline'],
];

const results = new Map<string, Awaited<ReturnType<typeof analyze>>>();
async function analyzeFixture(patch: string) {
  let r = results.get(patch);
  if (!r) results.set(patch, (r = await analyze(path.join(fixtures, patch))));
  return r;
}

for (const [patch, symbol, rule] of cases) {
  test(`${patch}: refused (exit 2, unsafe), ${symbol}: rule ${rule}`, async () => {
    const r = await analyzeFixture(patch);
    assert.equal(r.exitCode, 2, r.stderr.slice(-2000));
    assert.equal(r.json?.outcome, 'unsafe');
    const finding = r.json?.unsafe.find((u) => u.symbol === symbol);
    assert.ok(finding, `${symbol} in ${JSON.stringify(r.json?.unsafe)}`);
    assert.equal(finding.rule, rule, finding.reason);
    assert.ok(finding.reason.length > 0);
    // The reason is printed for humans too, with its rule.
    assert.ok(r.stderr.includes(`${symbol}: ${finding.reason} [${rule}]`), r.stderr.slice(-2000));
  });
}

test('changed __exit code: the object is built in (vmlinux), and only the __exit function is named', async () => {
  const r = await analyzeFixture('exit-code.patch');
  assert.deepEqual(
    r.json?.unsafe.map((u) => u.symbol),
    ['cubictcp_unregister'],
    JSON.stringify(r.json?.unsafe),
  );
  assert.ok(!r.json?.unsafe.some((u) => u.rule === 'module-code'), 'net/ipv4/tcp_cubic.o is built into vmlinux');
});

test('a notrace function is named notrace, not one of several guesses; the other fast accessors are not involved', async () => {
  const r = await analyzeFixture('notrace.patch');
  assert.deepEqual(r.json?.changed, [{ object: 'kernel/time/timekeeping.o', function: 'ktime_get_boot_fast_ns', module: 'vmlinux' }]);
  assert.deepEqual(
    r.json?.unsafe.map((u) => [u.symbol, u.rule, u.acceptable]),
    [['ktime_get_boot_fast_ns', 'notrace', false]],
  );
});

test('export removed or made GPL-only: each refused alone, the function code itself unchanged', async () => {
  for (const [patch, symbol] of [
    ['export-removed.patch', 'jiffies_to_msecs'],
    ['export-gpl.patch', 'ns_to_timespec64'],
  ]) {
    const r = await analyzeFixture(patch!);
    assert.equal(r.exitCode, 2);
    assert.deepEqual(
      r.json?.unsafe.map((u) => u.symbol),
      [symbol],
      `${patch}: ${JSON.stringify(r.json?.unsafe)}`,
    );
    assert.ok(!r.json?.changed.some((c) => c.function === symbol), `${symbol}'s code did not change`);
  }
});

test('a header inline lists its callers: the changed functions that reach it, not every changed function', async () => {
  const r = await analyzeFixture('inline-header.patch');
  const reason = r.json!.unsafe.find((u) => u.symbol === 'clocksource_delta')!.reason;
  const listed = /here (.*) — and loadable modules/.exec(reason)?.[1]?.split(', ') ?? [];
  // Real callers in both objects that include the header, each by name and object.
  for (const caller of [
    'ktime_get (kernel/time/timekeeping.o)',
    'ktime_get_raw (kernel/time/timekeeping.o)',
    'timekeeping_advance (kernel/time/timekeeping.o)',
    'cycles_to_nsec_safe (kernel/time/clocksource.o)',
  ]) {
    assert.ok(listed.includes(caller), `${caller} in ${listed.join(', ')}`);
  }
  // The patch also changes ktime_get_resolution_ns, which does not call clocksource_delta.
  assert.ok(
    r.json!.changed.some((c) => c.function === 'ktime_get_resolution_ns'),
    JSON.stringify(r.json!.changed),
  );
  assert.ok(!listed.some((c) => c.startsWith('ktime_get_resolution_ns ')), listed.join(', '));
  assert.equal(listed.length, r.json!.changed.length - 1, `every other changed function calls it: ${listed.join(', ')}`);
});

test('changed export (corpus kernel_user.patch): refused with the export named', async () => {
  const r = await analyze(path.join(corpus, '6.1.176-to-6.1.190/kernel_user.patch'));
  assert.equal(r.exitCode, 2, r.stderr.slice(-2000));
  assert.deepEqual(
    r.json?.unsafe.map((u) => [u.symbol, u.rule]),
    [['free_uid', 'export-change']],
    JSON.stringify(r.json?.unsafe),
  );
});

test('--accept lets a reviewed finding through: the patch is analysed as an update (exit 0)', async () => {
  const r = await analyze(path.join(fixtures, 'new-static-data.patch'), ['--accept=cmdline_reads']);
  assert.equal(r.exitCode, 0, r.stderr.slice(-2000));
  assert.equal(r.json?.outcome, 'analyzed');
  assert.deepEqual(r.json?.unsafe, []);
  assert.deepEqual(
    r.json?.accepted.map((a) => [a.symbol, a.rule]),
    [['cmdline_reads', 'new-data']],
  );
  assert.deepEqual(r.json?.changed, [{ object: 'fs/proc/cmdline.o', function: 'cmdline_proc_show', module: 'vmlinux' }]);
});

test('--accept of one finding still refuses the others; a name that matches nothing, or a function ftrace cannot redirect, is an error', async () => {
  const partial = await analyze(path.join(fixtures, 'lib-y.patch'), ['--accept=lib/cmdline.o']);
  assert.equal(partial.exitCode, 2);
  assert.deepEqual(
    partial.json?.unsafe,
    [{ rule: 'no-fentry', symbol: 'get_option', reason: partial.json?.unsafe[0]?.reason, acceptable: false }],
    'JSON findings are {rule, symbol, reason, acceptable}',
  );
  assert.deepEqual(
    partial.json?.accepted.map((a) => a.symbol),
    ['lib/cmdline.o'],
  );
  const never = await analyze(path.join(fixtures, 'noinstr.patch'), ['--accept=__stack_chk_fail']);
  assert.equal(never.exitCode, 1);
  assert.match(never.stderr, /cannot be accepted, change the patch instead:\n {2}__stack_chk_fail: .* \[noinstr\]/);
  const typo = await analyze(path.join(fixtures, 'new-static-data.patch'), ['--accept=cmdline_read']);
  assert.equal(typo.exitCode, 1);
  assert.match(typo.stderr, /--accept names no finding: cmdline_read \(findings: cmdline_reads\)/);
});
