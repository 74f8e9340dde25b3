// The differ on objects gcc compiles with the kernel's flags from the fixtures in
// test/fixtures/elf (each built before and after its POST change).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { diffObjects, summarize, type DiffResult } from '../../src/diff/diff.ts';
import { runUnchecked } from '../../src/util/exec.ts';
import { compilePair, scratchDir, type FixturePair } from '../fixtures/elf/build.ts';

let dir: string;
const pairs = new Map<string, FixturePair>();
before(async () => {
  dir = await scratchDir('differ');
});
after(() => rm(dir, { recursive: true, force: true }));

async function diffFixture(name: string): Promise<DiffResult> {
  let pair = pairs.get(name);
  if (!pair) pairs.set(name, (pair = await compilePair(name, dir)));
  return diffObjects(pair.pre, pair.post);
}

function part(result: DiffResult, name: string) {
  return [...result.changed, ...result.new].flatMap((g) => g.parts).find((p) => p.name === name);
}

test('changed body, unchanged, new and removed functions', async () => {
  const result = await diffFixture('basic');
  assert.deepEqual(summarize(result), { changed: ['changed_body'], new: ['added_function'], removed: ['removed_function'], unsafe: [] });
  assert.equal(part(result, 'changed_body')?.section.name, '.text.changed_body');
  assert.ok(part(result, 'changed_body')?.pre, 'a changed function keeps its pre partner');
});

test('an object compared with itself has no changes', async () => {
  await diffFixture('special');
  const { post } = pairs.get('special')!;
  assert.deepEqual(summarize(diffObjects(post, post)), { changed: [], new: [], removed: [], unsafe: [] });
});

test('a change in an inlined static helper shows as a change of each caller', async () => {
  const result = await diffFixture('inline');
  assert.deepEqual(summarize(result).changed, ['first_caller', 'second_caller']);
  assert.deepEqual(summarize(result).new, []);
});

test('GCC clones (.cold, .constprop, .isra, .part) are matched to their pre selves, never new', async () => {
  const result = await diffFixture('clones');
  const summary = summarize(result);
  assert.deepEqual(summary.new, []);
  assert.deepEqual(summary.removed, []);
  // The cold part is reported with its owner, and both are shipped: the owner jumps into it.
  const cold = result.changed.find((g) => g.name === 'with_cold_part');
  assert.deepEqual(cold?.parts.map((p) => [p.name, p.status]).sort(), [
    ['with_cold_part', 'changed'],
    ['with_cold_part.cold', 'changed'],
  ]);
  assert.equal(cold?.parts.find((p) => p.name === 'with_cold_part.cold')?.section.name, '.text.unlikely.with_cold_part');
  // Clones whose parent GCC never emitted are reported under the clone's own (kallsyms) name.
  for (const clone of [/^specialized\.constprop\.\d+$/, /^reduced\.isra\.\d+$/, /^split\.part\.\d+$/]) {
    assert.ok(
      summary.changed.some((n) => clone.test(n)),
      `${clone} in ${summary.changed.join(', ')}`,
    );
  }
  // The callers of the clones did not change.
  for (const caller of ['calls_specialized', 'calls_reduced', 'split_user1', 'split_user4'])
    assert.ok(!summary.changed.includes(caller), caller);
});

test('a function that becomes a clone, or a clone that becomes a function, is changed, not new and removed', async () => {
  const forward = await diffFixture('reclone');
  const { pre, post } = pairs.get('reclone')!;
  assert.ok(
    pre.symbols.some((s) => /^specialized\.constprop\.\d+$/.test(s.name)) && post.symbols.some((s) => s.name === 'specialized'),
    'fixture shape',
  );
  assert.deepEqual(summarize(forward), { changed: ['calls_one', 'specialized'], new: ['calls_two'], removed: [], unsafe: [] });
  const backward = diffObjects(post, pre);
  assert.deepEqual(summarize(backward), { changed: ['calls_one', 'specialized'], new: [], removed: ['calls_two'], unsafe: [] });
  assert.match(backward.changed.find((g) => g.name === 'specialized')!.parts[0]!.name, /^specialized\.constprop\.\d+$/);
});

test('static locals whose numeric suffix moved are correlated, not new, and their data compared', async () => {
  const result = await diffFixture('statics');
  const { pre, post } = pairs.get('statics')!;
  const calls = (o: typeof pre) =>
    new Map(o.symbols.filter((s) => s.name.startsWith('calls.')).map((s) => [s.name, s.section!.data.readInt32LE(s.value)]));
  // The fixture really shifts the numbers: some pre name is gone after the patch.
  assert.ok(
    [...calls(pre).keys()].some((name) => !calls(post).has(name)),
    'numbers shifted',
  );
  assert.deepEqual(summarize(result), { changed: [], new: ['added_first'], removed: [], unsafe: [] });
  // Each pre `calls.N` is paired with the post one its function uses: same initial value.
  for (const [a, b] of result.correlation.preToPost) {
    if (!a.name.startsWith('calls.')) continue;
    assert.ok(a.section && b.section);
    assert.equal(b.section.data.readInt32LE(b.value), a.section.data.readInt32LE(a.value), `${a.name} ↔ ${b.name}`);
  }
  assert.equal([...result.correlation.preToPost.keys()].filter((s) => s.name.startsWith('calls.')).length, 3);
});

