/**
 * A shipped module (`.ko`) as the reproduction check sees a kernel: bytes by address and symbols
 * by name. A `.ko` is a relocatable object, so there is no address yet; this lays its allocated
 * sections out one after another at a made-up base, gives every symbol it leaves undefined (the
 * kernel's exports, `__fentry__`) an address of its own in a made-up area, and applies the
 * module's own relocations the way the module loader would. The result answers the same two
 * questions the shipped vmlinux answers: which bytes are at an address, and which addresses a
 * name has. So `checkReproduction` compares a module's pre build with Debian's module unchanged.
 *
 * Debian's image ships modules with `--strip-debug`: code, relocations and the whole symbol table
 * (static functions included, kallsyms needs them) are still there.
 *
 * Usage:
 *   const { kernel, map } = linkShippedModule(readElf(await readFile('.../kernel/fs/ext4/ext4.ko')));
 *   checkReproduction(preObject, 'fs/ext4/namei.o', map, kernel);
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  SHF_ALLOC,
  SHN_ABS,
  SHT_NOBITS,
  STT_FILE,
  STT_FUNC,
  STT_SECTION,
  relaFor,
  type ElfObject,
  type ElfSection,
  type ElfSymbol,
} from '../elf/types.ts';
import { SystemMapIndex, type MapSymbol } from '../kbuild/system-map.ts';
import { relocationWidth, R_X86_64_NONE } from '../x86/relocations.ts';
import { relocationResult } from '../x86/relocation-values.ts';
import { shippedImage, type ShippedKernel } from './shipped-kernel.ts';

/** Where the module's sections start; module addresses on x86-64 live up here too. */
const MODULE_BASE = 0xffffffffc0000000n;
/** Where the symbols the module leaves to the kernel get their made-up, distinct addresses. */
const EXTERNAL_BASE = 0xffffffffb0000000n;
const EXTERNAL_STRIDE = 0x10n;

export interface LinkedModule {
  kernel: ShippedKernel;
  map: SystemMapIndex;
  /** Addresses of the module's functions of a name, in its symbol table order (= the loaded module's kallsyms). */
  functionAddresses(name: string): bigint[];
}

function alignUp(value: bigint, align: bigint): bigint {
  return align > 1n ? ((value + align - 1n) / align) * align : value;
}

export function linkShippedModule(ko: ElfObject): LinkedModule {
  // 1. Lay out the allocated sections.
  const base = new Map<ElfSection, bigint>();
  let end = MODULE_BASE;
  for (const section of ko.sections) {
    if ((section.flags & SHF_ALLOC) === 0n) continue;
    end = alignUp(end, section.addralign);
    base.set(section, end);
    end += BigInt(section.size);
  }
  const image = Buffer.alloc(Number(end - MODULE_BASE));
  for (const [section, at] of base) {
    if (section.type !== SHT_NOBITS) section.data.copy(image, Number(at - MODULE_BASE));
  }

  // 2. Give every symbol an address: defined ones in their section, undefined ones one each.
  const externals = new Map<string, bigint>();
  const valueOf = (sym: ElfSymbol): bigint => {
    if (sym.shndx === SHN_ABS) return BigInt(sym.value);
    if (sym.section && base.has(sym.section)) return base.get(sym.section)! + BigInt(sym.value);
    let at = externals.get(sym.name);
    if (at === undefined) {
      at = EXTERNAL_BASE + BigInt(externals.size) * EXTERNAL_STRIDE;
      externals.set(sym.name, at);
    }
    return at;
  };
  const symbols: MapSymbol[] = [];
  const functions = new Map<string, bigint[]>();
  for (const sym of ko.symbols) {
    if (sym.name === '' || sym.type === STT_SECTION || sym.type === STT_FILE) continue;
    symbols.push({ address: valueOf(sym), type: sym.section ? 't' : 'U', name: sym.name });
    if (sym.type === STT_FUNC && sym.section) functions.set(sym.name, [...(functions.get(sym.name) ?? []), valueOf(sym)]);
  }

  // 3. Apply the module's relocations, as the module loader does.
  for (const [section, at] of base) {
    for (const rela of relaFor(ko, section)?.entries ?? []) {
      if (rela.type === R_X86_64_NONE) continue;
      const place = at + BigInt(rela.offset);
      const width = relocationWidth(rela.type);
      let value = relocationResult(rela.type, valueOf(rela.symbol), place, rela.addend);
      const offset = Number(place - MODULE_BASE);
      for (let i = 0; i < width; i++, value >>= 8n) image[offset + i] = Number(value & 0xffn);
    }
  }

  const locate = (address: bigint, length: number): number | null => {
    if (address < MODULE_BASE || address + BigInt(length) > end) return null;
    return Number(address - MODULE_BASE);
  };
  const kernel = shippedImage(image, locate);
  return { kernel, map: new SystemMapIndex(symbols), functionAddresses: (name) => functions.get(name) ?? [] };
}

/**
 * A module's modinfo (`.modinfo`: NUL-separated `key=value`), e.g. vermagic
 * `6.1.0-50-amd64 SMP preempt mod_unload modversions `, srcversion (only with MODULE_VERSION or
 * CONFIG_MODULE_SRCVERSION_ALL), depends. A key given several times keeps its first value.
 */
export function moduleInfo(ko: ElfObject): Map<string, string> {
  const info = new Map<string, string>();
  const section = ko.sections.find((s) => s.name === '.modinfo');
  for (const entry of section?.data.toString('latin1').split('\0') ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0 && !info.has(entry.slice(0, eq))) info.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return info;
}

/**
 * Refuses a shipped module built for another kernel than the target (a modules folder of another
 * release, a module rebuilt locally): its vermagic must start with the target's release.
 */
export function checkShippedModuleFor(release: string, module: string, info: ReadonlyMap<string, string>, where: string): void {
  const vermagic = info.get('vermagic');
  if (vermagic === undefined) throw new Error(`${module}.ko (${where}) has no vermagic: not a kernel module of ${release}`);
  if (vermagic.split(' ')[0] !== release)
    throw new Error(
      `${module}.ko (${where}) was built for kernel ${vermagic.split(' ')[0]} (vermagic '${vermagic.trim()}'), not ${release}`,
    );
}

/**
 * The shipped `.ko` of a module, by its kernel name, under a release's `lib/modules/<release>`:
 * found through `modules.order` (`kernel/fs/ext4/ext4.ko`), where `-` and `_` are the same.
 */
export async function shippedModulePath(modulesDir: string, module: string): Promise<string> {
  const order = await readFile(path.join(modulesDir, 'modules.order'), 'utf8').catch(() => {
    throw new Error(`no modules.order in ${modulesDir}: the shipped modules are needed to check a module's pre build`);
  });
  const wanted = module.replace(/-/g, '_');
  const entry = order.split('\n').find((line) => path.basename(line, '.ko').replace(/-/g, '_') === wanted);
  if (!entry) throw new Error(`module ${module} is not among the shipped modules of ${modulesDir} (modules.order)`);
  return path.join(modulesDir, entry);
}
