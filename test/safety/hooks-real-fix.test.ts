// Hooks on a real stable fix that changes state the running kernel built at boot
// (examples/hooks/tcp-reordering.patch: CVE-2026-64422 from Debian's 6.1.176 -> 6.1.190 update;
// docs/hooks.md, "A real fix"). The fix bounds net.ipv4.tcp_reordering by changing entries of
// ipv4_net_table, data the kernel registered for init_net and copied into every network namespace:
// ksplice-create refuses it alone; with tcp-reordering-hooks.c (which rewrites those entries in every
// namespace inside the stop) the guest shows the bounds in a namespace made before the apply, in
// init_net and in one made while applied, each bounded by its own tcp_max_reordering, and none after undo.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { createUpdate } from '../helpers/create-cli.ts';
import { runScenario } from '../helpers/guest-scenario.ts';
import { REPO as repo, scratchDir } from '../helpers/paths.ts';

const example = path.join(repo, 'examples/hooks');
let target: TargetKernel;
let scratch: string;

before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('real-hooks');
});
after(() => (process.env.KEEP_SCRATCH ? undefined : rm(scratch, { recursive: true, force: true })));

const create = (extra: string[]) =>
  createUpdate({ patch: path.join(example, 'tcp-reordering.patch'), sourceDir: target.sourceDir, outputDir: scratch, extra });

/** Unbounded: every write goes through. Bounded: 0, above the namespace's own max, and max 0 are refused. */
const UNBOUNDED = 'zero=ok above-max=ok max-zero=ok in-range=ok';
const BOUNDED = 'zero=refused above-max=refused max-zero=refused in-range=ok';

test('the fix alone is refused: it changes ipv4_net_table, data the running kernel registered at boot', async () => {
  const r = await create(['--analyze-only']);
  assert.equal(r.exitCode, 2, r.stderr.slice(-1500));
  assert.deepEqual(r.json.changed.map((c: { function: string }) => c.function).sort(), ['ipv4_sysctl_init_net', 'tcp_write_xmit']);
  assert.deepEqual(
    r.json.unsafe.map((u: { symbol: string; rule: string }) => [u.symbol, u.rule]),
    [['ipv4_net_table', 'data-change']],
  );
  // The difference itself is named: the table's handler changed.
  assert.match(r.json.unsafe[0].reason, /proc_dointvec → .*proc_dointvec_minmax/);
});

test('with its hooks: bounded in every network namespace while applied, each by its own max; unbounded after undo', async () => {
  const made = await create([`--hooks=${path.join(example, 'tcp-reordering-hooks.c')}`, '--accept=ipv4_net_table']);
  assert.equal(made.exitCode, 0, made.stderr.slice(-3000));
  const id: string = made.json.id;

  const { checks, output } = await runScenario({
    vmlinuz: target.vmlinuz,
    scenario: path.join(repo, 'test/fixtures/safety/scenario-tcp-reordering.sh'),
    files: [made.json.tarball],
    keepLogAs: path.join(scratch, 'tcp-reordering.log'),
  });
  assert.equal(checks.get('defaults'), '3 300');
  // The bug, in the running kernel: any value goes.
  assert.equal(checks.get('before-init'), UNBOUNDED, output);
  assert.equal(checks.get('before-old-ns'), UNBOUNDED, output);
  assert.equal(checks.get('apply-rc'), '0', output);
  // Fixed in init_net (the static table), in a namespace made before the apply (its boot-time copy,
  // rewritten by the hook) and in one made after (copied by the new ipv4_sysctl_init_net, which
  // points extra2 at that namespace's own tcp_max_reordering: 50 there bounds 100, not init_net's 300).
  assert.equal(checks.get('applied-init'), BOUNDED, output);
  assert.equal(checks.get('applied-old-ns'), BOUNDED, output);
  assert.equal(checks.get('applied-new-ns'), BOUNDED, output);
  assert.equal(checks.get('applied-short-ns'), 'refused', output);
  // Undo: the old behaviour everywhere, including the namespace born while applied.
  assert.equal(checks.get('undo-rc'), '0', output);
  assert.equal(checks.get('undone-init'), UNBOUNDED, output);
  assert.equal(checks.get('undone-old-ns'), UNBOUNDED, output);
  assert.equal(checks.get('undone-new-ns'), UNBOUNDED, output);
  assert.equal(checks.get('module-gone'), '0');

  const log = [...output.matchAll(/^CHECK log: (.*)$/gm)].map((m) => m[1]!);
  const applied = log.find((l) => l.startsWith('tcp_reordering: post_apply:'));
  const reversed = log.find((l) => l.startsWith('tcp_reordering: post_reverse:'));
  // Inside the stop: init_net and the namespace made before the apply (at least those two).
  assert.match(
    applied ?? '',
    /^tcp_reordering: post_apply: bounded in ([2-9]|\d\d+) network namespace\(s\) inside the stop, \d+ now$/,
    log.join('\n'),
  );
  assert.match(
    reversed ?? '',
    /^tcp_reordering: post_reverse: unbounded in ([3-9]|\d\d+) network namespace\(s\) inside the stop, \d+ now$/,
    log.join('\n'),
  );
  const order = [applied!, `ksplice: Update ${id} applied successfully`, reversed!, `ksplice: Update ${id} reversed successfully`].map(
    (l) => log.indexOf(l),
  );
  assert.ok(
    order.every((i) => i >= 0),
    log.join('\n'),
  );
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
    `hooks and core lines in order:\n${log.join('\n')}`,
  );
});

test('accepted without its hooks, the update applies and fixes nothing a sysctl write can see: why the fix alone is refused', async () => {
  const made = await create(['--accept=ipv4_net_table']);
  assert.equal(made.exitCode, 0, made.stderr.slice(-3000));
  const { checks, output } = await runScenario({
    vmlinuz: target.vmlinuz,
    scenario: path.join(repo, 'test/fixtures/safety/scenario-tcp-reordering.sh'),
    files: [made.json.tarball],
    keepLogAs: path.join(scratch, 'tcp-reordering-no-hooks.log'),
  });
  assert.equal(checks.get('apply-rc'), '0', output);
  // The new code runs, but the tables it would bound are the running kernel's, left as they were.
  assert.equal(checks.get('applied-init'), UNBOUNDED, output);
  assert.equal(checks.get('applied-old-ns'), UNBOUNDED, output);
  assert.equal(checks.get('applied-new-ns'), UNBOUNDED, output);
  assert.equal(checks.get('undo-rc'), '0', output);
});
