// The include graph on the real Debian tree's own include lines: .c files #included into others,
// headers kbuild forces in with -include, and dependency paths spelled with `..` in .cmd files.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { dependencyPath, forcedIncludes, readIncludeGraph, type IncludeGraph } from '../../src/create/header-users.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';

let target: TargetKernel;
let graph: IncludeGraph;

before(async () => {
  target = await ensureTarget();
  graph = await readIncludeGraph(target.sourceDir);
});

test('a .c file #included into another is reached from it, through any depth of headers', () => {
  assert.deepEqual(graph.sourcesIncluding('kernel/sched/rt.c'), ['kernel/sched/build_policy.c', 'kernel/sched/rt.c']);
  assert.ok(graph.sourcesIncluding('kernel/locking/rtmutex.c').includes('kernel/locking/rtmutex_api.c'));
  // kernel/sched/sched.h is included by build_policy.c, which is itself compiled: one source, not rt.c's.
  assert.ok(graph.sourcesIncluding('kernel/sched/sched.h').includes('kernel/sched/build_policy.c'));
});

test('the cheap graph of include lines naming .c files answers the same for .c files', async () => {
  const cheap = await readIncludeGraph(target.sourceDir, 'c-files');
  for (const file of ['kernel/sched/rt.c', 'kernel/sched/idle.c', 'kernel/locking/rtmutex.c', 'kernel/printk/printk.c']) {
    assert.deepEqual(cheap.sourcesIncluding(file), graph.sourcesIncluding(file), file);
  }
});

test("kbuild's forced -include headers are read from its Makefiles, and what they include is found through them", async () => {
  const forced = await forcedIncludes(target.sourceDir);
  assert.deepEqual(forced, ['include/linux/compiler-version.h', 'include/linux/compiler_types.h', 'include/linux/kconfig.h']);
  assert.equal(graph.forcedThrough('include/linux/kconfig.h', forced), 'include/linux/kconfig.h');
  assert.equal(graph.forcedThrough('include/linux/compiler-gcc.h', forced), 'include/linux/compiler_types.h');
  assert.equal(graph.forcedThrough('kernel/audit.h', forced), undefined);
});

test('dependency paths of .cmd files are read as tree paths', () => {
  assert.equal(dependencyPath('kernel/rcu/../time/tick-internal.h'), 'kernel/time/tick-internal.h');
  assert.equal(dependencyPath('$(srctree)/include/linux/printk.h'), 'include/linux/printk.h');
  assert.equal(dependencyPath('/src/linux/kernel/audit.h', '/src/linux'), 'kernel/audit.h');
});
