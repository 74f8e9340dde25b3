// The safety rules one by one: object rules (src/diff/safety-rules.ts) on gcc fixtures built
// with the kernel's flags, source rules (src/diff/source-rules.ts) on patch text, and the
// --accept / --hooks plumbing of ksplice-create (create.ts, hooks.ts).
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { findingAnnotations } from '../../src/create/annotations.ts';
import { applyAccepts, UnacceptableError, UnknownAcceptError } from '../../src/create/create.ts';
import { hookDispatchers, hookRegistrations, unregisteredHooks } from '../../src/create/hooks.ts';
import type { ElfObject, ElfSymbol } from '../../src/elf/types.ts';
import { diffObjects, summarize, type DiffResult } from '../../src/diff/diff.ts';
import { finding, isRuleCode } from '../../src/diff/findings.ts';
import { whyCannotBeRedirected } from '../../src/diff/safety-rules.ts';
import {
  canonicalMember,
  changedLines,
  enclosingBlock,
  functionBodies,
  functionsReaching,
  inlineFunctionOfHeader,
  isLibArchiveMember,
  sameMembers,
  sourceSafetyFindings,
  stripForBraces,
  structWhoseLayoutChanges,
  typedefNameOfBlock,
} from '../../src/diff/source-rules.ts';
import { readElf } from '../../src/elf/reader.ts';
import { run } from '../../src/util/exec.ts';
import { fixtureDir as elfFixtures, KERNEL_CFLAGS } from '../fixtures/elf/build.ts';
import { fixture, scratchDir } from '../helpers/paths.ts';

const fixtures = fixture('safety');
let dir: string;
let rules: DiffResult;

before(async () => {
  dir = await scratchDir('safety');
  const build = async (variant: 'pre' | 'post') => {
    const out = path.join(dir, `rules.${variant}.o`);
    await run('gcc-12', [...KERNEL_CFLAGS, ...(variant === 'post' ? ['-DPOST'] : []), `-I${elfFixtures}`, '-o', out, 'rules.c'], {
      cwd: fixtures,
    });
    return readElf(await readFile(out));
  };
  rules = diffObjects(await build('pre'), await build('post'));
});
after(() => rm(dir, { recursive: true, force: true }));

function ruleFor(symbol: string): string | undefined {
  return rules.unsafe.find((u) => u.symbol === symbol)?.rule;
}

test('object rules: exactly the expected findings on the gcc fixture, each with a rule of the table and a reason', () => {
  assert.deepEqual(summarize(rules).changed, ['counted', 'entry_helper', 'keyed', 'limited', 'untraced']);
  assert.deepEqual(rules.unsafe.map((u) => `${u.symbol} ${u.rule}`).sort(), [
    'boot_value init-data',
    'entry_helper noinstr',
    'keyed static-key',
    'seen new-data',
    'untraced notrace',
  ]);
  for (const u of rules.unsafe) assert.ok(isRuleCode(u.rule) && u.reason.length > 0, JSON.stringify(u));
});

test('a changed function without fentry cannot be redirected (notrace, noinstr), and cannot be accepted', () => {
  assert.equal(ruleFor('untraced'), 'notrace');
  assert.equal(ruleFor('entry_helper'), 'noinstr');
  for (const symbol of ['untraced', 'entry_helper']) assert.equal(rules.unsafe.find((u) => u.symbol === symbol)?.acceptable, false);
});

