/**
 * The C source of an update module's descriptor (`descriptor.c` of ksplice_<id>.ko): one
 * `struct ksplice_update` (kmod/ksplice_update.h) listing every target with its pre code, sites
 * and System.map address(es), and `new_func` pointing at the renamed post code
 * (`ksplice_new_<name>`), which comes from a separate prebuilt object of the same module.
 *
 * Usage:
 *   const c = descriptorSource({ id, release, targets, printkMapAddr, stopMachineMapAddr, livepatch: true });
 */
import type { RunPreTarget, Site } from './run-pre-sites.ts';
import { hookDispatchers, type HookRegistration } from './hooks.ts';

export interface DescriptorInput {
  id: string;
  release: string;
  /** Redirected targets and companions; `newFunction` names the replacement of a non-companion. */
  targets: (RunPreTarget & { newFunction?: string })[];
  printkMapAddr: bigint;
  stopMachineMapAddr: bigint;
  /** System.map address of the kernel's `modules` list head; needed when a target has a module. */
  modulesMapAddr?: bigint;
  /** System.map addresses of text_poke and text_mutex, when new code refers to a target module's own symbols. */
  textPoke?: { poke: bigint; mutex: bigint };
  /** The module carries .klp.rela sections: modinfo livepatch=Y makes the loader apply them. */
  livepatch: boolean;
  /** The author's hooks (hooks.ts), run by dispatchers this descriptor defines. */
  hooks?: HookRegistration[];
  /** Non-exported kernel symbols the loader resolves for the module (klp relocations), each checked at apply. */
  loadedSymbols?: LoadedSymbol[];
}

/** A kernel symbol the module loader resolves through a livepatch relocation, and the copy meant. */
export interface LoadedSymbol {
  name: string;
  /** System.map address of the copy the klp position selects. */
  mapAddr: bigint;
  isPercpu: boolean;
}

/** The new code's name in the update module (a kernel name must not be defined twice). */
export function newFunctionName(name: string): string {
  return `ksplice_new_${cIdent(name)}`;
}

/** C identifier for a kallsyms name (`foo.constprop.0` → `foo_constprop_0`). */
export function cIdent(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

function hexBytes(buf: Buffer): string {
  const parts: string[] = [];
  for (let i = 0; i < buf.length; i++) parts.push(`0x${buf[i]!.toString(16).padStart(2, '0')}${(i + 1) % 12 === 0 ? ',\n\t' : ', '}`);
  return parts.join('').trimEnd();
}

/** A C string literal for arbitrary bytes (octal escapes for anything not plain ASCII, and `?` against trigraphs). */
function cBytesString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c && c !== 0x3f ? s[i] : `\\${c.toString(8).padStart(3, '0')}`;
  }
  return out + '"';
}

function hexAddr(a: bigint): string {
  return `0x${a.toString(16)}UL`;
}

function siteFields(s: Site, f: string, i: number): string {
  const fields = [`.offset = 0x${s.offset.toString(16)}`, `.length = ${s.length}`, `.kind = KSPLICE_SITE_${s.kind}`];
  if (s.relocType !== undefined) fields.push(`.reloc_type = ${s.relocType}`);
  if (s.symbol !== undefined) fields.push(`.symbol = ${cBytesString(s.symbol)}`);
  if (s.symbolMapAddr) fields.push(`.symbol_map_addr = ${hexAddr(s.symbolMapAddr)}`);
  if (s.symbolIsPercpu) fields.push('.symbol_is_percpu = 1');
  if (s.symbolInModule) fields.push('.symbol_in_module = 1');
  if (s.targetString !== undefined) fields.push(`.target_string = ${cBytesString(s.targetString)}`);
  if (s.addend) fields.push(`.addend = ${s.addend}L`);
  if (s.targetOffset !== undefined) fields.push(`.target_offset = 0x${s.targetOffset.toString(16)}`);
  if (s.reg !== undefined) fields.push(`.reg = ${s.reg}`);
  if (s.isJump) fields.push('.is_jump = 1');
  if (s.replacements?.length) fields.push(`.replacements = ksplice_reps_${f}_${i}`, `.nr_replacements = ${s.replacements.length}`);
  return `\t{ ${fields.join(', ')} },`;
}

function targetTables(t: DescriptorInput['targets'][number]): string[] {
  const f = cIdent(t.name);
  const out = [`static const unsigned char ksplice_pre_${f}[${t.pre.length}] = {\n\t${hexBytes(t.pre)}\n};`];
  t.sites.forEach((s, i) => {
    if (!s.replacements?.length) return;
    s.replacements.forEach((r, k) =>
      out.push(`static const unsigned char ksplice_rep_${f}_${i}_${k}[] = { ${r.length ? hexBytes(r) : '0'} };`),
    );
    out.push(`static const struct ksplice_alt_replacement ksplice_reps_${f}_${i}[] = {`);
    s.replacements.forEach((r, k) => out.push(`\t{ ksplice_rep_${f}_${i}_${k}, ${r.length} },`));
    out.push('};');
  });
  out.push(`static const struct ksplice_site ksplice_sites_${f}[] = {`, ...t.sites.map((s, i) => siteFields(s, f, i)), '};');
  if (!t.mapAddr && !t.module)
    out.push(`static const unsigned long ksplice_candidates_${f}[] = { ${t.candidates.map(hexAddr).join(', ')} };`);
  return [...out, ''];
}

