// extractFunctions: the objects it writes hold exactly the chosen functions' code, their special
// section entries and strings, and binutils accepts them.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { diffObjects, shippedFunctions } from '../../src/diff/diff.ts';
import { extractFunctions, ExtractError } from '../../src/diff/extract.ts';
import type { ElfObject } from '../../src/elf/types.ts';
import { writeElf } from '../../src/elf/writer.ts';
import { specialSectionLayout, specialSectionNames } from '../../src/x86/special-sections.ts';
import { run, runUnchecked } from '../../src/util/exec.ts';
import { compileFixture, compilePair, scratchDir } from '../fixtures/elf/build.ts';

let dir: string;
before(async () => {
  dir = await scratchDir('extract');
});
after(() => rm(dir, { recursive: true, force: true }));

async function writeChecked(obj: ElfObject, name: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, writeElf(obj));
  const r = await runUnchecked('readelf', ['-a', '-W', file]);
  assert.equal(r.stderr, '', `readelf warns about ${name}`);
  await run('ld', ['-r', '-o', file.replace(/\.o$/, '.ld.o'), file]);
  return file;
}

/** Relocations of one section as readelf prints them: [offset, type, "symbol + addend"]. */
async function relocationsOf(file: string, section: string): Promise<string[][]> {
  const out = await run('readelf', ['-r', '-W', file]);
  const start = out.indexOf(`Relocation section '.rela${section}'`);
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const line of out.slice(start).split('\n').slice(2)) {
    if (!/^[0-9a-f]{16}\s/.test(line)) break;
    const f = line.trim().split(/\s+/);
    rows.push([f[0]!, f[2]!, f.slice(4).join(' ')]);
  }
  return rows;
}

/** Instruction bytes of a function, from objdump (relocation lines and addresses removed). */
async function codeBytes(file: string, section: string): Promise<string> {
  const out = await run('objdump', ['-d', '-w', `--section=${section}`, file]);
  return out
    .split('\n')
    .filter((l) => /^\s+[0-9a-f]+:\t/.test(l))
    .map((l) => l.split('\t')[1]!.trim())
    .join(' ');
}

test('a changed function travels with exactly its own special-section entries', async () => {
  const { post, postPath } = await compilePair('special', dir);
  const extracted = extractFunctions(post, ['site_user_b']);
  const file = await writeChecked(extracted, 'special-b.o');
  assert.equal(await codeBytes(file, '.text.site_user_b'), await codeBytes(postPath, '.text.site_user_b'));

  let kinds = 0;
  for (const name of specialSectionNames()) {
    const layout = specialSectionLayout(name)!;
    if (layout.parallelTo) continue;
    // In the compiled object, entries whose site relocation names site_user_b's section.
    const original = (await relocationsOf(postPath, name)).filter((r) => parseInt(r[0]!, 16) % layout.entrySize === layout.siteOffset);
    const mine = original.filter((r) => r[2]!.startsWith('.text.site_user_b'));
    const copied = (await relocationsOf(file, name)).filter((r) => parseInt(r[0]!, 16) % layout.entrySize === layout.siteOffset);
    if (original.length === 0) continue;
    kinds++;
    assert.ok(original.length > mine.length, `${name}: the fixture has entries of other functions too`);
    assert.equal(copied.length, mine.length, `${name}: ${copied.length} copied, ${mine.length} belong to site_user_b`);
    for (const r of copied) assert.match(r[2]!, /^site_user_b \+ [0-9a-f]+$/, `${name} site`);
    const section = extracted.sections.find((s) => s.name === name)!;
    assert.equal(section.size, mine.length * layout.entrySize, `${name} size`);
  }
  assert.ok(kinds >= 10, `${kinds} kinds of special sections exercised`);
  // .orc_unwind stays parallel to .orc_unwind_ip.
  const ip = extracted.sections.find((s) => s.name === '.orc_unwind_ip')!;
  const orc = extracted.sections.find((s) => s.name === '.orc_unwind')!;
  assert.equal(orc.size / 6, ip.size / 4);
  // The alternative's replacement (lfence) is copied and the entry points at it.
  assert.deepEqual([...extracted.sections.find((s) => s.name === '.altinstr_replacement')!.data], [0x0f, 0xae, 0xe8]);
  // The bug entry's file name is a string label in a copied string section.
  const bug = await relocationsOf(file, '__bug_table');
  assert.equal(bug.length, 2);
  const fileLabel = extracted.symbols.find((s) => s.name === bug[1]![2]!.split(' ')[0]);
  assert.ok(fileLabel?.section, 'file name label');
  assert.equal(fileLabel.section.data.toString('latin1', fileLabel.value, fileLabel.section.data.indexOf(0, fileLabel.value)), 'special.c');
  // What the code refers to outside itself becomes undefined symbols to resolve in the kernel.
  const externals = new Map(extracted.externals.map((e) => [e.name, e]));
  for (const name of ['__fentry__', 'shared_counter', 'fast_key', 'pv_ops', '__SCT__tick', '__x86_return_thunk'])
    assert.ok(externals.has(name), name);
  assert.equal(externals.get('fast_key')?.local, false);
});