test('why a function cannot be redirected, by rule: its section, its name, or its object', () => {
  const fn = (name: string, section: string) => ({ name, section: { name: section } }) as unknown as ElfSymbol;
  const rule = (f: ElfSymbol, objectTraced = true) => whyCannotBeRedirected(f, new Map(), objectTraced)?.rule;
  assert.equal(rule(fn('ct_kernel_exit_state', '.noinstr.text')), 'noinstr');
  assert.equal(rule(fn('entry_SYSCALL_64_helper', '.entry.text')), 'entry-code');
  assert.equal(rule(fn('__do_sys_settimeofday', '.text.__do_sys_settimeofday')), 'notrace');
  assert.equal(rule(fn('trace_event_raw_event_foo', '.text.trace_event_raw_event_foo')), 'notrace');
  assert.equal(rule(fn('ktime_get_boot_fast_ns', '.text.ktime_get_boot_fast_ns')), 'notrace');
  assert.equal(rule(fn('get_option', '.text.get_option'), false), 'no-fentry');
  assert.equal(rule(fn('get_option.cold', '.text.unlikely.get_option'), false), undefined, 'a cold part is never entered from outside');
});

test('a function that starts testing a static key is a changed static-key user', () => {
  assert.equal(ruleFor('keyed'), 'static-key');
  // The key is named for the person reading it.
  assert.match(rules.unsafe.find((u) => u.symbol === 'keyed')!.reason, /\bfast_key\b/);
});

test("new writable data a changed function uses must be initialized; a new helper's static local is not asked", () => {
  assert.equal(ruleFor('seen'), 'new-data');
  assert.ok(!rules.unsafe.some((u) => u.symbol.startsWith('calls') || u.symbol.startsWith('_rs')), JSON.stringify(rules.unsafe));
});

test('init-only data given another value', () => {
  assert.equal(ruleFor('boot_value'), 'init-data');
});

test('source rules: changed lines placed in the pre file, and the block around them', () => {
  const patch = ['--- a/x.h', '+++ b/x.h', '@@ -1,4 +1,5 @@', ' struct s {', ' \tint a;', '+\tint b;', ' };', ' '].join('\n');
  assert.deepEqual(changedLines(patch), [{ file: 'x.h', preLine: 3, kind: '+', text: '\tint b;' }]);
  const lines = stripForBraces('/* { */\nstruct s {\n\tint a; // }\n\tchar *p; /* "}" */\n};\n#define X { \\\n }\nint y;\n');
  assert.equal(enclosingBlock(lines, 3), 'struct s');
  assert.equal(enclosingBlock(lines, 4), 'struct s');
  assert.equal(enclosingBlock(lines, 8), null);
});

test('source rules: a typedef of a struct with no tag is named by its typedef (atomic_t of the Debian tree)', async () => {
  const { ensureTarget } = await import('../../src/setup/target-kernel.ts');
  const tree = (await ensureTarget()).sourceDir;
  const readPre = (file: string) => readFile(path.join(tree, file), 'utf8');
  const typesH = await readPre('include/linux/types.h');
  const counterLine = typesH.split('\n').findIndex((l, i, all) => l === '\tint counter;' && all[i + 1] === '} atomic_t;') + 1;
  assert.ok(counterLine > 0, 'include/linux/types.h defines atomic_t as a tagless typedef');
  assert.equal(typedefNameOfBlock(stripForBraces(typesH), counterLine), 'atomic_t');
  const patch = [
    '--- a/include/linux/types.h',
    '+++ b/include/linux/types.h',
    `@@ -${counterLine},2 +${counterLine},3 @@`,
    ' \tint counter;',
    '+\tint generation;',
    ' } atomic_t;',
    '',
  ].join('\n');
  const findings = await sourceSafetyFindings({ patchText: patch, readPre, objects: [] });
  assert.deepEqual(
    findings.map((f) => [f.rule, f.symbol]),
    [['data-layout', 'struct atomic_t (typedef)']],
  );
  // Attributes between the brace and the name are not the name.
  assert.equal(typedefNameOfBlock(stripForBraces('typedef struct {\n\tint a;\n} __packed __aligned(4) foo_t;\n'), 2), 'foo_t');
});

