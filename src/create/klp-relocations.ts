/**
 * Livepatch relocations for an update module: references from the new code to kernel symbols that
 * are not exported (static functions and variables of the patched file, `saved_command_line`)
 * become relocations the module loader itself resolves at insmod through kallsyms
 * (kernel/module/main.c apply_relocations → klp_apply_section_relocs; kmod/README.md, "Symbol
 * resolution for the new code", route 2). Our core never registers a klp_patch: only the
 * loader's relocation path is used.
 *
 * The rewrite, on the built .ko:
 *   - the undefined symbol NAME becomes `.klp.sym.vmlinux.NAME,POS`, section index SHN_LIVEPATCH;
 *     POS is its 1-based position among same-named symbols in kallsyms (= System.map) order,
 *     0 when the name is unique (the loader then checks it is);
 *   - every relocation naming it moves from `.rela<sec>` to `.klp.rela.vmlinux.<sec>`, flagged
 *     SHF_RELA_LIVEPATCH. The module must carry modinfo `livepatch=Y` (the descriptor adds it).
 *
 * Example: `mov saved_command_line(%rip),%rdx` (PC32 saved_command_line-4, not exported) →
 * PC32 `.klp.sym.vmlinux.saved_command_line,0`-4 in `.klp.rela.vmlinux..text.ksplice_new_cmdline_proc_show`.
 *
 * Module code (kmod/module_relocs.c): references of a module's new code to that module's own
 * symbols (statics, and its own exports: the update must load while the module is absent) are
 * left to the core, which writes them once the module is loaded and zeroes them when it goes:
 *   - before kbuild, each such undefined NAME is renamed `__ksplice_modref.NAME`, so modpost adds
 *     no dependency or CRC for it;
 *   - after kbuild it becomes `.klp.sym.<module>.NAME,POS` (POS: position among same-named symbols
 *     of the shipped .ko, 0 when unique), its relocations move to `.klp.rela.<module>.<sec>`,
 *     flagged SHF_ALLOC as well so the section stays in the update module's memory.
 * Only code and plain data may refer to them: a `__jump_table` or `.static_call_sites` entry is
 * read by the kernel when the update module loads, before the core could write it.
 *
 * Usage:
 *   const exported = new Set((await readExportOwners([headersSymvers, kmodSymvers])).keys());
 *   const names = unresolvedNames(koObject, exported);          // before: decide livepatch=Y
 *   const ko = toKlpRelocations(koObject, (name) => positionOf(name));   // after kbuild
 */
import { readFile } from 'node:fs/promises';
import {
  newSection,
  SHF_ALLOC,
  SHF_INFO_LINK,
  SHT_RELA,
  type ElfObject,
  type ElfSection,
  type ElfSymbol,
  type Rela,
} from '../elf/types.ts';

export const SHN_LIVEPATCH = 0xff20;
export const SHF_RELA_LIVEPATCH = 0x00100000n;

/** Exported name → the module exporting it (`vmlinux`, `ext4`, …), from Module.symvers files. */
export async function readExportOwners(symversFiles: readonly string[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const file of symversFiles) {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      const [, name, owner] = line.split('\t');
      if (name && owner) owners.set(name, owner === 'vmlinux' ? 'vmlinux' : owner.split('/').pop()!.replace(/-/g, '_'));
    }
  }
  return owners;
}

function isUndefinedSymbol(sym: ElfSymbol): boolean {
  return sym.section === null && sym.shndx === 0 && sym.name !== '';
}

/**
 * The undefined names a module loader cannot resolve by itself: neither defined in the module
 * nor exported. Each needs a livepatch relocation.
 */
export function unresolvedNames(obj: ElfObject, exported: ReadonlySet<string>): string[] {
  return undefinedNames(obj, (name) => !exported.has(name));
}

/** The sorted names `obj` uses and does not define, those `keep` says yes to. */
function undefinedNames(obj: ElfObject, keep: (name: string) => boolean): string[] {
  const defined = new Set(obj.symbols.filter((s) => s.section !== null).map((s) => s.name));
  const names = obj.symbols.filter((s) => isUndefinedSymbol(s) && !defined.has(s.name) && keep(s.name)).map((s) => s.name);
  return [...new Set(names)].sort();
}

export function klpSymbolName(name: string, position: number, object = 'vmlinux'): string {
  return `.klp.sym.${object}.${name},${position}`;
}

/** What module code's undefined references to its own module are called between the two steps. */
export const MODULE_REF_PREFIX = '__ksplice_modref.';

/**
 * The undefined names of a module's new code that are that module's own: neither defined in the
 * code nor exported by vmlinux or another module (those the loader resolves, keeping a real
 * dependency). `__this_module` is always the module's own.
 */
