// klp-relocations.ts on an object built in memory: which names need the loader, and the rewrite
// (symbol renamed with its kallsyms position and SHN_LIVEPATCH; its relocations moved to a
// `.klp.rela.vmlinux.<section>` flagged SHF_RELA_LIVEPATCH), read back through the ELF writer/reader.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MODULE_REF_PREFIX,
  moduleOwnNames,
  renameModuleRefs,
  SHF_RELA_LIVEPATCH,
  SHN_LIVEPATCH,
  toKlpRelocations,
  toModuleKlpRelocations,
  unresolvedNames,
} from '../../src/create/klp-relocations.ts';
import { readElf } from '../../src/elf/reader.ts';
import {
  EM_X86_64,
  newSection,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_INFO_LINK,
  SHT_PROGBITS,
  SHT_RELA,
  STB_GLOBAL,
  STT_FUNC,
  STT_NOTYPE,
  type ElfObject,
  type ElfSymbol,
} from '../../src/elf/types.ts';
import { writeElf } from '../../src/elf/writer.ts';
import { R_X86_64_PC32, R_X86_64_PC64, R_X86_64_PLT32 } from '../../src/x86/relocations.ts';

function undefinedSymbol(name: string): ElfSymbol {
  return { index: 0, name, bind: STB_GLOBAL, type: STT_NOTYPE, other: 0, section: null, shndx: 0, value: 0, size: 0 };
}

/** `ksplice_new_f`: `mov saved_command_line(%rip),%rsi; call seq_printf; call helper`. */
function moduleObject(): ElfObject {
  const text = newSection({ name: '.text.f', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, data: Buffer.alloc(32, 0x90) });
  const fn: ElfSymbol = {
    index: 0,
    name: 'ksplice_new_f',
    bind: STB_GLOBAL,
    type: STT_FUNC,
    other: 0,
    section: text,
    shndx: 0,
    value: 0,
    size: 32,
  };
  const saved = undefinedSymbol('saved_command_line');
  const printf = undefinedSymbol('seq_printf');
  const helper = undefinedSymbol('helper');
  const rela = newSection({
    name: '.rela.text.f',
    type: SHT_RELA,
    flags: SHF_INFO_LINK,
    addralign: 8n,
    entsize: 24n,
    rela: {
      target: text,
      entries: [
        { offset: 3, type: R_X86_64_PC32, symbol: saved, addend: -4n },
        { offset: 8, type: R_X86_64_PLT32, symbol: printf, addend: -4n },
        { offset: 13, type: R_X86_64_PLT32, symbol: helper, addend: -4n },
      ],
    },
  });
  return {
    header: { osabi: 0, abiversion: 0, machine: EM_X86_64, flags: 0 },
    sections: [text, rela],
    symbols: [fn, saved, printf, helper],
  };
}

test('names neither defined nor exported need the loader', () => {
  assert.deepEqual(unresolvedNames(moduleObject(), new Set(['seq_printf'])), ['helper', 'saved_command_line']);
});

test('the rewrite survives writing and reading back', () => {
  const obj = moduleObject();
  const made = toKlpRelocations(obj, ['saved_command_line', 'helper'], (name) => (name === 'helper' ? 2 : 0));
  assert.deepEqual(made.sort(), ['.klp.sym.vmlinux.helper,2', '.klp.sym.vmlinux.saved_command_line,0']);
  const back = readElf(writeElf(obj));
  const klp = back.symbols.filter((s) => s.name.startsWith('.klp.sym.'));
  assert.deepEqual(
    klp.map((s) => s.shndx),
    [SHN_LIVEPATCH, SHN_LIVEPATCH],
  );
  const plain = back.sections.find((s) => s.name === '.rela.text.f')!;
  assert.deepEqual(
    plain.rela!.entries.map((r) => r.symbol.name),
    ['seq_printf'],
  );
  const moved = back.sections.find((s) => s.name === '.klp.rela.vmlinux..text.f')!;
  assert.ok(moved, back.sections.map((s) => s.name).join(' '));
  assert.equal(moved.flags & SHF_RELA_LIVEPATCH, SHF_RELA_LIVEPATCH);
  assert.equal(moved.rela!.target.name, '.text.f');
  assert.deepEqual(
    moved.rela!.entries.map((r) => [r.offset, r.symbol.name, r.addend]),
    [
      [3, '.klp.sym.vmlinux.saved_command_line,0', -4n],
      [13, '.klp.sym.vmlinux.helper,2', -4n],
    ],
  );
});