test('source rules: struct layout, and the corpus audit_tree respelling that is not one', () => {
  assert.equal(structWhoseLayoutChanges('struct fib_alias', '\tu8\t\t\tfa_flags2;'), 'struct fib_alias');
  assert.equal(structWhoseLayoutChanges('struct fib_alias', '\t/* a comment */'), null);
  assert.equal(structWhoseLayoutChanges('static int f(void)', '\tx++;'), null);
  assert.equal(canonicalMember("\t\tunsigned index;\t\t/* index; upper bit indicates 'will prune' */"), 'unsigned int index;');
  assert.ok(sameMembers(['\t\tunsigned index;\t\t/* index */'], ['\t\tunsigned int index;\t/* index */']));
  assert.ok(!sameMembers([], ['\tu8 fa_flags2;']));
});

test('source rules: header inlines, lib-y members', async () => {
  assert.equal(
    inlineFunctionOfHeader('kernel/time/timekeeping_internal.h', 'static inline u64 clocksource_delta(u64 now, u64 last, u64 mask)'),
    'clocksource_delta',
  );
  assert.equal(inlineFunctionOfHeader('kernel/time/timekeeping.c', 'static inline u64 f(void)'), null);
  assert.equal(inlineFunctionOfHeader('a.h', 'struct s'), null);
  assert.deepEqual(
    functionBodies(stripForBraces('struct s { int a; };\nstatic int t[] = { 1 };\nint f(int a) __cold\n{ if (a) { g(); } }\n')).map((b) => [
      b.name,
      b.body.trim(),
    ]),
    [['f', 'if (a) { g(); }']],
  );
  assert.deepEqual(
    [
      ...functionsReaching(
        ['g'],
        [
          { name: 'f', body: 'h();' },
          { name: 'h', body: 'g();' },
          { name: 'i', body: 'gg();' },
        ],
      ),
    ].sort(),
    ['f', 'h'],
  );
  const makefile =
    'obj-y += a.o\nlib-y := ctype.o string.o \\\n\tvsprintf.o cmdline.o\nlib-$(CONFIG_SMP) += cpumask.o\nlib-y += memcpy_$(BITS).o\n';
  assert.ok(isLibArchiveMember('lib/cmdline.o', makefile));
  assert.ok(isLibArchiveMember('lib/cpumask.o', makefile));
  assert.ok(isLibArchiveMember('arch/x86/lib/memcpy_64.o', makefile));
  assert.ok(!isLibArchiveMember('lib/a.o', makefile));
  const findings = await sourceSafetyFindings({
    patchText: [
      '--- a/k.h',
      '+++ b/k.h',
      '@@ -1,3 +1,3 @@',
      ' static inline int twice(int x)',
      ' {',
      '-\treturn 2 * x;',
      '+\treturn x + x + 0;',
      '',
    ].join('\n'),
    readPre: async (f) =>
      ({
        'k.h': 'static inline int twice(int x)\n{\n\treturn 2 * x;\n}\n',
        // caller_b reaches twice through an inlined static helper; other changed for its own reasons.
        'k.c':
          '#include "k.h"\nstatic int helper(int x) { return twice(x) + 1; }\nint caller_a(int x)\n{\n\treturn twice(x);\n}\nint caller_b(int x) { return helper(x); }\nstruct s { int (*f)(int); } t = { .f = 0 };\nint other(int x) { return x - 1; }\n',
        // An object built from a .c file that #includes another (as kernel/sched/build_policy.c).
        'dir/all.c': '#include "part.c"\n',
        'dir/part.c': 'void in_part(void) { twice(1); }\n',
      })[f] ?? '',
    objects: [
      { object: 'k.o', changedFunctions: ['caller_a', 'caller_b.constprop.0', 'other'] },
      { object: 'dir/all.o', changedFunctions: ['in_part'] },
      { object: 'gone.o', changedFunctions: ['mystery'] },
    ],
  });
  assert.deepEqual(
    findings.map((f) => [f.rule, f.symbol]),
    [['header-inline', 'twice']],
  );
  // The callers the update must replace, listed for the author.
  assert.match(
    findings[0]!.reason,
    /inline function twice of header k\.h changed: .*— here caller_a \(k\.o\), caller_b\.constprop\.0 \(k\.o\), in_part \(dir\/all\.o\); changed in objects whose source was not read: mystery \(gone\.o\) — /,
  );
});

