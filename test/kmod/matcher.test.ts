/**
 * Run-pre matching over whole objects of the Debian kernel, in the guest: every traceable
 * function of kernel/printk/printk.o, kernel/sched/core.o, fs/pipe.o, net/ipv4/arp.o and
 * kernel/sys.o (hundreds of functions with relocations, strings, fentry, return thunks,
 * retpolines, static calls, jump labels, paravirt, alternatives and lock prefixes), with their
 * `.cold` companions, must match the running 6.1.0-50-amd64 under KASLR, on 2 CPUs and on 1
 * (where lock prefixes become `ds`), and on CPU models that make the kernel patch in other
 * mitigations (EPYC, Skylake-Client). The pre code and sites come from the create stage itself
 * (src/create/run-pre-sites.ts, via test/helpers/stub-update.ts). A copy with one corrupted byte
 * must not match. Updates here are stubs: only `echo check` (run-pre matching, no redirect) is
 * ever written.
 *
 * Run: bash scripts/test.sh test/kmod/matcher.test.ts   (about 2 min on 2 cores)
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildCore, type CoreModule } from '../../src/kbuild/core-module.ts';
import { readSystemMap, SystemMapIndex } from '../../src/kbuild/system-map.ts';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { runScenario } from '../helpers/guest-scenario.ts';
import { buildStubUpdate, type StubContext, type StubUpdate } from '../helpers/stub-update.ts';
import { fixture, REPO, scratchDir } from '../helpers/paths.ts';

const FIX = fixture('kmod');
const OUT = path.join(REPO, '.tmp/kmod-matcher');
/** The core module, built in its own copy of kmod/ for the target (before). */
let core: CoreModule;

interface GuestConfig {
  smp: number;
  cpu: string;
  append: string;
}

async function check(vmlinuz: string, modules: string[], g: GuestConfig): Promise<Map<string, string>> {
  const run = await runScenario({
    vmlinuz,
    scenario: path.join(FIX, 'scenario-check.sh'),
    files: [core.ko, ...modules],
    smp: g.smp,
    cpu: g.cpu || undefined,
    appendCmdline: g.append || undefined,
    keepLogAs: path.join(OUT, `check-smp${g.smp}-${g.cpu || 'qemu64'}${g.append ? '-' + g.append.replace(/[^a-z0-9]+/gi, '_') : ''}.log`),
  });
  return run.checks;
}

/** "fentry rewritten=1 original=0;..." -> { fentry: [1, 0], ... } */
function stats(line: string | undefined): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const m of (line ?? '').matchAll(/(\w+) rewritten=(\d+) original=(\d+)/g)) out[m[1]] = [Number(m[2]), Number(m[3])];
  return out;
}

