// The hook example end to end (examples/hooks/, docs/hooks.md): a fix that adds state (a per-task
// counter the source fix puts in struct task_struct) made rebootless with hooks and a shadow
// variable. ksplice-create refuses the patch alone (new state), builds it with --hooks and
// --accept; in the QEMU guest of Debian's kernel the update applies (hooks run at their stages,
// counters attached to existing tasks inside the stop), /proc/cmdline shows the fixed behaviour,
// and undo restores the old output and frees every shadow variable.
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
  scratch = await scratchDir('hooks');
});
after(() => (process.env.KEEP_SCRATCH ? undefined : rm(scratch, { recursive: true, force: true })));

const create = (extra: string[]) =>
  createUpdate({ patch: path.join(example, 'cmdline-reads.patch'), sourceDir: target.sourceDir, outputDir: scratch, extra });

test('without hooks the patch is refused: its new state would start empty', async () => {
  const r = await create(['--analyze-only']);
  assert.equal(r.exitCode, 2, r.stderr.slice(-1500));
  assert.deepEqual(
    r.json.unsafe.map((u: { symbol: string }) => u.symbol),
    ['cmdline_reads_enabled'],
  );
});

test('with --hooks and --accept: built, applied in the guest, fixed behaviour seen, undone without a trace', async () => {
  const made = await create([`--hooks=${path.join(example, 'cmdline-reads-hooks.c')}`, '--accept=cmdline_reads_enabled']);
  assert.equal(made.exitCode, 0, made.stderr.slice(-3000));
  assert.deepEqual(
    made.json.accepted.map((a: { symbol: string }) => a.symbol),
    ['cmdline_reads_enabled'],
  );
  const id: string = made.json.id;

  const { checks, output } = await runScenario({
    vmlinuz: target.vmlinuz,
    scenario: path.join(repo, 'test/fixtures/safety/scenario-hooks.sh'),
    files: [made.json.tarball],
    keepLogAs: path.join(scratch, 'hooks.log'),
  });
  const before = checks.get('before')!;
  assert.ok(before.length > 0);
  assert.equal(checks.get('apply-rc'), '0', output);
  // The apply hook attached a counter to every task that existed inside the stop.
  const attached = Number(checks.get('shadows-applied'));
  assert.ok(attached > 5, `counters attached to existing tasks: ${attached}`);
  // The fixed behaviour: this shell's counter counts its reads; a new task starts at 1.
  assert.equal(checks.get('first'), `${before} reads=1`);
  assert.equal(checks.get('second'), `${before} reads=2`);
  assert.equal(checks.get('child'), `${before} reads=1`);
  // A dead task's counter dies with it (the update patches free_task): a child given a dead
  // child's task_struct still counts from 1, and the tasks of the apply took their counters along.
  for (let i = 0; i < 5; i++) assert.equal(checks.get(`thrice-${i}`), 'reads=3', output);
  const live = Number(checks.get('shadows-after-exits'));
  assert.ok(live < attached, `counters of exited tasks freed: ${attached} attached, ${live} live`);
  // Undo: the old output, the module gone, every shadow freed.
  assert.equal(checks.get('undo-rc'), '0', output);
  assert.equal(checks.get('undone'), before);
  assert.equal(checks.get('module-gone'), '0');
  const log = [...output.matchAll(/^CHECK log: (.*)$/gm)].map((m) => m[1]);
  const at = (re: RegExp) => log.findIndex((l) => re.test(l));
  const order = [
    /^cmdline_reads: pre_apply: preparing per-task read counters$/,
    /^cmdline_reads: post_apply: counters attached to \d+ existing tasks \(0 left for later; nr_threads \d+\)$/,
    new RegExp(`^ksplice: Update ${id} applied successfully$`),
    /^cmdline_reads: post_reverse: counting stopped$/,
    new RegExp(`^ksplice: Update ${id} reversed: freed \\d+ shadow variable\\(s\\)$`),
    new RegExp(`^ksplice: Update ${id} reversed successfully$`),
  ].map(at);
  assert.ok(
    order.every((i) => i >= 0),
    `every hook and core line is logged:\n${log.join('\n')}`,
  );
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
    `in this order:\n${log.join('\n')}`,
  );
  assert.ok(!log.some((l) => /fail_apply/.test(l)), 'fail_apply did not run');
  // The hook read a non-exported kernel variable through a livepatch relocation: the real count.
  const nrThreads = Number(/nr_threads (\d+)/.exec(log[order[1]!]!)![1]);
  assert.ok(nrThreads > 5 && nrThreads <= attached, `nr_threads ${nrThreads}, counters ${attached}`);
  const freed = Number(/freed (\d+) shadow/.exec(log[order[4]!]!)![1]);
  assert.ok(freed > 0 && freed <= live, `undo freed the live counters: ${freed} freed, ${live} live before undo`);
});

test('shadow API contract; a check_apply refusal runs fail_apply and frees what pre_apply attached; undo frees the rest', async () => {
  const r = await createUpdate({
    patch: path.join(repo, 'corpus/examples/proc_cmdline.patch'),
    sourceDir: target.sourceDir,
    outputDir: scratch,
    extra: [`--hooks=${path.join(repo, 'test/fixtures/safety/shadow-hooks.c')}`],
  });
  assert.equal(r.exitCode, 0, r.stderr.slice(-3000));
  const made = r.json as { id: string; tarball: string };
  const { checks, output } = await runScenario({
    vmlinuz: target.vmlinuz,
    scenario: path.join(repo, 'test/fixtures/safety/scenario-shadow.sh'),
    files: [made.tarball],
    keepLogAs: path.join(scratch, 'shadow.log'),
  });
  assert.equal(checks.get('loaded'), 'loaded');
  assert.match(output, /^CHECK refused-output: ksplice-apply: error applying update \S+: call_failed: check_apply hook refused$/m);
  assert.equal(checks.get('refused-module'), '0', 'the refused update module was unloaded');
  assert.ok(!checks.get('refused-cmdline')!.includes('[rebootless update applied]'));
  assert.equal(checks.get('apply-rc'), '0', output);
  assert.equal(checks.get('applied-shadows'), '1');
  assert.ok(checks.get('applied-cmdline')!.endsWith(' [rebootless update applied]'));
  assert.equal(checks.get('undo-rc'), '0', output);
  const log = [...output.matchAll(/^CHECK log: (.*)$/gm)].map((m) => m[1]!);
  const contract = 'shadowtest: alloc=1 zeroed=1 dup_refused=1 get_same=1 get_or_alloc_same=1 other_id_none=1 free_all=2 freed_one=1';
  const expected = [
    contract,
    'shadowtest: fail_apply, shadow attached=1',
    `ksplice: Update ${made.id} not applied: freed 1 shadow variable(s)`,
    contract,
    'shadowtest: post_apply, shadow attached=1',
    `ksplice: Update ${made.id} applied successfully`,
    `ksplice: Update ${made.id} reversed: freed 1 shadow variable(s)`,
    `ksplice: Update ${made.id} reversed successfully`,
  ];
  const relevant = log.filter((l) => expected.includes(l));
  assert.deepEqual(relevant, expected, log.join('\n'));
});
