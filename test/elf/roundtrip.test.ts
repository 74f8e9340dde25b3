// The ELF toolkit against binutils as the oracle: objects read and written back must look the
// same to readelf and objdump, carry no format warnings, and be accepted by `ld -r`.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readElf } from '../../src/elf/reader.ts';
import {
  ElfFormatError,
  SHN_LORESERVE,
  SHT_GROUP,
  newSection,
  SHT_PROGBITS,
  SHF_ALLOC,
  SHF_EXECINSTR,
  STB_GLOBAL,
  STT_FUNC,
  type ElfObject,
} from '../../src/elf/types.ts';
import { writeElf } from '../../src/elf/writer.ts';
import { R_X86_64_PLT32 } from '../../src/x86/relocations.ts';
import { run, runUnchecked } from '../../src/util/exec.ts';
import { assembleManySections, compileFixture, scratchDir } from '../fixtures/elf/build.ts';

let dir: string;
before(async () => {
  dir = await scratchDir('elf-rt');
});
after(() => rm(dir, { recursive: true, force: true }));

async function roundTrip(input: string): Promise<string> {
  const output = input.replace(/\.o$/, '.rt.o');
  await writeFile(output, writeElf(readElf(await readFile(input))));
  return output;
}

/** readelf -a -W must print nothing on stderr (it warns about every inconsistency it sees). */
async function readelfWarnings(object: string): Promise<string> {
  const r = await runUnchecked('readelf', ['-a', '-W', object]);
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stderr;
}

/** Symbols as readelf shows them, without their index (the writer puts locals first). */
async function symbolTable(object: string): Promise<string[]> {
  const out = await run('readelf', ['-s', '-W', object]);
  return (
    out
      .split('\n')
      .filter((l) => /^\s+\d+:/.test(l))
      .map((l) => l.trim().split(/\s+/).slice(1))
      // Section index numbers move; the section's name is what must survive.
      .map((f) => f.join(' '))
      .sort()
  );
}

/** Relocations per section name: offset, type, symbol + addend (readelf's rendering). */
async function relocations(object: string): Promise<string[]> {
  const out = await run('readelf', ['-r', '-W', object]);
  const rows: string[] = [];
  let section = '';
  for (const line of out.split('\n')) {
    const header = /^Relocation section '([^']+)'/.exec(line);
    if (header) section = header[1]!;
    else if (/^[0-9a-f]{16}\s/.test(line)) {
      const f = line.trim().split(/\s+/);
      rows.push(`${section} ${f[0]} ${f[2]} ${f.slice(4).join(' ')}`);
    }
  }
  return rows.sort();
}

async function disassembly(object: string): Promise<string> {
  return (await run('objdump', ['-d', '-r', '-w', object])).split('\n').slice(2).join('\n');
}

async function sectionNames(object: string): Promise<string[]> {
  const obj = readElf(await readFile(object));
  return obj.sections.map((s) => `${s.name} ${s.type} ${s.flags} ${s.size}`).sort();
}

for (const fixture of ['basic', 'clones', 'strings', 'special', 'groups', 'unsafe']) {
  test(`${fixture}.c: read → write is clean for readelf, same to readelf/objdump, accepted by ld -r`, async () => {
    const input = await compileFixture(fixture, dir, 'pre');
    const output = await roundTrip(input);
    assert.equal(await readelfWarnings(output), '');
    assert.deepEqual(await symbolTable(output), await symbolTable(input));
    assert.deepEqual(await relocations(output), await relocations(input));
    assert.equal(await disassembly(output), await disassembly(input));
    assert.deepEqual(await sectionNames(output), await sectionNames(input));
    await run('ld', ['-r', '-o', output.replace(/\.o$/, '.ld.o'), output]);
  });
}