describe('run-pre matching of whole Debian objects (guest, KASLR)', () => {
  let vmlinuz = '';
  let scratch = '';
  const built: Record<string, StubUpdate> = {};
  /** Stubs of every traceable function of these objects must all match. */
  const whole = ['printkchk', 'corechk', 'pipechk', 'arpchk', 'syschk'];

  before(async () => {
    const target = await ensureTarget();
    vmlinuz = target.vmlinuz;
    scratch = await scratchDir('matcher');
    core = await buildCore(target.headersDir, target.release);
    const ctx: StubContext = { target, map: new SystemMapIndex(await readSystemMap(target.systemMap)), kmodDir: core.dir, scratch };
    built.printkchk = await buildStubUpdate(ctx, { id: 'printkchk', object: 'kernel/printk/printk.o' });
    built.corechk = await buildStubUpdate(ctx, { id: 'corechk', object: 'kernel/sched/core.o' });
    built.pipechk = await buildStubUpdate(ctx, { id: 'pipechk', object: 'fs/pipe.o' });
    built.badchk = await buildStubUpdate(ctx, { id: 'badchk', object: 'fs/pipe.o', corruptPreByte: 5 });
    // The objects two corpus fixes touch (net_ipv4_arp.patch, kernel_sys.patch).
    built.arpchk = await buildStubUpdate(ctx, { id: 'arpchk', object: 'net/ipv4/arp.o' });
    built.syschk = await buildStubUpdate(ctx, { id: 'syschk', object: 'kernel/sys.o' });
    // A __weak function the x86 code overrides: System.map's copy is not this object's code.
    built.weakchk = await buildStubUpdate(ctx, { id: 'weakchk', object: 'kernel/sys.o', functions: ['arch_prctl_spec_ctrl_get'] });
    // Local names four objects define (s_show, s_stop of kernel/kallsyms.c): with no sympos the core
    // gets every System.map address. s_show: run-pre matching finds the one copy. s_stop is
    // byte-identical in two objects: ambiguous unless the update says which copy (sympos, as
    // ksplice-create does); a wrong sympos is refused.
    built.dupchk = await buildStubUpdate(ctx, { id: 'dupchk', object: 'kernel/kallsyms.o', functions: ['s_show'], sympos: 'none' });
    built.ambchk = await buildStubUpdate(ctx, { id: 'ambchk', object: 'kernel/kallsyms.o', functions: ['s_stop'], sympos: 'none' });
    built.posschk = await buildStubUpdate(ctx, { id: 'posschk', object: 'kernel/kallsyms.o', functions: ['s_stop', 's_show'] });
    built.wrongposchk = await buildStubUpdate(ctx, { id: 'wrongposchk', object: 'kernel/kallsyms.o', functions: ['s_show'], sympos: 4 });
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  test('the fixtures cover every site kind', () => {
    const kinds = new Set<string>();
    for (const id of whole) for (const k of Object.keys(built[id].sites)) kinds.add(k);
    assert.deepEqual([...kinds].sort(), [
      'ALTERNATIVE',
      'FENTRY',
      'JUMP_LABEL',
      'LOCK_PREFIX',
      'PARAVIRT',
      'RELOC',
      'RETPOLINE',
      'RETURN_THUNK',
      'STATIC_CALL',
    ]);
    assert.ok(built.corechk.functions.length > 200, `${built.corechk.functions.length} functions of sched/core.o`);
    // gcc's .cold parts ride along as companions (matched and stack-checked, not redirected).
    assert.ok(built.printkchk.functions.some((f) => f.endsWith('.cold')));
    assert.ok(built.corechk.functions.some((f) => f.endsWith('.cold')));
  });

  // Every configuration also sees sched/core.o's alternatives both patched in and as compiled.
  // QEMU's default CPU needs no return thunk (`ret`); EPYC gets RETBleed's untrained return
  // thunk (`jmp` to it); Skylake-Client the ITS aligned thunks; one CPU turns lock prefixes into
  // `ds`; spectre_v2=off / retpoline,lfence inline the retpolines ([lfence;] call *%reg).
  const configs: (GuestConfig & { expect: (s: Record<string, [number, number]>) => void })[] = [
    { smp: 2, cpu: '', append: '', expect: (s) => assert.ok(s.lock_prefix[1] > 0 && s.lock_prefix[0] === 0, 'lock kept on SMP') },
    { smp: 1, cpu: '', append: '', expect: (s) => assert.ok(s.lock_prefix[0] > 0 && s.lock_prefix[1] === 0, 'lock -> ds on UP') },
    { smp: 2, cpu: 'EPYC', append: '', expect: (s) => assert.ok(s.return_thunk[0] > 0) },
    { smp: 2, cpu: 'Skylake-Client', append: '', expect: (s) => assert.ok(s.return_thunk[0] > 0) },
    // schedstats=enable turns on the sched_schedstats key: its jump labels in sched/core.o become jumps.
    {
      smp: 2,
      cpu: '',
      append: 'spectre_v2=off schedstats=enable',
      expect: (s) => {
        assert.ok(s.retpoline[0] > 0 && s.retpoline[1] === 0, 'inline');
        assert.ok(s.jump_label[0] > 0, 'enabled static keys: jump labels seen rewritten');
      },
    },
    { smp: 2, cpu: '', append: 'spectre_v2=retpoline,lfence', expect: (s) => assert.ok(s.retpoline[0] > 0 && s.retpoline[1] === 0) },
  ];
  for (const g of configs) {
    test(`every function matches, one corrupted byte does not (-smp ${g.smp}${g.cpu ? ` -cpu ${g.cpu}` : ''}${g.append ? ` ${g.append}` : ''})`, async () => {
      const c = await check(
        vmlinuz,
        Object.values(built).map((b) => b.module),
        g,
      );
      for (const id of whole) {
        assert.equal(c.get(`match-${id}`), 'none', `${id} (${built[id].functions.length} functions)`);
        assert.equal(c.get(`stage-${id}`), 'loaded', 'check changes nothing');
        assert.match(c.get(`stats-${id}`)!, /fentry rewritten=[1-9]/);
        // The sysfs file is one page: long lists end with "... N more" (N + the lines shown = all).
        const shown = /^(\d+) \.\.\. (\d+) more$/.exec(c.get(`functions-${id}`)!);
        const listed = shown ? Number(shown[1]) - 1 + Number(shown[2]) : Number(c.get(`functions-${id}`)!.split(' ')[0]);
        assert.equal(listed, built[id].functions.length, `${id}: ${c.get(`functions-${id}`)}`);
      }
      // 246 functions do not fit sysfs's page: the listing says how many it left out (no WARN).
      assert.match(c.get('functions-corechk')!, /^\d+ \.\.\. \d+ more$/);
      const core = stats(c.get('stats-corechk'));
      const redirected = built.corechk.functions.filter((f) => !f.endsWith('.cold')).length;
      assert.deepEqual(core.fentry, [redirected, 0], 'every fentry call is a nop in the running kernel');
      assert.ok(core.paravirt[0] > 0 && core.static_call[0] > 0, 'paravirt and static calls seen rewritten');
      assert.ok(core.alternative[0] > 0 && core.alternative[1] > 0, 'alternatives seen both patched in and left as compiled');
      g.expect(core);
      const first = built.badchk.functions[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assert.match(c.get('match-badchk')!, new RegExp(`^no_match: ${first}\\+0x5: `));
      assert.match(c.get('match-weakchk')!, /^no_match: arch_prctl_spec_ctrl_get\+0x[0-9a-f]+: /);
      assert.equal(c.get('match-dupchk'), 'none');
      assert.equal(c.get('match-ambchk'), 'bad_address: s_stop: 2 of its 4 System.map candidates match: ambiguous');
      assert.equal(c.get('match-posschk'), 'none');
      assert.match(c.get('match-wrongposchk')!, /^no_match: s_show\+0x[0-9a-f]+: /);
      assert.equal(c.get('rmmod-core'), 'ok');
    });
  }
});