test('--accept: accepted findings pass, the others still refuse, unknown names are an error', () => {
  const findings = [finding('new-data', 'a', 'x'), finding('data-change', 'b', 'y')];
  assert.deepEqual(applyAccepts(findings, ['a']), { unsafe: [findings[1]], accepted: [findings[0]] });
  assert.throws(() => applyAccepts(findings, ['c']), UnknownAcceptError);
  // The too-wide path saw only the source rules: a name may stand for a finding the build would show.
  assert.deepEqual(applyAccepts(findings, ['a', 'c'], false), { unsafe: [findings[1]], accepted: [findings[0]] });
  // No hook makes a function ftrace cannot redirect safe: that rule cannot be accepted, on either path.
  assert.equal(rules.unsafe.find((u) => u.symbol === 'untraced')?.acceptable, false);
  assert.throws(
    () => applyAccepts(rules.unsafe, ['untraced']),
    /cannot be accepted, change the patch instead:\n {2}untraced: .*\[notrace\]/,
  );
  assert.throws(() => applyAccepts(rules.unsafe, ['untraced']), UnacceptableError);
  assert.throws(() => applyAccepts([finding('module-code', 'fs/ext4/namei.o', 'x')], ['fs/ext4/namei.o'], false), UnacceptableError);
  assert.equal(applyAccepts(rules.unsafe, ['seen']).accepted.length, 1);
});

test('hooks: registrations read in order, dispatchers stop at the first refusal', () => {
  const source =
    '/* ksplice_apply(commented); */\nksplice_pre_apply(one);\nksplice_pre_apply(two);\n  ksplice_apply(convert);\n#define X ksplice_apply(in_macro)\nksplice_bogus(x);\n';
  const hooks = hookRegistrations(source);
  assert.deepEqual(hooks, [
    { stage: 'pre_apply', fn: 'one' },
    { stage: 'pre_apply', fn: 'two' },
    { stage: 'apply', fn: 'convert' },
  ]);
  const c = hookDispatchers(hooks).join('\n');
  assert.match(
    c,
    /static int ksplice_run_pre_apply\(void\)\n\{\n\tint ret;\n\n\tret = __ksplice_hook_pre_apply_one\(\);\n\tif \(ret\)\n\t\treturn ret;\n\tret = __ksplice_hook_pre_apply_two\(\);/,
  );
  assert.match(c, /static void ksplice_run_apply\(void\)\n\{\n\t__ksplice_hook_apply_convert\(\);\n\}/);
  assert.match(c, /#define KSPLICE_HOOK_TABLE \{ \.pre_apply = ksplice_run_pre_apply, \.apply = ksplice_run_apply \}/);
});

test('hooks: a hook pointer in the built module that was not read from the source is reported', () => {
  const module = {
    symbols: [
      { name: '__ksplice_hook_apply_convert', section: {} },
      { name: '__ksplice_hook_apply_hidden', section: {} },
      { name: '__ksplice_hook_apply_undef', section: null },
    ],
  } as unknown as ElfObject;
  assert.deepEqual(unregisteredHooks(module, [{ stage: 'apply', fn: 'convert' }]), ['__ksplice_hook_apply_hidden']);
});

test('findings as GitHub annotations of the patch file, escaped', () => {
  const lines = findingAnnotations(
    '/ws/fixes/fix.patch',
    [finding('data-layout', 'struct a,b', '100% wrong:\nsee')],
    [finding('new-data', 'x', 'ok')],
    '/ws',
  );
  assert.deepEqual(lines, [
    '::error file=fixes/fix.patch,title=ksplice%3A needs custom code (struct a%2Cb)::struct a,b: 100%25 wrong:%0Asee [data-layout]',
    '::notice file=fixes/fix.patch,title=ksplice%3A accepted with custom code (x)::x: ok [new-data]',
  ]);
});
