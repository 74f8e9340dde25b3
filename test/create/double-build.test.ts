// The targeted double build on the real Debian tree: the article's printk patch, a patch that
// does not apply, and the tree left pristine after each.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { doubleBuild, MAX_OBJECTS_PER_UPDATE, planObjects, UnsupportedPatchError } from '../../src/create/double-build.ts';
import { PatchDoesNotApplyError, touchedFiles } from '../../src/create/patch-file.ts';
import { fingerprintFiles } from '../../src/create/pristine-tree.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { run, runUnchecked } from '../../src/util/exec.ts';
import { kbuildArgs } from '../../src/kbuild/flags.ts';
import { CORPUS as corpus, scratchDir } from '../helpers/paths.ts';

let target: TargetKernel;
let scratch: string;

before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('double');
});
after(() => rm(scratch, { recursive: true, force: true }));

/** The raw bytes of one section of an object, via objcopy (a test oracle independent of our ELF code). */
async function sectionBytes(object: string, section: string): Promise<Buffer> {
  const out = path.join(scratch, `${path.basename(object)}.${section}.bin`);
  await run('objcopy', ['-O', 'binary', `--only-section=${section}`, object, out]);
  return readFile(out);
}

test('touched files are read from the patch', async () => {
  const printk = await readFile(path.join(corpus, 'examples/printk.patch'), 'utf8');
  assert.deepEqual(touchedFiles(printk), ['kernel/printk/printk.c']);
});

test("kbuild's own object list places each touched source in vmlinux, a module, or nowhere", async () => {
  const plan = await planObjects(target.sourceDir, [
    'kernel/sys.c',
    'fs/quota/quota_v2.c',
    'drivers/net/ethernet/8390/hydra.c',
    'Documentation/admin-guide/README.rst',
  ]);
  assert.deepEqual(
    plan.objects.map((o) => [o.object, o.home]),
    [
      ['fs/quota/quota_v2.o', 'module'],
      ['kernel/sys.o', 'vmlinux'],
    ],
  );
  assert.deepEqual(plan.notBuilt, ['drivers/net/ethernet/8390/hydra.c']);
  await assert.rejects(planObjects(target.sourceDir, ['kernel/Kconfig.hz']), UnsupportedPatchError);
});

test('a header finds the objects that include it, directly or through other headers', async () => {
  const plan = await planObjects(target.sourceDir, ['kernel/audit.h']);
  const objects = plan.objects.map((o) => o.object);
  // kernel/audit.h is included by audit.c and its helpers, all built into vmlinux with Debian's config.
  for (const o of ['kernel/audit.o', 'kernel/audit_tree.o', 'kernel/audit_watch.o', 'kernel/auditfilter.o', 'kernel/auditsc.o']) {
    assert.ok(objects.includes(o), `${o} includes kernel/audit.h`);
  }
  assert.ok(
    objects.every((o) => o.startsWith('kernel/')),
    objects.join(' '),
  );
  await assert.rejects(planObjects(target.sourceDir, ['include/linux/printk.h']), (e: Error) => {
    assert.match(e.message, new RegExp(`included by \\d+ objects of this config \\(more than ${MAX_OBJECTS_PER_UPDATE}\\)`));
    return true;
  });
});

test('a .c file #included into another maps to the objects that include it (kernel/sched/rt.c, kernel/locking/rtmutex.c)', async () => {
  const plan = await planObjects(target.sourceDir, ['kernel/locking/rtmutex.c', 'kernel/sched/idle.c', 'kernel/sched/rt.c']);
  // rwsem.c includes rtmutex.c too, under CONFIG_PREEMPT_RT: planned from the text, dropped after the pre build by its .cmd.
  assert.deepEqual(
    plan.objects.map((o) => [o.object, o.home, o.because]),
    [
      ['kernel/locking/rtmutex_api.o', 'vmlinux', ['kernel/locking/rtmutex.c']],
      ['kernel/locking/rwsem.o', 'vmlinux', ['kernel/locking/rtmutex.c']],
      ['kernel/sched/build_policy.o', 'vmlinux', ['kernel/sched/idle.c', 'kernel/sched/rt.c']],
    ],
  );
  assert.deepEqual(plan.notBuilt, []);
});

test('a patch to kernel/sched/rt.c builds kernel/sched/build_policy.o, whose .cmd names rt.c', async () => {
  const patchPath = new URL('../fixtures/create/sched-rt-interval.patch', import.meta.url).pathname;
  const build = await doubleBuild({ tree: target.sourceDir, patchPath, outDir: path.join(scratch, 'sched-rt'), log: () => {} });
  assert.deepEqual(build.objects, ['kernel/sched/build_policy.o']);
  assert.deepEqual(build.notBuilt, []);
  const section = '.text.get_rr_interval_rt';
  assert.notDeepEqual(
    await sectionBytes(path.join(build.preDir, build.objects[0]), section),
    await sectionBytes(path.join(build.postDir, build.objects[0]), section),
  );
});

