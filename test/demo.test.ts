// `npm run demo` end to end: the printk update created from the real Debian tree, applied and
// undone in a QEMU guest; the demo's own checks must all pass and no splat may appear.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runUnchecked } from '../src/util/exec.ts';
import { REPO as repo } from './helpers/paths.ts';

test('the demo creates the printk update, applies and undoes it in the guest, all checks passing', async () => {
  const result = await runUnchecked('node', ['--import', 'tsx', 'src/demo.ts'], { cwd: repo });
  assert.equal(result.exitCode, 0, result.stdout.slice(-3000) + result.stderr.slice(-2000));
  assert.match(result.stdout, /Ksplice update tarball written to out\/demo\/ksplice-[a-z0-9]{8}\.tar\.gz/);
  assert.match(result.stdout, /Quoth the kernel:/);
  assert.match(result.stdout, /6 of 6 checks passed/);
  assert.doesNotMatch(result.stdout, /^FAIL /m);
});
