// The create stage's run-pre material (src/create/run-pre-sites.ts, the port of the kmod fixture's
// site extraction onto src/elf) over whole objects of the Debian kernel: every traceable function
// of fs/pipe.o, kernel/printk/printk.o and net/ipv4/arp.o, with its `.cold` companion, goes into
// one stub descriptor per object (descriptorSource, kbuildModule), and the engine's `echo check`
// in the QEMU guest must match all of them against the running kernel (KASLR). Stub updates are
// never applied.
//
// Run: bash scripts/test.sh test/create/run-pre-sites.test.ts   (about 1 min on 2 cores)
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { coldPartOf, RunPreError, runPreTarget, type RunPreTarget } from '../../src/create/run-pre-sites.ts';
import { descriptorSource, newFunctionName } from '../../src/create/update-descriptor.ts';
import { buildCore, kbuildModule } from '../../src/create/update-module.ts';
import { readElf } from '../../src/elf/reader.ts';
import { STB_WEAK, STT_FUNC } from '../../src/elf/types.ts';
import { kbuildArgs } from '../../src/setup/kbuild-flags.ts';
import { readSystemMap, SystemMapIndex } from '../../src/setup/system-map.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { run } from '../../src/util/exec.ts';
import { withLock } from '../../src/util/lock.ts';
import { runScenario } from '../helpers/guest-scenario.ts';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const kmodDir = path.join(repo, 'kmod');
const objects: Record<string, string> = { pipechk: 'fs/pipe.o', printkchk: 'kernel/printk/printk.o', arpchk: 'net/ipv4/arp.o' };
let target: TargetKernel;
let scratch: string;
const modules: string[] = [];
const counts: Record<string, { functions: number; skipped: number; kinds: Record<string, number> }> = {};

async function stubModule(id: string, object: string, map: SystemMapIndex): Promise<string> {
  const dir = path.join(scratch, id);
  await mkdir(dir, { recursive: true });
  await withLock(`${target.sourceDir}.build.lock`, async () => {
    await run('make', [...kbuildArgs(target.sourceDir, 2), object]);
    await copyFile(path.join(target.sourceDir, object), path.join(dir, 'pre.o'));
  });
  const pre = readElf(await readFile(path.join(dir, 'pre.o')));
  const targets: (RunPreTarget & { newFunction?: string })[] = [];
  let skipped = 0;
  for (const fn of pre.symbols) {
    if (fn.type !== STT_FUNC || fn.size === 0 || fn.bind === STB_WEAK || fn.section?.name !== `.text.${fn.name}`) continue;
    try {
      targets.push({ ...runPreTarget(pre, fn.name, map), newFunction: newFunctionName(fn.name) });
      const cold = coldPartOf(pre, fn.name);
      if (cold) targets.push(runPreTarget(pre, cold, map, true));
    } catch (e) {
      if (!(e instanceof RunPreError)) throw e;
      skipped++;
    }
  }
  const kinds: Record<string, number> = {};
  for (const t of targets) {
    for (const s of t.sites) kinds[s.kind] = (kinds[s.kind] ?? 0) + 1;
    assert.ok(t.sites.every((s, i) => i === 0 || t.sites[i - 1]!.offset <= s.offset), `${t.name}: sites sorted`);
  }
  counts[id] = { functions: targets.length, skipped, kinds };
  await writeFile(path.join(dir, 'descriptor.c'), descriptorSource({
    id, release: target.release, targets, livepatch: false,
    printkMapAddr: map.unique('_printk')!, stopMachineMapAddr: map.unique('stop_machine')!,
  }));
  const stubs = targets.filter((t) => t.newFunction).map((t) => `void ${t.newFunction}(void);\nvoid ${t.newFunction}(void) { }`);
  await writeFile(path.join(dir, 'stubs.c'), `/* STUBS: this update exists to be run-pre matched ("check"), NEVER applied. */\n${stubs.join('\n')}\n`);
  return kbuildModule({ dir, moduleName: `ksplice_${id}`, parts: ['descriptor.o', 'stubs.o'], headersDir: target.headersDir, kmodDir, unresolvedAllowed: false });
}

before(async () => {
  target = await ensureTarget();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'ksa-runpre-'));
  await buildCore(target.headersDir, kmodDir);
  const map = new SystemMapIndex(await readSystemMap(target.systemMap));
  for (const [id, object] of Object.entries(objects)) modules.push(await stubModule(id, object, map));
});
after(() => rm(scratch, { recursive: true, force: true }));

test('sites of every kind are found across the three objects', (t) => {
  t.diagnostic(JSON.stringify(counts));
  const total: Record<string, number> = {};
  for (const c of Object.values(counts)) for (const [k, n] of Object.entries(c.kinds)) total[k] = (total[k] ?? 0) + n;
  for (const kind of ['RELOC', 'FENTRY', 'RETURN_THUNK', 'RETPOLINE', 'STATIC_CALL', 'JUMP_LABEL', 'PARAVIRT', 'LOCK_PREFIX']) {
    assert.ok((total[kind] ?? 0) > 0, `${kind}: ${JSON.stringify(total)}`);
  }
  assert.ok(counts.printkchk!.functions > 50, JSON.stringify(counts.printkchk));
});

test('run-pre matching of every function of the three objects succeeds in the guest', async () => {
  const { checks } = await runScenario({
    vmlinuz: target.vmlinuz, scenario: path.join(repo, 'test/fixtures/kmod/scenario-check.sh'),
    files: [path.join(kmodDir, 'ksplice.ko'), ...modules], keepLogAs: path.join(scratch, 'check.log'),
  });
  for (const id of Object.keys(objects)) {
    assert.equal(checks.get(`match-${id}`), 'none', `${id}: ${checks.get(`match-${id}`)}`);
    assert.equal(checks.get(`stage-${id}`), 'loaded');
    // The sysfs file is one page: long lists end with "... N more" (N + the lines shown = all).
    const shown = /^(\d+) \.\.\. (\d+) more$/.exec(checks.get(`functions-${id}`)!);
    const listed = shown ? Number(shown[1]) - 1 + Number(shown[2]) : Number(checks.get(`functions-${id}`)!.split(' ')[0]);
    assert.equal(listed, counts[id]!.functions, `${id}: ${checks.get(`functions-${id}`)}`);
    assert.match(checks.get(`stats-${id}`)!, /fentry rewritten=[1-9]/);
  }
  assert.equal(checks.get('rmmod-core'), 'ok');
});