test('strings: the new literal is copied and referenced by a label; ld resolves it to the text', async () => {
  const { pre, post } = await compilePair('strings', dir);
  const result = diffObjects(pre, post);
  const extracted = extractFunctions(result.post, shippedFunctions(result));
  const file = await writeChecked(extracted, 'strings.o');
  const strings = extracted.sections.filter((s) => s.name.includes('.str1.')).map((s) => s.data.toString('latin1'));
  assert.ok(strings.some((s) => s.includes('value is now %d\n')));
  assert.ok(strings.some((s) => s.includes('a brand new message\n')));
  assert.ok(!strings.some((s) => s.includes('unchanged message')), 'strings of functions not extracted stay behind');
  // Link for real, at a known address, and follow the reference in changed_message to its string.
  await writeFile(
    path.join(dir, 'print.s'),
    '.text\n.globl print, _start, __fentry__\nprint: ret\n_start: ret\n__fentry__: ret\n.section .note.GNU-stack,"",@progbits\n',
  );
  await run('as', ['-o', path.join(dir, 'print.o'), path.join(dir, 'print.s')]);
  await run('ld', ['-Ttext=0x1000', '-o', path.join(dir, 'strings.exe'), path.join(dir, 'print.o'), file]);
  const dump = await run('objdump', ['-d', '-w', path.join(dir, 'strings.exe')]);
  const fn = dump.slice(dump.indexOf('<changed_message>:'));
  const address = /mov\s+\$0x([0-9a-f]+),%rdi/.exec(fn)?.[1];
  assert.ok(address, fn.slice(0, 400));
  const contents = await run('objdump', ['-s', '-j', '.rodata', path.join(dir, 'strings.exe')]);
  assert.ok(contents.includes('value is now'), 'the linked string section holds the text');
  const linked = readElfAt(await readFile(path.join(dir, 'strings.exe')), parseInt(address, 16));
  assert.equal(linked, 'value is now %d\n');
});

/** The NUL-terminated string at a virtual address of a linked executable (via its section headers). */
function readElfAt(file: Buffer, address: number): string {
  const shoff = Number(file.readBigUInt64LE(40));
  const shnum = file.readUInt16LE(60);
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * 64;
    const addr = Number(file.readBigUInt64LE(o + 16));
    const size = Number(file.readBigUInt64LE(o + 32));
    if (addr && address >= addr && address < addr + size) {
      const start = Number(file.readBigUInt64LE(o + 24)) + address - addr;
      return file.toString('latin1', start, file.indexOf(0, start));
    }
  }
  throw new Error(`no section at 0x${address.toString(16)}`);
}

test('a function brings its .cold part; jumps between them stay inside the extracted object', async () => {
  const { post } = await compilePair('clones', dir);
  const extracted = extractFunctions(post, ['with_cold_part']);
  const file = await writeChecked(extracted, 'cold.o');
  assert.deepEqual(
    extracted.symbols
      .filter((s) => s.type === 2)
      .map((s) => s.name)
      .sort(),
    ['with_cold_part', 'with_cold_part.cold'],
  );
  assert.ok(!extracted.externals.some((e) => e.name.startsWith('with_cold_part')), 'no external reference to its own parts');
  const fromCold = await relocationsOf(file, '.text.unlikely.with_cold_part');
  assert.ok(
    fromCold.some((r) => r[2]!.startsWith('report')),
    'the cold part calls report()',
  );
});

test('calls to functions left behind become undefined symbols, marked local when they were static', async () => {
  const { pre } = await compilePair('clones', dir);
  const extracted = extractFunctions(pre, ['split_user1']);
  await writeChecked(extracted, 'split-user.o');
  const split = extracted.externals.find((e) => /^split\.part\.\d+$/.test(e.name));
  assert.deepEqual(split && { local: split.local, kind: split.kind }, { local: true, kind: 'function' });
  assert.ok(
    extracted.externals.some((e) => e.name === 'enabled' && !e.local),
    'a global variable stays global',
  );
});

test('new data used by new code can be copied along; unknown names are refused', async () => {
  const { pre, post } = await compilePair('statics', dir);
  const result = diffObjects(pre, post);
  assert.deepEqual(result.newData.map((s) => s.name.replace(/\.\d+$/, '')).sort(), ['added_counter', 'calls']);
  const extracted = extractFunctions(post, shippedFunctions(result), { data: result.newData.map((s) => s.name) });
  const file = await writeChecked(extracted, 'statics.o');
  const relocs = await relocationsOf(file, '.text.added_first');
  assert.ok(
    relocs.some((r) => r[2]!.startsWith('added_counter')),
    relocs.join('\n'),
  );
  assert.deepEqual(
    extracted.externals.filter((e) => e.kind === 'data'),
    [],
  );
  assert.throws(() => extractFunctions(post, ['no_such_function']), ExtractError);
  await compileFixture('basic', dir, 'pre');
});

test("with the correlation, references to statics use the running kernel's (pre) names, not the renumbered post ones", async () => {
  const { pre, post } = await compilePair('statics', dir);
  const result = diffObjects(pre, post);
  const preName = extractFunctions(pre, ['count_a']).externals.find((e) => e.kind === 'data')!.name;
  const postName = extractFunctions(post, ['count_a']).externals.find((e) => e.kind === 'data')!.name;
  assert.notEqual(preName, postName, "the fixture renumbers count_a's static");
  const extracted = extractFunctions(post, ['count_a'], { correlation: result.correlation });
  assert.deepEqual(
    extracted.externals.filter((e) => e.kind === 'data').map((e) => e.name),
    [preName],
  );
  await writeChecked(extracted, 'count_a.o');
});