// Module code: the module's own names (statics, its own exports, __this_module) wait for the core
// (kmod/module_relocs.c); other modules' and vmlinux exports stay with the loader.
test("a module's own names are those neither defined nor exported by vmlinux or another module", () => {
  const owners = new Map([
    ['seq_printf', 'vmlinux'],
    ['helper', 'ext4'],
  ]);
  assert.deepEqual(moduleOwnNames(moduleObject(), owners, 'ext4'), ['helper', 'saved_command_line']);
  assert.deepEqual(moduleOwnNames(moduleObject(), new Map([...owners, ['helper', 'jbd2']]), 'ext4'), ['saved_command_line']);
});

test('module references: renamed before kbuild, klp symbols of the module after, kept in memory', () => {
  const obj = moduleObject();
  renameModuleRefs(obj, ['helper']);
  assert.ok(obj.symbols.some((s) => s.name === `${MODULE_REF_PREFIX}helper`));
  const { made, refused } = toModuleKlpRelocations(obj, 'ext4', (name) => (name === 'helper' ? 3 : 0));
  assert.deepEqual(refused, []);
  assert.deepEqual(made, ['.klp.sym.ext4.helper,3']);
  const back = readElf(writeElf(obj));
  const moved = back.sections.find((s) => s.name === '.klp.rela.ext4..text.f')!;
  assert.ok(moved, back.sections.map((s) => s.name).join(' '));
  assert.equal(moved.flags & SHF_RELA_LIVEPATCH, SHF_RELA_LIVEPATCH);
  assert.equal(moved.flags & SHF_ALLOC, SHF_ALLOC, 'the core reads it after load: it must stay in memory');
  assert.deepEqual(
    moved.rela!.entries.map((r) => [r.offset, r.symbol.name, r.symbol.shndx]),
    [[13, '.klp.sym.ext4.helper,3', SHN_LIVEPATCH]],
  );
  assert.deepEqual(
    back.sections.find((s) => s.name === '.rela.text.f')!.rela!.entries.map((r) => r.symbol.name),
    ['saved_command_line', 'seq_printf'],
  );
});

test('a jump label entry naming a module-own symbol is refused, and nothing is rewritten', () => {
  const obj = moduleObject();
  renameModuleRefs(obj, ['helper']);
  const helper = obj.symbols.find((s) => s.name === `${MODULE_REF_PREFIX}helper`)!;
  const table = newSection({ name: '__jump_table', type: SHT_PROGBITS, flags: SHF_ALLOC, data: Buffer.alloc(16) });
  obj.sections.push(
    table,
    newSection({
      name: '.rela__jump_table',
      type: SHT_RELA,
      flags: SHF_INFO_LINK,
      addralign: 8n,
      entsize: 24n,
      rela: { target: table, entries: [{ offset: 8, type: R_X86_64_PC64, symbol: helper, addend: 0n }] },
    }),
  );
  const { made, refused } = toModuleKlpRelocations(obj, 'ext4', () => 0);
  assert.deepEqual(made, []);
  assert.deepEqual(refused, [{ section: '__jump_table', name: 'helper' }]);
  assert.equal(helper.name, `${MODULE_REF_PREFIX}helper`);
  assert.ok(!obj.sections.some((s) => s.name.startsWith('.klp.rela.')));
});