export function moduleOwnNames(obj: ElfObject, exportOwners: ReadonlyMap<string, string>, module: string): string[] {
  return undefinedNames(obj, (name) => {
    const owner = exportOwners.get(name);
    return owner === undefined || owner === module || name === '__this_module';
  });
}

/** Step 1 for module code: renames the module-own references so kbuild leaves them undefined. */
export function renameModuleRefs(obj: ElfObject, names: readonly string[]): void {
  const wanted = new Set(names);
  for (const sym of obj.symbols) if (isUndefinedSymbol(sym) && wanted.has(sym.name)) sym.name = MODULE_REF_PREFIX + sym.name;
}

/** Output sections of the update module whose fields the core may write after load. */
function isPlainSection(name: string): boolean {
  return /^\.(text|rodata|data)(\.|$)/.test(name) && !name.startsWith('.data..percpu');
}

export interface ModuleKlpResult {
  /** `.klp.sym.<module>.NAME,POS` symbols made. */
  made: string[];
  /** References from sections the kernel reads at load (jump labels, static calls, …): not writable later. */
  refused: { section: string; name: string }[];
}

/**
 * Step 2 for module code, on the built .ko: `__ksplice_modref.NAME` → `.klp.sym.<module>.NAME,POS`,
 * relocations into `.klp.rela.<module>.<sec>` kept in memory. Nothing is changed when `refused` is
 * not empty.
 */
export function toModuleKlpRelocations(obj: ElfObject, module: string, positionOf: (name: string) => number): ModuleKlpResult {
  const refs = obj.symbols.filter((s) => isUndefinedSymbol(s) && s.name.startsWith(MODULE_REF_PREFIX));
  const refSet = new Set(refs);
  const refused: ModuleKlpResult['refused'] = [];
  for (const section of obj.sections) {
    if (!section.rela || isPlainSection(section.rela.target.name)) continue;
    for (const r of section.rela.entries)
      if (refSet.has(r.symbol)) refused.push({ section: section.rela.target.name, name: r.symbol.name.slice(MODULE_REF_PREFIX.length) });
  }
  if (refused.length > 0) return { made: [], refused };
  const made: string[] = [];
  for (const sym of refs) {
    const name = sym.name.slice(MODULE_REF_PREFIX.length);
    sym.name = klpSymbolName(name, positionOf(name), module);
    sym.shndx = SHN_LIVEPATCH;
    made.push(sym.name);
  }
  moveRelocations(obj, refSet, module, SHF_ALLOC);
  return { made, refused };
}

/**
 * `.rela.text.foo` (applies to `.text.foo`) → `.klp.rela.vmlinux..text.foo` (`.klp.rela.<object>.<section>`,
 * Documentation/livepatch/module-elf-format.rst): the loader reads the object name up to the next
 * dot, and the target section from sh_info.
 */
function klpRelaName(target: ElfSection, object = 'vmlinux'): string {
  return `.klp.rela.${object}.${target.name}`;
}

/** Moves every relocation naming one of `symbols` into a klp relocation section for `object`. */
function moveRelocations(obj: ElfObject, symbols: ReadonlySet<ElfSymbol>, object: string, extraFlags = 0n): void {
  const added: ElfSection[] = [];
  for (const section of obj.sections) {
    if (!section.rela) continue;
    const moved: Rela[] = section.rela.entries.filter((r) => symbols.has(r.symbol));
    if (moved.length === 0) continue;
    section.rela.entries = section.rela.entries.filter((r) => !symbols.has(r.symbol));
    added.push(
      newSection({
        name: klpRelaName(section.rela.target, object),
        type: SHT_RELA,
        flags: SHF_RELA_LIVEPATCH | SHF_INFO_LINK | extraFlags,
        addralign: 8n,
        entsize: 24n,
        rela: { target: section.rela.target, entries: moved },
      }),
    );
  }
  obj.sections.push(...added);
}

/**
 * Rewrites the module object in place: `names` become klp symbols at the positions `positionOf`
 * gives, their relocations move to klp relocation sections. Returns the klp symbol names made.
 */
export function toKlpRelocations(obj: ElfObject, names: readonly string[], positionOf: (name: string) => number): string[] {
  const wanted = new Set(names);
  const klpSymbols = new Set<ElfSymbol>();
  const made: string[] = [];
  for (const sym of obj.symbols) {
    if (!isUndefinedSymbol(sym) || !wanted.has(sym.name)) continue;
    const name = klpSymbolName(sym.name, positionOf(sym.name));
    sym.name = name;
    sym.shndx = SHN_LIVEPATCH;
    klpSymbols.add(sym);
    made.push(name);
  }
  moveRelocations(obj, klpSymbols, 'vmlinux');
  return made;
}