test('a changed string literal changes its function; strings that only moved do not', async () => {
  const result = await diffFixture('strings');
  assert.deepEqual(summarize(result), { changed: ['changed_message'], new: ['says_something_new'], removed: [], unsafe: [] });
  assert.match(part(result, 'changed_message')?.reason ?? '', /"value was %d\\n" → .*"value is now %d\\n"/);
});

test('lines added above WARN_ON and pr_debug sites: only the edited function changes; bug-table lines are noted', async () => {
  const result = await diffFixture('lines');
  assert.deepEqual(summarize(result).changed, ['patched_near_top']);
  const { pre, post } = pairs.get('lines')!;
  const bugTable = (o: typeof pre) => o.sections.find((s) => s.name === '__bug_table')!.data;
  assert.ok(!bugTable(pre).equals(bugTable(post)), 'the line numbers in __bug_table moved');
  const lineNotes = result.notes.filter((n) => /__bug_table .*line number differs/.test(n));
  assert.ok(
    lineNotes.some((n) => n.includes('warns_below')),
    result.notes.join('\n'),
  );
  assert.ok(
    lineNotes.some((n) => n.includes('warns_further_below')),
    result.notes.join('\n'),
  );
  // pr_debug's descriptor records the line too: a note, not unsafe data, and not a change.
  assert.ok(
    result.notes.some((n) => /^__UNIQUE_ID_ddebug\d+\.\d+: line number differs/.test(n)),
    result.notes.join('\n'),
  );
  assert.deepEqual(result.unsafe, []);
});

test('initialized data, a struct layout (size, field offsets), __init code and exports changes are unsafe, each by its rule', async () => {
  const result = await diffFixture('unsafe');
  const findings = [...result.unsafe, ...result.exportChanges];
  const rules = (symbol: string) => findings.filter((u) => u.symbol === symbol).map((u) => u.rule);
  assert.deepEqual(rules('limit'), ['data-change']);
  // The size of current_config, and `.mode` moved from +4 to +8: seen in the code of its readers, here and in another file.
  assert.deepEqual(rules('current_config').sort(), ['data-layout', 'data-layout']);
  assert.ok(
    findings.some((u) => u.symbol === 'current_config' && /^reads_mode reaches/.test(u.reason)),
    'the reader that shows the shift is named',
  );
  assert.deepEqual(rules('remote_config'), ['data-layout']);
  assert.deepEqual(rules('boot_setup'), ['init-code']);
  assert.deepEqual(rules('uses_limit'), ['export-change']);
  assert.ok(!summarize(result).changed.includes('boot_setup'), '__init code is not shipped');
  assert.ok(!result.unsafe.some((u) => u.symbol === 'unchanged_reader'), 'reading a field whose offset did not move is fine');
  assert.deepEqual(summarize(result).changed, ['reads_mode', 'reads_remote_mode']);
});

test('special sections: a change only in an alternative replacement is a change; sites of unchanged functions are not', async () => {
  const result = await diffFixture('special');
  assert.deepEqual(summarize(result).changed, ['alternative_only', 'site_user_b']);
  assert.match(part(result, 'alternative_only')?.reason ?? '', /\.altinstructions .*replacement code/);
});

test('ksplice-diff CLI: human and --json output, exit 0 on changes, 2 when unsafe (with rule codes), 1 on errors, 64 on bad usage', async () => {
  await diffFixture('basic');
  const { prePath, postPath } = pairs.get('basic')!;
  const cli = path.resolve(import.meta.dirname ?? '.', '../../src/diff/cli.ts');
  const tsx = path.resolve(import.meta.dirname ?? '.', '../../node_modules/.bin/tsx');
  const json = await runUnchecked(tsx, [cli, prePath, postPath, '--json']);
  assert.equal(json.exitCode, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), {
    changed: ['changed_body'],
    new: ['added_function'],
    removed: ['removed_function'],
    unsafe: [],
  });
  await diffFixture('unsafe');
  const unsafe = pairs.get('unsafe')!;
  const refusedRun = await runUnchecked(tsx, [cli, '--json', unsafe.prePath, unsafe.postPath]);
  assert.equal(refusedRun.exitCode, 2, refusedRun.stderr);
  const refused = JSON.parse(refusedRun.stdout) as { unsafe: { rule: string; symbol: string }[] };
  assert.deepEqual([...new Set(refused.unsafe.map((u) => u.symbol))].sort(), [
    'boot_setup',
    'current_config',
    'limit',
    'remote_config',
    'uses_limit',
  ]);
  assert.deepEqual([...new Set(refused.unsafe.map((u) => u.rule))].sort(), ['data-change', 'data-layout', 'export-change', 'init-code']);
  const refusedHuman = await runUnchecked(tsx, [cli, unsafe.prePath, unsafe.postPath]);
  assert.equal(refusedHuman.exitCode, 2);
  assert.match(refusedHuman.stdout, /^unsafe \(export-change\): uses_limit: newly exported/m);
  const human = await runUnchecked(tsx, [cli, prePath, prePath]);
  assert.equal(human.exitCode, 0);
  assert.match(human.stdout, /No changes detected/);
  const bad = await runUnchecked(tsx, [cli, prePath, path.join(dir, 'missing.o')]);
  assert.equal(bad.exitCode, 1);
  assert.match(bad.stderr, /ksplice-diff: .*missing\.o/);
  const usage = await runUnchecked(tsx, [cli, prePath]);
  assert.equal(usage.exitCode, 64);
  assert.match(usage.stderr, /usage: ksplice-diff/);
});
