/**
 * Apply/undo under load, in the guest: 200 cycles of update cmdline1 (made by ksplice-create from
 * the corpus's proc_cmdline.patch) while two readers loop over /proc/cmdline on 2 vCPUs with the
 * kernel's default voluntary preemption, and 100 with preempt=full (tasks can then be preempted
 * inside the function being replaced, which the stack check must catch). Every read must be the
 * original or the updated line, failures may only be code_busy, the final state is the original,
 * and nothing splats. Then, readers stopped, 100 more cycles without a fork: both modules'
 * reference counts are back where they started, and unreclaimable slab and vmalloc use grow less
 * than LEAK_TOLERANCE_KB. Prints the stop times and the memory it saw.
 *
 * Run: bash scripts/test.sh test/kmod/stress.test.ts   (about 6 min)
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { runScenario } from '../helpers/guest-scenario.ts';
import { createTestUpdate, type TestUpdate } from '../helpers/test-updates.ts';
import { fixture, REPO } from '../helpers/paths.ts';

const FIX = fixture('kmod');
const OUT = path.join(REPO, '.tmp/kmod-stress');
/** Cycles per configuration. */
const CYCLES: Record<string, number> = { '': 200, 'preempt=full': 100 };
/**
 * Kernel memory (kB) 100 quiet cycles may add: slab pages a cache keeps for itself move the
 * counters by tens of kB; one leaked allocation per cycle (64 bytes or more) shows as 100 × that.
 */
const LEAK_TOLERANCE_KB = 64;

describe('apply/undo under load (guest)', () => {
  let vmlinuz = '';
  let update: TestUpdate;

  before(async () => {
    const target = await ensureTarget();
    vmlinuz = target.vmlinuz;
    update = await createTestUpdate(target, {
      id: 'cmdline1',
      patch: path.join(REPO, 'corpus/examples/proc_cmdline.patch'),
      outputDir: OUT,
    });
  });

  for (const [append, cycles] of Object.entries(CYCLES)) {
    test(`${cycles} cycles with two readers${append ? ` (${append})` : ''}, no leak`, async () => {
      const cyclesFile = path.join(OUT, 'cycles');
      await writeFile(cyclesFile, `${cycles}\n`);
      const { checks: c } = await runScenario({
        vmlinuz,
        scenario: path.join(FIX, 'scenario-stress.sh'),
        files: [update.core, update.ko, cyclesFile],
        appendCmdline: append || undefined,
        timeoutSeconds: 600,
        keepLogAs: path.join(OUT, `stress${append ? '-' + append.replace(/\W+/g, '_') : ''}.log`),
      });
      const applied = Number(c.get('applied'));
      assert.ok(applied >= cycles * 0.9, `applied ${applied}/${cycles}; causes: ${c.get('causes')}`);
      assert.equal(c.get('reversed'), String(applied), 'every applied cycle was undone');
      assert.equal(c.get('bad-reads'), '0', 'readers only ever saw the original or the updated line');
      assert.ok(Number(c.get('updated-reads')) > 0, 'readers saw the update');
      assert.ok(Number(c.get('reads')) > Number(c.get('updated-reads')), 'readers saw the original too');
      for (const cause of (c.get('causes') ?? '').split(';').filter((x) => x.trim())) assert.match(cause, /^\s*\d+ code_busy$/);
      assert.equal(c.get('final'), 'original');
      assert.equal(c.get('rmmod'), 'ok');
      assert.equal(c.get('refcnt-after'), c.get('refcnt-before'), 'module references back where they started');
      assert.equal(c.get('leak-cycles'), '100 0', 'every quiet cycle applied and undid');
      const [slabBefore, vmallocBefore] = c.get('memory-before')!.split(' ').map(Number);
      const [slabAfter, vmallocAfter] = c.get('memory-after')!.split(' ').map(Number);
      console.log(
        `kernel memory over 100 quiet cycles: SUnreclaim ${slabBefore} → ${slabAfter} kB, VmallocUsed ${vmallocBefore} → ${vmallocAfter} kB`,
      );
      assert.ok(slabAfter - slabBefore < LEAK_TOLERANCE_KB, `unreclaimable slab grew ${slabAfter - slabBefore} kB`);
      assert.ok(vmallocAfter - vmallocBefore < LEAK_TOLERANCE_KB, `vmalloc grew ${vmallocAfter - vmallocBefore} kB`);
      const stops = [...(c.get('stops') ?? '').matchAll(/(apply|undo) (\d+)/g)].map((m) => Number(m[2])).sort((a, b) => a - b);
      assert.ok(stops.length >= 2 * applied);
      console.log(
        `stop_machine callback (ns) over ${stops.length} switches${append ? ` (${append})` : ''}: ` +
          `min ${stops[0]}, median ${stops[stops.length >> 1]}, max ${stops[stops.length - 1]}; conflicts: ${c.get('conflicts') || 'none'}`,
      );
    });
  }
});
