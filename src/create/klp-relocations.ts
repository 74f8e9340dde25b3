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
 * Usage:
 *   const exported = await readExports([headersSymvers, kmodSymvers]);
 *   const names = unresolvedNames(koObject, exported);          // before: decide livepatch=Y
 *   const ko = toKlpRelocations(koObject, (name) => positionOf(name));   // after kbuild
 */
import { readFile } from 'node:fs/promises';
import { newSection, SHF_INFO_LINK, SHT_RELA, type ElfObject, type ElfSection, type ElfSymbol, type Rela } from '../elf/types.ts';

export const SHN_LIVEPATCH = 0xff20;
export const SHF_RELA_LIVEPATCH = 0x00100000n;

/** Names exported to modules, from Module.symvers files (`crc<TAB>name<TAB>module<TAB>kind`). */
export async function readExports(symversFiles: readonly string[]): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of symversFiles) {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      const name = line.split('\t')[1];
      if (name) names.add(name);
    }
  }
  return names;
}

function isUndefinedSymbol(sym: ElfSymbol): boolean {
  return sym.section === null && sym.shndx === 0 && sym.name !== '';
}

/**
 * The undefined names a module loader cannot resolve by itself: neither defined in the module
 * nor exported. Each needs a livepatch relocation.
 */
export function unresolvedNames(obj: ElfObject, exported: ReadonlySet<string>): string[] {
  const defined = new Set(obj.symbols.filter((s) => s.section !== null).map((s) => s.name));
  const names = obj.symbols.filter((s) => isUndefinedSymbol(s) && !defined.has(s.name) && !exported.has(s.name)).map((s) => s.name);
  return [...new Set(names)].sort();
}

export function klpSymbolName(name: string, position: number): string {
  return `.klp.sym.vmlinux.${name},${position}`;
}

/**
 * `.rela.text.foo` (applies to `.text.foo`) → `.klp.rela.vmlinux..text.foo` (`.klp.rela.<object>.<section>`,
 * Documentation/livepatch/module-elf-format.rst): the loader reads the object name up to the next
 * dot, and the target section from sh_info.
 */
function klpRelaName(target: ElfSection): string {
  return `.klp.rela.vmlinux.${target.name}`;
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
  const added: ElfSection[] = [];
  for (const section of obj.sections) {
    if (!section.rela) continue;
    const moved: Rela[] = section.rela.entries.filter((r) => klpSymbols.has(r.symbol));
    if (moved.length === 0) continue;
    section.rela.entries = section.rela.entries.filter((r) => !klpSymbols.has(r.symbol));
    added.push(
      newSection({
        name: klpRelaName(section.rela.target),
        type: SHT_RELA,
        flags: SHF_RELA_LIVEPATCH | SHF_INFO_LINK,
        addralign: 8n,
        entsize: 24n,
        rela: { target: section.rela.target, entries: moved },
      }),
    );
  }
  obj.sections.push(...added);
  return made;
}