test('headers forced into every compile with -include are refused as too wide, saying why', async () => {
  for (const header of ['include/linux/kconfig.h', 'include/linux/compiler_types.h', 'include/linux/compiler-version.h']) {
    await assert.rejects(planObjects(target.sourceDir, [header]), (e: Error) => {
      assert.ok(e instanceof UnsupportedPatchError);
      assert.match(
        e.message,
        new RegExp(`^${header} is in every object of the kernel \\(kbuild forces it into every compile with -include\\)`),
      );
      return true;
    });
  }
  // Included by a forced header: just as wide, though few files name it.
  await assert.rejects(
    planObjects(target.sourceDir, ['include/linux/compiler_attributes.h']),
    /include\/linux\/compiler_types\.h includes it and kbuild forces that into every compile/,
  );
});

/** Objects of the tree kbuild has compiled, whose .cmd dependency list names `file`. */
async function builtObjectsDependingOn(file: string): Promise<string[]> {
  const found = await run('find', ['.', '-name', '.*.o.cmd', '-not', '-path', './scripts/*', '-not', '-path', './tools/*'], {
    cwd: target.sourceDir,
  });
  const users: string[] = [];
  for (const cmdFile of found.split('\n').filter(Boolean)) {
    const text = await readFile(path.join(target.sourceDir, cmdFile), 'utf8');
    const object = /^cmd_(\S+\.o) := .* -c /m.exec(text)?.[1];
    // Paths as gcc wrote them, `..` and all: kernel/rcu/../time/tick-internal.h.
    const names = (t: string) => path.posix.normalize(t.replace(/^\$\(srctree\)\//, ''));
    if (object && text.split(/\s+/).some((t) => names(t) === file)) users.push(object.replace(/^\.\//, ''));
  }
  return users.sort();
}

test('a header with a handful of users: the double build misses none of the objects kbuild says depend on it', async () => {
  // kbuild's own answer needs the candidates compiled: all of kernel/time/ (some include the
  // header, some do not) and kernel/rcu/tree.o (a user outside the folder, whose .cmd names it
  // kernel/rcu/../time/tick-internal.h).
  const made = await runUnchecked('make', [...kbuildArgs(target.sourceDir, 2), 'kernel/time/', 'kernel/rcu/tree.o']);
  assert.equal(made.exitCode, 0, made.stderr.slice(-2000));
  const header = 'kernel/time/tick-internal.h';
  const text = await readFile(path.join(target.sourceDir, header), 'utf8');
  const lines = text.split('\n');
  const at = lines.lastIndexOf('#endif');
  const patchPath = path.join(scratch, 'tick-internal.patch');
  // An unused declaration at the end: no object's code changes, but every user must be rebuilt.
  await writeFile(
    patchPath,
    [
      `--- a/${header}`,
      `+++ b/${header}`,
      `@@ -${at},2 +${at},3 @@`,
      ` ${lines[at - 1]}`,
      '+extern int ksplice_test_unused_tick;',
      ` ${lines[at]}`,
      '',
    ].join('\n'),
  );
  const build = await doubleBuild({ tree: target.sourceDir, patchPath, outDir: path.join(scratch, 'tick-h'), log: () => {} });
  const kbuildSays = await builtObjectsDependingOn(header);
  assert.ok(kbuildSays.includes('kernel/rcu/tree.o') && kbuildSays.length >= 5 && kbuildSays.length <= 20, kbuildSays.join(' '));
  assert.ok(!kbuildSays.includes('kernel/time/posix-timers.o'), 'the oracle knows non-users too');
  assert.deepEqual([...build.objects].sort(), kbuildSays);
  assert.equal(await readFile(path.join(target.sourceDir, header), 'utf8'), text);
});

test('a header patch builds exactly the objects whose kbuild dependencies name it', async () => {
  const patchPath = path.join(scratch, 'audit-header.patch');
  const header = await readFile(path.join(target.sourceDir, 'kernel/audit.h'), 'utf8');
  const anchor = header.indexOf('\n#endif', header.length - 200);
  assert.ok(anchor > 0);
  const lineNo = header.slice(0, anchor).split('\n').length; // the line before #endif
  const before = header.split('\n')[lineNo - 1];
  await writeFile(
    patchPath,
    [
      '--- a/kernel/audit.h',
      '+++ b/kernel/audit.h',
      `@@ -${lineNo},2 +${lineNo},3 @@`,
      ` ${before}`,
      '+static inline int ksplice_test_unused(void) { return 1; }',
      ' #endif',
      '',
    ].join('\n'),
  );
  const build = await doubleBuild({ tree: target.sourceDir, patchPath, outDir: path.join(scratch, 'audit-h'), log: () => {} });
  const plan = await planObjects(target.sourceDir, ['kernel/audit.h']);
  assert.ok(build.objects.length > 0 && build.objects.length <= plan.objects.length);
  for (const object of build.objects) {
    const cmd = await readFile(path.join(target.sourceDir, path.dirname(object), `.${path.basename(object)}.cmd`), 'utf8');
    assert.match(cmd, /kernel\/audit\.h/, `${object} depends on kernel/audit.h`);
  }
  assert.equal(await readFile(path.join(target.sourceDir, 'kernel/audit.h'), 'utf8'), header);
});

test('printk.patch builds printk.o twice; only _printk differs; the tree is pristine after', async () => {
  const patchPath = path.join(corpus, 'examples/printk.patch');
  const before = await fingerprintFiles(target.sourceDir, ['kernel/printk/printk.c']);
  const lines: string[] = [];
  const build = await doubleBuild({ tree: target.sourceDir, patchPath, outDir: path.join(scratch, 'printk'), log: (l) => lines.push(l) });
  assert.deepEqual(build.objects, ['kernel/printk/printk.o']);
  assert.ok(lines.some((l) => /tree pristine again/.test(l)));

  const pre = path.join(build.preDir, 'kernel/printk/printk.o');
  const post = path.join(build.postDir, 'kernel/printk/printk.o');
  // Built with function sections: _printk is __cold, so it sits in .text.unlikely._printk.
  const preBytes = await sectionBytes(pre, '.text.unlikely._printk');
  const postBytes = await sectionBytes(post, '.text.unlikely._printk');
  assert.ok(preBytes.length > 0);
  assert.notDeepEqual(preBytes, postBytes);
  assert.deepEqual(await sectionBytes(pre, '.text.vprintk_emit'), await sectionBytes(post, '.text.vprintk_emit'));

  assert.deepEqual(await fingerprintFiles(target.sourceDir, ['kernel/printk/printk.c']), before);
});

test('a patch that does not apply fails before building and leaves the tree untouched', async () => {
  const bad = path.join(scratch, 'bad.patch');
  await writeFile(
    bad,
    [
      '--- a/kernel/printk/printk.c',
      '+++ b/kernel/printk/printk.c',
      '@@ -2324,3 +2324,4 @@',
      ' 	this line is not in printk.c',
      '+	vprintk("nope\\n", NULL);',
      ' 	nor this one',
      ' 	nor this',
      '',
    ].join('\n'),
  );
  const before = await fingerprintFiles(target.sourceDir, ['kernel/printk/printk.c']);
  const lines: string[] = [];
  await assert.rejects(
    doubleBuild({ tree: target.sourceDir, patchPath: bad, outDir: path.join(scratch, 'bad'), log: (l) => lines.push(l) }),
    PatchDoesNotApplyError,
  );
  assert.ok(!lines.some((l) => /pre build/.test(l)), 'nothing was built');
  assert.deepEqual(await fingerprintFiles(target.sourceDir, ['kernel/printk/printk.c']), before);
});

test('an object kbuild reaches by two paths (arch/x86/lib/hweight.o) builds: a failed parallel make is run again serially', async () => {
  const patchPath = path.join(scratch, 'hweight.patch');
  const source = await readFile(path.join(target.sourceDir, 'arch/x86/lib/hweight.S'), 'utf8');
  const lines = source.split('\n');
  const at = lines.findIndex((l) => l.startsWith('SYM_FUNC_START(__sw_hweight32)'));
  assert.ok(at > 0);
  await writeFile(
    patchPath,
    [
      '--- a/arch/x86/lib/hweight.S',
      '+++ b/arch/x86/lib/hweight.S',
      `@@ -${at + 1},2 +${at + 1},3 @@`,
      ` ${lines[at]}`,
      '+\tnop',
      ` ${lines[at + 1]}`,
      '',
    ].join('\n'),
  );
  const build = await doubleBuild({ tree: target.sourceDir, patchPath, outDir: path.join(scratch, 'hweight'), log: () => {} });
  assert.deepEqual(build.objects, ['arch/x86/lib/hweight.o']);
  assert.notDeepEqual(
    await sectionBytes(path.join(build.preDir, 'arch/x86/lib/hweight.o'), '.text'),
    await sectionBytes(path.join(build.postDir, 'arch/x86/lib/hweight.o'), '.text'),
  );
  assert.equal(await readFile(path.join(target.sourceDir, 'arch/x86/lib/hweight.S'), 'utf8'), source);
});

test('two double builds of patches to the same file at once: each sees the pristine tree (the lock covers the dry run)', async () => {
  const patches = [
    path.join(corpus, 'examples/proc_cmdline.patch'),
    new URL('../fixtures/kmod/cmdline-second.patch', import.meta.url).pathname,
  ];
  const builds = await Promise.all(
    patches.map((patchPath, i) =>
      doubleBuild({ tree: target.sourceDir, patchPath, outDir: path.join(scratch, `concurrent-${i}`), log: () => {} }),
    ),
  );
  for (const build of builds) assert.deepEqual(build.objects, ['fs/proc/cmdline.o']);
  // the code is the same (the message is a relocation); each post object has its own message
  const post = await Promise.all(builds.map((b) => readFile(path.join(b.postDir, 'fs/proc/cmdline.o'), 'latin1')));
  assert.ok(post[0].includes('[rebootless update applied]') && !post[0].includes('[second update]'));
  assert.ok(post[1].includes('[second update]') && !post[1].includes('[rebootless update applied]'));
});