test('section groups, merged strings, .comment and .note.GNU-stack survive the round trip', async () => {
  const input = await compileFixture('groups', dir, 'pre');
  const output = await roundTrip(input);
  const obj = readElf(await readFile(output));
  const group = obj.sections.find((s) => s.type === SHT_GROUP);
  assert.ok(group?.group, 'a COMDAT group');
  assert.equal(group.group.signature.name, 'grouped_sig');
  assert.deepEqual(group.group.members.map((m) => m.name).sort(), ['.data.grouped', '.rela.data.grouped', '.text.grouped']);
  assert.equal(
    (await run('readelf', ['-g', '-W', output])).replace(/\[\s*\d+\]/g, ''),
    (await run('readelf', ['-g', '-W', input])).replace(/\[\s*\d+\]/g, ''),
  );
  const comment = (o: string) => run('readelf', ['-p', '.comment', o]);
  assert.match(await comment(output), /GCC: \(Debian 12/);
  assert.equal(await comment(output), await comment(input));
  assert.ok(obj.sections.some((s) => s.name === '.note.GNU-stack'));
  assert.ok(obj.sections.some((s) => s.name.startsWith('.rodata') && s.name.includes('str1.8')));
  // ld warns about an executable stack when .note.GNU-stack is missing: none here.
  const ld = await runUnchecked('ld', ['-r', '-o', path.join(dir, 'groups.ld.o'), output]);
  assert.equal(ld.exitCode, 0);
  assert.equal(ld.stderr, '');
});

test('extended numbering: 66,000 sections read and written with e_shnum = 0, SHN_XINDEX and .symtab_shndx', async () => {
  const input = await assembleManySections(dir, 33000);
  const obj = readElf(await readFile(input));
  assert.ok(obj.sections.length > SHN_LORESERVE, `${obj.sections.length} sections`);
  const last = obj.symbols.find((s) => s.name === 'f32999');
  assert.equal(last?.section?.name, '.text.f32999');
  assert.ok(last.section.index > SHN_LORESERVE, 'the symbol needs .symtab_shndx');
  const call = obj.sections.find((s) => s.name === '.rela.text.f32999')?.rela?.entries[0];
  assert.equal(call?.symbol.name, 'f0');

  const output = await roundTrip(input);
  const header = await run('readelf', ['-h', '-W', output]);
  // null + the sections + .symtab, .strtab, .symtab_shndx, .shstrtab
  const count = obj.sections.length + 5;
  assert.match(header, new RegExp(`Number of section headers:\\s+0 \\(${count}\\)`));
  assert.match(header, new RegExp(`Section header string table index:\\s+65535 \\(${count - 1}\\)`));
  assert.equal(await readelfWarnings(output), '');
  const again = readElf(await readFile(output));
  assert.match(await run('readelf', ['-S', '-W', output]), /\.symtab_shndx\s+SYMTAB SECTION INDICES/);
  assert.equal(again.symbols.find((s) => s.name === 'f32999')?.section?.name, '.text.f32999');
  assert.equal(again.symbols.find((s) => s.name === 'f40')?.section?.name, '.text.f40');
  const symbolLine = (await run('readelf', ['-s', '-W', output])).split('\n').find((l) => / f32999$/.test(l));
  assert.match(symbolLine ?? '', /FUNC\s+GLOBAL\s+DEFAULT\s+66\d{3} f32999/);
  await run('ld', ['-r', '-o', path.join(dir, 'many.ld.o'), output]);
});

test('an object built in memory is written so that ld links a call through it', async () => {
  const text = newSection({
    name: '.text.caller',
    type: SHT_PROGBITS,
    flags: SHF_ALLOC | SHF_EXECINSTR,
    data: Buffer.from([0xe8, 0, 0, 0, 0, 0xc3]),
  });
  const caller = { index: 0, name: 'caller', bind: STB_GLOBAL, type: STT_FUNC, other: 0, section: text, shndx: 0, value: 0, size: 6 };
  const callee = { index: 0, name: 'callee', bind: STB_GLOBAL, type: 0, other: 0, section: null, shndx: 0, value: 0, size: 0 };
  const rela = newSection({
    name: '.rela.text.caller',
    type: 4,
    rela: { target: text, entries: [{ offset: 1, type: R_X86_64_PLT32, symbol: callee, addend: -4n }] },
  });
  const obj: ElfObject = { header: { osabi: 0, abiversion: 0, machine: 62, flags: 0 }, sections: [text, rela], symbols: [caller, callee] };
  const file = path.join(dir, 'memory.o');
  await writeFile(file, writeElf(obj));
  assert.equal(await readelfWarnings(file), '');
  assert.match(await run('objdump', ['-dr', file]), /R_X86_64_PLT32\s+callee-0x4/);
  await writeFile(path.join(dir, 'callee.s'), '.text\n.globl callee\ncallee: ret\n.globl _start\n_start: call caller\n');
  await run('as', ['-o', path.join(dir, 'callee.o'), path.join(dir, 'callee.s')]);
  await run('ld', ['-o', path.join(dir, 'linked'), path.join(dir, 'callee.o'), file]);
});

test('malformed input is refused with ElfFormatError, not a crash', async () => {
  const good = await readFile(await compileFixture('basic', dir, 'pre'));
  assert.throws(() => readElf(Buffer.from('not an object at all, just text......................................')), ElfFormatError);
  assert.throws(() => readElf(good.subarray(0, good.length - 200)), ElfFormatError);
  const elf32 = Buffer.from(good);
  elf32[4] = 1;
  assert.throws(() => readElf(elf32), /not ELF64/);
});
