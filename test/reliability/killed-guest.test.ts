// A guest killed halfway through an apply, then booted again: the first run ends the moment the
// machine resets (sysrq 'b', an immediate reboot with no sync, while ksplice-apply is loading and
// switching), and the next boot is clean — no splat, the same update applies and undoes.
// Nothing of an update survives a reboot: the engine keeps its state in memory only.
//
// Run: bash scripts/test.sh test/reliability/killed-guest.test.ts   (about 40 s)
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { runGuest } from '../../src/qemu/guest.ts';
import { updateSteps } from '../../src/qemu/update-steps.ts';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { createTestUpdate } from '../helpers/test-updates.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

test('a guest reset in the middle of ksplice-apply boots clean, and the update applies there', async () => {
  const target = await ensureTarget();
  const update = await createTestUpdate(target, { id: 'killed', patch: path.resolve(repo, '../shared/corpus/examples/proc_cmdline.patch'), outputDir: path.join(repo, '.tmp/killed-guest') });
  const proof = updateSteps({ tarball: update.tarball, check: path.join(repo, 'test/fixtures/qemu/check-cmdline.sh') });
  const tools = proof.steps.find((s) => s.name === 'tools')!;

  const killed = await runGuest({
    vmlinuz: target.vmlinuz, files: proof.files, log: () => {},
    steps: [tools, {
      name: 'apply-and-reset',
      // reset while the apply runs: after the update module is loaded, before or during the switch
      run: 'ksplice-apply ./ksplice-killed.tar.gz & while ! grep -q "^ksplice_killed " /proc/modules; do :; done; echo b > /proc/sysrq-trigger; sleep 30',
      timeoutSeconds: 120,
    }],
  });
  assert.equal(killed.booted, true);
  assert.equal(killed.timedOut, false, 'the reset ended the run, not the timeout');
  assert.equal(killed.steps[1].status, 'failed');
  assert.match(killed.steps[1].output, /the guest stopped during this step/);
  assert.match(killed.serialLog, /sysrq: Resetting/);

  const again = await runGuest({ vmlinuz: target.vmlinuz, files: proof.files, steps: proof.steps, log: () => {} });
  assert.ok(again.ok, again.failures.join('; '));
  assert.deepEqual(again.splats, []);
  assert.match(again.steps.find((s) => s.name === 'check-applied')!.output, /\[rebootless update applied\]/);
});