/**
 * The loader-resolved values: a table of `.quad <name>` whose relocations become klp relocations
 * like the new code's own references (an assembler table, since a C declaration of the kernel's
 * symbol would clash with the kernel headers' own), and the entries the core checks them with.
 *
 * Example: saved_command_line → `.quad "saved_command_line"`, then
 * `{ .name = "saved_command_line", .map_addr = 0xffffffff82a0e0c8UL, .loaded = &ksplice_loaded_values[0] }`.
 */
function loadedSymbolTables(symbols: readonly LoadedSymbol[]): string[] {
  if (symbols.length === 0) return [];
  const quads = symbols.map((s) => `\t"\t.quad \\"${s.name}\\"\\n"`);
  return [
    '/* Non-exported kernel symbols as the module loader resolved them (.klp.rela): checked at apply. */',
    'asm(".pushsection .rodata.ksplice_loaded_values, \\"a\\"\\n"',
    '\t"\t.balign 8\\n"',
    '\t"ksplice_loaded_values:\\n"',
    ...quads,
    '\t"\t.popsection\\n");',
    'extern const unsigned long ksplice_loaded_values[];',
    'static const struct ksplice_loaded_symbol ksplice_loaded_symbols[] = {',
    ...symbols.map(
      (s, i) =>
        `\t{ .name = ${cBytesString(s.name)}, .map_addr = ${hexAddr(s.mapAddr)},${s.isPercpu ? ' .is_percpu = 1,' : ''} .loaded = &ksplice_loaded_values[${i}] },`,
    ),
    '};',
    '',
  ];
}

function funcEntry(t: DescriptorInput['targets'][number]): string {
  const f = cIdent(t.name);
  const lines = [`\t{`, `\t\t.name = ${cBytesString(t.name)},`, `\t\t.map_addr = ${hexAddr(t.mapAddr)},`];
  if (t.module) lines.push(`\t\t.module = ${cBytesString(t.module)}, /* located in that module when it is loaded */`);
  if (t.sympos) lines.push(`\t\t.sympos = ${t.sympos},`);
  if (!t.mapAddr && !t.module)
    lines.push(`\t\t.map_candidates = ksplice_candidates_${f},`, `\t\t.nr_map_candidates = ARRAY_SIZE(ksplice_candidates_${f}),`);
  lines.push(
    t.companion || !t.newFunction
      ? '\t\t.new_func = NULL, /* companion: matched and stack-checked, not redirected */'
      : `\t\t.new_func = ${t.newFunction},`,
  );
  lines.push(
    `\t\t.pre_code = ksplice_pre_${f},`,
    `\t\t.pre_size = sizeof(ksplice_pre_${f}),`,
    `\t\t.sites = ksplice_sites_${f},`,
    `\t\t.nr_sites = ARRAY_SIZE(ksplice_sites_${f}),`,
    '\t},',
  );
  return lines.join('\n');
}

export function descriptorSource(input: DescriptorInput): string {
  const newFunctions = input.targets.filter((t) => !t.companion && t.newFunction).map((t) => t.newFunction!);
  return [
    '// SPDX-License-Identifier: GPL-2.0',
    `/* Ksplice update ${input.id}: generated by ksplice-create. Do not edit. */`,
    '#include "ksplice_update.h"',
    '',
    '/* The new code: post object functions, renamed, in the prebuilt part of this module. */',
    ...[...new Set(newFunctions)].map((n) => `extern void ${n}(void);`),
    '',
    ...input.targets.flatMap(targetTables),
    ...(input.hooks?.length ? hookDispatchers(input.hooks) : []),
    ...loadedSymbolTables(input.loadedSymbols ?? []),
    'static struct ksplice_func ksplice_funcs[] = {',
    ...input.targets.map(funcEntry),
    '};',
    '',
    `static struct ksplice_update ksplice_update_${input.id.replace(/-/g, '_')} = {`,
    '\t.abi_version = KSPLICE_ABI_VERSION,',
    `\t.id = "${input.id}",`,
    `\t.kernel_release = "${input.release}",`,
    `\t.printk_map_addr = ${hexAddr(input.printkMapAddr)},`,
    `\t.stop_machine_map_addr = ${hexAddr(input.stopMachineMapAddr)},`,
    ...(input.modulesMapAddr ? [`\t.modules_map_addr = ${hexAddr(input.modulesMapAddr)},`] : []),
    ...(input.textPoke
      ? [`\t.text_poke_map_addr = ${hexAddr(input.textPoke.poke)},`, `\t.text_mutex_map_addr = ${hexAddr(input.textPoke.mutex)},`]
      : []),
    '\t.funcs = ksplice_funcs,',
    '\t.nr_funcs = ARRAY_SIZE(ksplice_funcs),',
    ...(input.loadedSymbols?.length
      ? ['\t.loaded_symbols = ksplice_loaded_symbols,', '\t.nr_loaded_symbols = ARRAY_SIZE(ksplice_loaded_symbols),']
      : []),
    ...(input.hooks?.length ? ['\t.hooks = KSPLICE_HOOK_TABLE,'] : []),
    '};',
    '',
    `KSPLICE_UPDATE_MODULE(ksplice_update_${input.id.replace(/-/g, '_')});`,
    ...(input.livepatch ? ['MODULE_INFO(livepatch, "Y"); /* its .klp.rela sections are applied by the module loader */'] : []),
    `MODULE_DESCRIPTION("Ksplice update ${input.id}");`,
    '',
  ].join('\n');
}
