/**
 * Apply/undo under load, in the guest: 20 cycles of update cmdline1 while two readers loop over
 * /proc/cmdline, with the kernel's default voluntary preemption and with preempt=full (tasks can
 * then be preempted inside the function being replaced, which the stack check must catch).
 * Every read must be the original or the updated line, failures may only be code_busy, the
 * final state is the original, and nothing splats. Prints the stop times it saw.
 *
 * Run: bash scripts/test.sh test/kmod/stress.test.ts   (about 1 min)
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { runScenario } from '../helpers/guest-scenario.ts';
import { createTestUpdate, type TestUpdate } from '../helpers/test-updates.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIX = path.join(REPO, 'test/fixtures/kmod');
const OUT = path.join(REPO, '.tmp/kmod-stress');
const CYCLES = 20;

describe('apply/undo under load (guest)', () => {
  let vmlinuz = '';
  let update: TestUpdate;

  before(async () => {
    const target = await ensureTarget();
    vmlinuz = target.vmlinuz;
    update = await createTestUpdate(target, { id: 'cmdline1', patch: path.resolve(REPO, '../shared/corpus/examples/proc_cmdline.patch'), outputDir: OUT });
  });

  for (const append of ['', 'preempt=full']) {
    test(`${CYCLES} cycles with two readers${append ? ` (${append})` : ''}`, async () => {
      const { checks: c } = await runScenario({
        vmlinuz, scenario: path.join(FIX, 'scenario-stress.sh'), files: [update.core, update.ko],
        appendCmdline: append || undefined, timeoutSeconds: 500,
        keepLogAs: path.join(OUT, `stress${append ? '-' + append.replace(/\W+/g, '_') : ''}.log`),
      });
      const applied = Number(c.get('applied'));
      assert.ok(applied >= CYCLES - 3, `applied ${applied}/${CYCLES}; causes: ${c.get('causes')}`);
      assert.equal(c.get('reversed'), String(applied), 'every applied cycle was undone');
      assert.equal(c.get('bad-reads'), '0', 'readers only ever saw the original or the updated line');
      assert.ok(Number(c.get('updated-reads')) > 0, 'readers saw the update');
      assert.ok(Number(c.get('reads')) > Number(c.get('updated-reads')), 'readers saw the original too');
      for (const cause of (c.get('causes') ?? '').split(';').filter((x) => x.trim())) assert.match(cause, /^\s*\d+ code_busy$/);
      assert.equal(c.get('final'), 'original');
      assert.equal(c.get('rmmod'), 'ok');
      const stops = [...(c.get('stops') ?? '').matchAll(/(apply|undo) (\d+) (\d+)/g)].map((m) => Number(m[2])).sort((a, b) => a - b);
      assert.ok(stops.length >= 2 * applied);
      console.log(`stop_machine callback (ns) over ${stops.length} switches${append ? ` (${append})` : ''}: ` +
        `min ${stops[0]}, median ${stops[stops.length >> 1]}, max ${stops[stops.length - 1]}; conflicts: ${c.get('conflicts') || 'none'}`);
    });
  }
});
