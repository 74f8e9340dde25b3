#!/usr/bin/env node

// src/elf/types.ts
var SHT_PROGBITS = 1;
var SHT_SYMTAB = 2;
var SHT_STRTAB = 3;
var SHT_RELA = 4;
var SHT_NOBITS = 8;
var SHT_REL = 9;
var SHT_GROUP = 17;
var SHT_SYMTAB_SHNDX = 18;
var SHF_WRITE = 0x1n;
var SHF_ALLOC = 0x2n;
var SHF_EXECINSTR = 0x4n;
var SHF_MERGE = 0x10n;
var SHF_STRINGS = 0x20n;
var SHF_INFO_LINK = 0x40n;
var SHF_LINK_ORDER = 0x80n;
var SHF_GROUP = 0x200n;
var SHN_UNDEF = 0;
var SHN_LORESERVE = 65280;
var SHN_ABS = 65521;
var SHN_XINDEX = 65535;
var STB_LOCAL = 0;
var STB_GLOBAL = 1;
var STB_WEAK = 2;
var STT_NOTYPE = 0;
var STT_OBJECT = 1;
var STT_FUNC = 2;
var STT_SECTION = 3;
var STT_FILE = 4;
var ET_REL = 1;
var NULL_SYMBOL = Object.freeze({
  index: 0,
  name: "",
  bind: 0,
  type: 0,
  other: 0,
  section: null,
  shndx: 0,
  value: 0,
  size: 0
});
var ElfFormatError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "ElfFormatError";
  }
};
function relaFor(obj, section) {
  return relaIndex(obj).get(section);
}
var relaIndexCache = /* @__PURE__ */ new WeakMap();
function relaIndex(obj) {
  let index = relaIndexCache.get(obj);
  if (!index) {
    index = /* @__PURE__ */ new Map();
    for (const s of obj.sections) if (s.rela) index.set(s.rela.target, s.rela);
    relaIndexCache.set(obj, index);
  }
  return index;
}
function isFunction(sym) {
  return sym.type === STT_FUNC && sym.section !== null;
}
function isDataObject(sym) {
  return sym.type === STT_OBJECT && sym.section !== null;
}
function isSectionSymbol(sym) {
  return sym.type === STT_SECTION;
}
function isMergeStrings(section) {
  return (section.flags & SHF_MERGE) !== 0n && (section.flags & SHF_STRINGS) !== 0n;
}
function isMergeConstants(section) {
  return (section.flags & SHF_MERGE) !== 0n && (section.flags & SHF_STRINGS) === 0n && section.entsize > 0n;
}
function isExecutable(section) {
  return (section.flags & SHF_EXECINSTR) !== 0n;
}
function newSection(init) {
  const data = init.data ?? Buffer.alloc(0);
  return {
    index: 0,
    flags: 0n,
    addr: 0n,
    addralign: 1n,
    entsize: 0n,
    link: 0,
    info: 0,
    ...init,
    data,
    size: init.size ?? data.length
  };
}

// src/x86/relocations.ts
var R_X86_64_NONE = 0;
var R_X86_64_64 = 1;
var R_X86_64_PC32 = 2;
var R_X86_64_GOT32 = 3;
var R_X86_64_PLT32 = 4;
var R_X86_64_GOTPCREL = 9;
var R_X86_64_32 = 10;
var R_X86_64_32S = 11;
var R_X86_64_16 = 12;
var R_X86_64_PC16 = 13;
var R_X86_64_8 = 14;
var R_X86_64_PC8 = 15;
var R_X86_64_PC64 = 24;
var R_X86_64_GOTPCRELX = 41;
var R_X86_64_REX_GOTPCRELX = 42;
var relocWidths = {
  [R_X86_64_NONE]: 0,
  [R_X86_64_64]: 8,
  [R_X86_64_PC32]: 4,
  [R_X86_64_GOT32]: 4,
  [R_X86_64_PLT32]: 4,
  [R_X86_64_GOTPCREL]: 4,
  [R_X86_64_32]: 4,
  [R_X86_64_32S]: 4,
  [R_X86_64_16]: 2,
  [R_X86_64_PC16]: 2,
  [R_X86_64_8]: 1,
  [R_X86_64_PC8]: 1,
  [R_X86_64_PC64]: 8,
  [R_X86_64_GOTPCRELX]: 4,
  [R_X86_64_REX_GOTPCRELX]: 4
};
var relocNames = {
  [R_X86_64_NONE]: "R_X86_64_NONE",
  [R_X86_64_64]: "R_X86_64_64",
  [R_X86_64_PC32]: "R_X86_64_PC32",
  [R_X86_64_PLT32]: "R_X86_64_PLT32",
  [R_X86_64_32]: "R_X86_64_32",
  [R_X86_64_32S]: "R_X86_64_32S",
  [R_X86_64_PC64]: "R_X86_64_PC64"
};
function relocationWidth(type) {
  const width = relocWidths[type];
  if (width === void 0) throw new Error(`unsupported x86-64 relocation type ${type}`);
  return width;
}
function relocationName(type) {
  return relocNames[type] ?? `R_X86_64_${type}`;
}
function isPcRelative(type) {
  return type === R_X86_64_PC32 || type === R_X86_64_PLT32 || type === R_X86_64_PC64 || type === R_X86_64_PC16 || type === R_X86_64_PC8;
}
function relocationTarget(type, addend, inCode) {
  const bias = inCode && isPcRelative(type) ? relocationWidth(type) : 0;
  return Number(addend) + bias;
}

// src/x86/special-sections.ts
var specialSections = [
  // u64 address of the `call __fentry__`.
  { name: "__mcount_loc", entrySize: 8, siteOffset: 0 },
  // struct alt_instr { s32 instr_offset; s32 repl_offset; u16 cpuid; u8 instrlen; u8 replacementlen; }
  { name: ".altinstructions", entrySize: 12, siteOffset: 0, payload: { field: 4, lengthOffset: 11 } },
  // struct paravirt_patch_site { u8 *instr; u8 type; u8 len; } aligned to 8 → 16 bytes.
  { name: ".parainstructions", entrySize: 16, siteOffset: 0 },
  // objtool's s32 site lists.
  { name: ".retpoline_sites", entrySize: 4, siteOffset: 0 },
  { name: ".return_sites", entrySize: 4, siteOffset: 0 },
  { name: ".smp_locks", entrySize: 4, siteOffset: 0 },
  // struct static_call_site { s32 addr; s32 key; }
  { name: ".static_call_sites", entrySize: 8, siteOffset: 0 },
  // struct jump_entry { s32 code; s32 target; long key; }
  { name: "__jump_table", entrySize: 16, siteOffset: 0 },
  // struct bug_entry { s32 bug_addr_disp; s32 file_disp; u16 line; u16 flags; }
  { name: "__bug_table", entrySize: 12, siteOffset: 0, ignoredRanges: [{ offset: 8, size: 2, why: "line number" }] },
  // struct exception_table_entry { int insn, fixup, data; }
  { name: "__ex_table", entrySize: 12, siteOffset: 0 },
  // s32 instruction address; the ORC entry for it is at the same index in .orc_unwind.
  { name: ".orc_unwind_ip", entrySize: 4, siteOffset: 0 },
  // struct orc_entry { s16 sp_offset; s16 bp_offset; u16 flags; }
  { name: ".orc_unwind", entrySize: 6, siteOffset: -1, parallelTo: ".orc_unwind_ip" }
];
var layoutByName = new Map(specialSections.map((l) => [l.name, l]));
function specialSectionLayout(name) {
  return layoutByName.get(name);
}
var lineOnlyFields = {
  __dyndbg: { offset: 32, size: 3 }
};
function lineNumberField(sectionName) {
  return lineOnlyFields[sectionName];
}

// src/diff/object-index.ts
var ObjectIndex = class {
  constructor(obj) {
    this.obj = obj;
    for (const s of obj.sections) {
      if (!this.sectionByName.has(s.name)) this.sectionByName.set(s.name, s);
      if (s.rela)
        this.relocations.set(
          s.rela.target,
          [...s.rela.entries].sort((a, b) => a.offset - b.offset)
        );
    }
    for (const sym of obj.symbols) {
      if (isFunction(sym)) this.functions.push(sym);
      else if (isDataObject(sym)) this.dataObjects.push(sym);
      else continue;
      let list = this.definitions.get(sym.section);
      if (!list) this.definitions.set(sym.section, list = []);
      list.push(sym);
    }
    for (const sym of obj.symbols) if (sym.name && !isSectionSymbol(sym) && !this.byName.has(sym.name)) this.byName.set(sym.name, sym);
    let file = "";
    for (const sym of obj.symbols) {
      if (sym.type === STT_FILE) file = sym.name;
      else if (sym.bind === STB_LOCAL) this.fileOf.set(sym, file);
    }
    for (const list of this.definitions.values()) list.sort((a, b) => a.value - b.value);
  }
  obj;
  /** FUNC and OBJECT symbols of each section, sorted by address. */
  definitions = /* @__PURE__ */ new Map();
  relocations = /* @__PURE__ */ new Map();
  functions = [];
  dataObjects = [];
  byName = /* @__PURE__ */ new Map();
  sectionByName = /* @__PURE__ */ new Map();
  /**
   * The source file of each local symbol (the STT_FILE symbol before it): in an object `ld -r`
   * made of several, two files may each have a static `report.constprop.0`.
   */
  fileOf = /* @__PURE__ */ new Map();
  /** Relocations applying to [start, start + size) of a section, sorted by offset. */
  relocationsIn(section, start = 0, size = section.size) {
    const all = this.relocations.get(section) ?? [];
    if (start === 0 && size >= section.size) return all;
    return all.filter((r) => r.offset >= start && r.offset < start + size);
  }
  /** The relocation applied exactly at `offset` of a section. */
  relocationAt(section, offset) {
    const all = this.relocations.get(section) ?? [];
    let lo = 0;
    let hi = all.length - 1;
    while (lo <= hi) {
      const mid = lo + hi >> 1;
      const o = all[mid].offset;
      if (o === offset) return all[mid];
      if (o < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return void 0;
  }
  /** The function or data object whose bytes contain `offset` of a section. */
  definitionAt(section, offset) {
    const list = this.definitions.get(section);
    if (!list) return void 0;
    let found;
    for (const sym of list) {
      if (sym.value > offset) break;
      if (offset < sym.value + Math.max(sym.size, 1)) found = sym;
    }
    return found;
  }
  /** The definition of a section closest to `offset` (within 16 bytes, an instruction's tail). */
  nearestDefinition(section, offset) {
    let best;
    let bestDistance = 17;
    for (const sym of this.definitions.get(section) ?? []) {
      const distance = offset < sym.value ? sym.value - offset : Math.max(0, offset - (sym.value + Math.max(sym.size, 1) - 1));
      if (distance < bestDistance) [best, bestDistance] = [sym, distance];
    }
    return best;
  }
  definitionsIn(section) {
    return this.definitions.get(section) ?? [];
  }
  /** The function containing `offset` of a section (data objects excluded). */
  functionAt(section, offset) {
    const sym = this.definitionAt(section, offset);
    return sym && isFunction(sym) ? sym : void 0;
  }
  /**
   * What a relocation in `from` refers to.
   *
   * Example: in `.text.devkmsg_release.cold`, `jmp` PC32 `.text.devkmsg_release`+0x1f points
   * 0x23 bytes into the section, inside `devkmsg_release` (value 0): referent devkmsg_release,
   * offset 0x1f (the addend relative to the function). Example: PC32 `.LC10`+0 in __bug_table
   * and PC32 `.rodata.str1.1`+0xb7 both become the string they point into, by content.
   */
  referent(rela, from) {
    const sym = rela.symbol;
    if (!sym.section) return { kind: "external", symbol: sym, offset: rela.addend };
    const section = sym.section;
    const inCode = isExecutable(from);
    const target = sym.value + relocationTarget(rela.type, rela.addend, inCode);
    if (isMergeStrings(section) && !isFunction(sym) && !isDataObject(sym)) {
      const start = stringStartAt(section, target);
      return { kind: "string", section, start, text: stringAt(section, start), offset: BigInt(sym.value) + rela.addend - BigInt(start) };
    }
    if (isFunction(sym) || isDataObject(sym)) return { kind: "symbol", symbol: sym, offset: rela.addend };
    const raw = sym.value + Number(rela.addend);
    const owner = this.definitionAt(section, target) ?? this.definitionAt(section, raw) ?? this.nearestDefinition(section, target);
    if (owner) return { kind: "symbol", symbol: owner, offset: BigInt(sym.value) + rela.addend - BigInt(owner.value) };
    return { kind: "section", section, offset: BigInt(sym.value) + rela.addend };
  }
};
function stringStartAt(section, offset) {
  const data = section.data;
  let start = Math.min(Math.max(offset, 0), data.length);
  while (start > 0 && data[start - 1] !== 0) start--;
  return start;
}
function stringAt(section, start) {
  const data = section.data;
  const end = data.indexOf(0, start);
  return data.toString("latin1", start, end < 0 ? data.length : end);
}
function symbolBytes(sym) {
  const section = sym.section;
  if (section.type === SHT_NOBITS) return Buffer.alloc(sym.size);
  return section.data.subarray(sym.value, sym.value + sym.size);
}

// src/diff/compare.ts
var Comparer = class {
  constructor(correlation, preEntries, postEntries) {
    this.correlation = correlation;
    this.preEntries = preEntries;
    this.postEntries = postEntries;
  }
  correlation;
  preEntries;
  postEntries;
  index(side) {
    return side === "pre" ? this.correlation.pre : this.correlation.post;
  }
  /** A string equal for referents that are the same thing in pre and post. */
  referentKey(ref, side) {
    switch (ref.kind) {
      case "symbol":
        return `${this.correlation.identity(ref.symbol, side)}${signed(ref.offset)}`;
      case "string":
        return `string ${JSON.stringify(ref.text)}${signed(ref.offset)}`;
      case "section":
        return `section ${ref.section.name}${signed(ref.offset)}`;
      case "external":
        return `${ref.symbol.name || "*ABS*"}${signed(ref.offset)}`;
    }
  }
  relocationKey(rela, from, base, side) {
    return `+0x${(rela.offset - base).toString(16)} ${relocationName(rela.type)} ${this.referentKey(this.index(side).referent(rela, from), side)}`;
  }
  /**
   * Compare [start, start+size) of a pre and a post section: relocations first (they say which
   * bytes to mask), then the bytes outside them, then bytes outside `ignored` ranges.
   */
  compareRange(pre, post, ignored = [], referentIgnoredAt = null) {
    if (pre.bytes.length !== post.bytes.length) return `size 0x${pre.bytes.length.toString(16)} \u2192 0x${post.bytes.length.toString(16)}`;
    const preRelocs = this.index("pre").relocationsIn(pre.section, pre.start, pre.bytes.length);
    const postRelocs = this.index("post").relocationsIn(post.section, post.start, post.bytes.length);
    const mask = new Uint8Array(pre.bytes.length);
    for (const r of preRelocs) mask.fill(1, r.offset - pre.start, r.offset - pre.start + relocationWidth(r.type));
    for (const r of postRelocs) mask.fill(1, r.offset - post.start, r.offset - post.start + relocationWidth(r.type));
    for (const range of ignored) mask.fill(1, range.offset, range.offset + range.size);
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 0 && pre.bytes[i] !== post.bytes[i]) return `bytes differ at +0x${i.toString(16)}`;
    }
    const n = Math.max(preRelocs.length, postRelocs.length);
    for (let k = 0; k < n; k++) {
      const ra = preRelocs[k];
      const rb = postRelocs[k];
      const at = ra ? ra.offset - pre.start : -1;
      if (ra && rb && at === referentIgnoredAt && rb.offset - post.start === at && ra.type === rb.type) continue;
      const a = ra ? this.relocationKey(ra, pre.section, pre.start, "pre") : "(none)";
      const b = rb ? this.relocationKey(rb, post.section, post.start, "post") : "(none)";
      if (a !== b) return `relocation ${a} \u2192 ${b}`;
    }
    return null;
  }
  compareFunction(pre, post) {
    const notes = [];
    const code = this.compareRange(
      { section: pre.section, start: pre.value, bytes: symbolBytes(pre) },
      { section: post.section, start: post.value, bytes: symbolBytes(post) }
    );
    if (code) return { difference: code, notes };
    const entries = this.compareEntries(pre, post, notes);
    return { difference: entries, notes };
  }
  /**
   * The special-section entries of two functions, section by section, in site order.
   *
   * Example: a WARN_ON in `f` whose source line moved from 120 to 123 because a line was added
   * above `f`: the code and the `__bug_table` entry are equal but for the line field: a note,
   * not a change (the line is only printed in the warning).
   */
  compareEntries(pre, post, notes) {
    const group = (list) => {
      const m = /* @__PURE__ */ new Map();
      for (const e of list ?? []) m.set(e.section.name, [...m.get(e.section.name) ?? [], e]);
      for (const l of m.values()) l.sort((a, b) => a.siteInFunction - b.siteInFunction);
      return m;
    };
    const preBy = group(this.preEntries.get(pre));
    const postBy = group(this.postEntries.get(post));
    for (const name of /* @__PURE__ */ new Set([...preBy.keys(), ...postBy.keys()])) {
      const a = preBy.get(name) ?? [];
      const b = postBy.get(name) ?? [];
      if (a.length !== b.length) return `${name}: ${a.length} \u2192 ${b.length} entries`;
      for (let k = 0; k < a.length; k++) {
        const e = a[k];
        const f = b[k];
        if (e.siteInFunction !== f.siteInFunction)
          return `${name}: entry at +0x${e.siteInFunction.toString(16)} \u2192 +0x${f.siteInFunction.toString(16)}`;
        const size = e.layout.entrySize;
        const ignored = e.layout.ignoredRanges ?? [];
        const entryBytes = (x) => {
          const bytes = x.section.data.subarray(x.start, x.start + size);
          return bytes.length === size ? bytes : Buffer.concat([bytes, Buffer.alloc(size - bytes.length)]);
        };
        const whole = this.compareRange(
          { section: e.section, start: e.start, bytes: entryBytes(e) },
          { section: f.section, start: f.start, bytes: entryBytes(f) },
          ignored,
          e.layout.payload?.field ?? null
        );
        if (whole) return `${name} entry at +0x${e.siteInFunction.toString(16)}: ${whole}`;
        for (const range of ignored) {
          if (!entryBytes(e).subarray(range.offset, range.offset + range.size).equals(entryBytes(f).subarray(range.offset, range.offset + range.size))) {
            notes.push(`${name} entry at ${post.name}+0x${f.siteInFunction.toString(16)}: ${range.why} differs (not shipped)`);
          }
        }
        const payload = this.comparePayload(e, f);
        if (payload) return `${name} entry at +0x${e.siteInFunction.toString(16)}: replacement code: ${payload}`;
      }
    }
    return null;
  }
  /** Replacement code an entry points to (an alternative), compared like code. */
  comparePayload(e, f) {
    const p = e.layout.payload;
    if (!p) return null;
    const locate = (x, side) => {
      const rela = this.index(side).relocationAt(x.section, x.start + p.field);
      if (!rela?.symbol.section) return null;
      const section = rela.symbol.section;
      const start = rela.symbol.value + Number(rela.addend);
      const length = x.section.data[x.start + p.lengthOffset];
      return { section, start, bytes: section.data.subarray(start, start + length) };
    };
    const a = locate(e, "pre");
    const b = locate(f, "post");
    if (!a || !b) return a === b ? null : "payload missing";
    return this.compareRange(a, b);
  }
  /**
   * When two functions differ only in the offsets at which they reach data objects, those
   * accesses; otherwise an empty list.
   *
   * Example: `return cfg.mode;` with a field added before `mode` in `struct config`: the code is
   * the same but `mov cfg+0x4(%rip)` became `mov cfg+0x8(%rip)`. The new code would read the
   * running kernel's `cfg`, still laid out the old way.
   */
  shiftedDataAccesses(pre, post) {
    if (pre.size !== post.size) return [];
    const a = { section: pre.section, start: pre.value, bytes: symbolBytes(pre) };
    const b = { section: post.section, start: post.value, bytes: symbolBytes(post) };
    const preRelocs = this.index("pre").relocationsIn(a.section, a.start, pre.size);
    const postRelocs = this.index("post").relocationsIn(b.section, b.start, post.size);
    if (preRelocs.length !== postRelocs.length) return [];
    const mask = new Uint8Array(pre.size);
    for (const r of preRelocs) mask.fill(1, r.offset - a.start, r.offset - a.start + relocationWidth(r.type));
    for (const r of postRelocs) mask.fill(1, r.offset - b.start, r.offset - b.start + relocationWidth(r.type));
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0 && a.bytes[i] !== b.bytes[i]) return [];
    const shifted = [];
    for (let k = 0; k < preRelocs.length; k++) {
      const ra = preRelocs[k];
      const rb = postRelocs[k];
      if (ra.offset - a.start !== rb.offset - b.start || ra.type !== rb.type) return [];
      const x = this.index("pre").referent(ra, a.section);
      const y = this.index("post").referent(rb, b.section);
      if (this.referentKey(x, "pre") === this.referentKey(y, "post")) continue;
      const sameData = (x.kind === "symbol" || x.kind === "external") && x.kind === y.kind && !isFunction(x.symbol) && !isFunction(y.symbol) && this.referentKey({ ...x, offset: 0n }, "pre") === this.referentKey({ ...y, offset: 0n }, "post");
      if (!sameData) return [];
      const field = (type, offset) => BigInt(relocationTarget(type, offset, true));
      shifted.push({ symbol: this.correlation.identity(x.symbol, "pre"), from: field(ra.type, x.offset), to: field(rb.type, y.offset) });
    }
    return shifted;
  }
  /**
   * Two data objects. Returns the difference, and whether it lies only in a line-number field
   * (a dynamic-debug descriptor of a call site that moved).
   */
  compareData(pre, post) {
    if (pre.size !== post.size) return { difference: `size ${pre.size} \u2192 ${post.size} bytes`, lineOnly: false };
    if (pre.section.type === SHT_NOBITS && post.section.type === SHT_NOBITS) return { difference: null, lineOnly: false };
    const a = { section: pre.section, start: pre.value, bytes: symbolBytes(pre) };
    const b = { section: post.section, start: post.value, bytes: symbolBytes(post) };
    const line = lineNumberField(post.section.name);
    const difference = this.compareRange(a, b);
    if (!difference || !line) return { difference, lineOnly: false };
    return this.compareRange(a, b, [line]) ? { difference, lineOnly: false } : { difference, lineOnly: true };
  }
};
function signed(n) {
  return n === 0n ? "" : n < 0n ? `-0x${(-n).toString(16)}` : `+0x${n.toString(16)}`;
}

// src/diff/names.ts
var CLONE_SUFFIX = /\.(cold|part\.\d+|isra\.\d+|constprop\.\d+|lto_priv\.\d+|localalias)(?=\.|$)/;
function isColdPart(name) {
  return name.endsWith(".cold") || /\.cold\.\d+$/.test(name);
}
function cloneParent(name) {
  const i = name.search(CLONE_SUFFIX);
  return i < 0 ? name : name.slice(0, i);
}
function coldOwner(name) {
  return name.replace(/\.cold(\.\d+)?$/, "");
}
function unnumberedName(name) {
  return name.replace(/^(__UNIQUE_ID_[A-Za-z_]*?)\d+/, "$1").replace(/\.\d+/g, "").replace(/\.$/, "");
}
function hasCounter(name) {
  return unnumberedName(name) !== name;
}

// src/diff/correlate.ts
var Correlation = class {
  constructor(pre, post) {
    this.pre = pre;
    this.post = post;
    const preDefs = definitions(pre);
    const postDefs = definitions(post);
    const preFile = (s) => pre.fileOf.get(s) ?? "";
    const postFile = (s) => post.fileOf.get(s) ?? "";
    this.pairBy(
      preDefs,
      postDefs,
      (s) => hasCounter(s.name) ? void 0 : `${preFile(s)}:${s.type}:${s.name}`,
      (s) => hasCounter(s.name) ? void 0 : `${postFile(s)}:${s.type}:${s.name}`
    );
    this.pairBy(
      preDefs,
      postDefs,
      (s) => `${preFile(s)}:${s.type}:${unnumberedName(s.name)}`,
      (s) => `${postFile(s)}:${s.type}:${unnumberedName(s.name)}`
    );
    const preUse = firstUses(pre);
    const postUse = firstUses(post);
    this.pairBy(
      preDefs,
      postDefs,
      (s) => useKey(s, preUse),
      (s) => useKey(s, postUse)
    );
    this.pairBy(
      preDefs,
      postDefs,
      (s) => contentKey(s, pre),
      (s) => contentKey(s, post)
    );
  }
  pre;
  post;
  preToPost = /* @__PURE__ */ new Map();
  postToPre = /* @__PURE__ */ new Map();
  /** The name a symbol is compared by: its pre name, for post symbols that have a pre partner. */
  identity(sym, side) {
    if (side === "pre") return sym.name;
    const partner = this.postToPre.get(sym);
    return partner ? partner.name : `(new) ${sym.name}`;
  }
  pairBy(pre, post, preKey, postKey = preKey) {
    const preGroups = groupBy(pre, preKey);
    const postGroups = groupBy(post, postKey);
    for (const [key, preList] of preGroups) {
      const postList = postGroups.get(key);
      if (preList.length !== 1 || postList?.length !== 1) continue;
      this.pair(preList[0], postList[0]);
      pre.delete(preList[0]);
      post.delete(postList[0]);
    }
  }
  pair(pre, post) {
    this.preToPost.set(pre, post);
    this.postToPre.set(post, pre);
  }
};
function definitions(index) {
  return /* @__PURE__ */ new Set([...index.functions, ...index.dataObjects]);
}
function groupBy(symbols, key) {
  const groups = /* @__PURE__ */ new Map();
  for (const s of symbols) {
    const k = key(s);
    if (k === void 0) continue;
    const list = groups.get(k);
    if (list) list.push(s);
    else groups.set(k, [s]);
  }
  return groups;
}
function firstUses(index) {
  const uses = /* @__PURE__ */ new Map();
  for (const fn of index.functions) {
    const seen = /* @__PURE__ */ new Map();
    for (const rela of index.relocationsIn(fn.section, fn.value, fn.size)) {
      const ref = index.referent(rela, fn.section);
      if (ref.kind !== "symbol" || uses.has(ref.symbol)) continue;
      if (!isDataObject(ref.symbol) && !isFunction(ref.symbol)) continue;
      const base = unnumberedName(ref.symbol.name);
      const ordinal = seen.get(base) ?? 0;
      seen.set(base, ordinal + 1);
      uses.set(ref.symbol, { user: unnumberedName(cloneParent(fn.name)), ordinal });
    }
  }
  return uses;
}
function useKey(sym, uses) {
  const use = uses.get(sym);
  return use && `${sym.type}:${unnumberedName(sym.name)}@${use.user}#${use.ordinal}`;
}
function contentKey(sym, index) {
  if (!isDataObject(sym) || sym.size === 0 || sym.size > 4096) return void 0;
  if (index.relocationsIn(sym.section, sym.value, sym.size).length > 0) return void 0;
  return `${sym.type}:${unnumberedName(sym.name)}:${symbolBytes(sym).toString("hex")}`;
}

// src/diff/findings.ts
var FINDING_RULES = {
  "init-code": {
    message: "`__init` code changed or added: it ran once at boot and was freed; an update cannot re-run it",
    acceptable: true
  },
  "exit-code": { message: "`__exit` code changed or added: discarded when built in, run only at module unload", acceptable: true },
  "init-data": { message: "`__initdata`/`__initconst` changed: read only while the kernel boots, then freed", acceptable: true },
  "data-change": { message: "initialized data changed: the update replaces code, not the running kernel's data", acceptable: true },
  "data-layout": {
    message: "a type's layout changed (struct members, a data object's size, field offsets seen in code): the running kernel's objects keep the old one",
    acceptable: true
  },
  "new-data": {
    message: "new writable data used by existing code: the update brings a fresh copy, not the state built up since boot",
    acceptable: true
  },
  "static-key": {
    message: "a function tests other static keys: their state was set by the running kernel for the old users",
    acceptable: true
  },
  "static-key-definition": {
    message: "a static key's definition changed: the running key keeps its state and its sites their code",
    acceptable: true
  },
  "export-change": { message: "an export added, removed or changed: the running kernel's export table cannot change", acceptable: true },
  "header-inline": {
    message: "an inline function of a header changed: every caller must be replaced, and modules keep the old copy",
    acceptable: true
  },
  "lib-archive": {
    message: "a `lib-y` archive member changed: linked only if referenced, the running kernel may lack or duplicate its code",
    acceptable: true
  },
  notrace: { message: "a `notrace` function changed: it has no fentry call for ftrace to redirect", acceptable: false },
  noinstr: { message: "a `noinstr` function changed (`.noinstr.text`): it has no fentry call for ftrace to redirect", acceptable: false },
  "entry-code": {
    message: "low-level entry code changed (`.entry.text`): it has no fentry call for ftrace to redirect",
    acceptable: false
  },
  "no-fentry": { message: "a function of an object built without ftrace changed: it has no fentry call to redirect", acceptable: false },
  assembly: {
    message: "assembly changed: no fentry call to redirect, and entry/low-level code cannot be switched under a running CPU",
    acceptable: false
  },
  "module-code": {
    message: "a jump label or static call of a loadable module's new code refers to that module's own symbols: the kernel reads it when the update loads, before the module's instance is known",
    acceptable: false
  }
};
var RULE_CODES = Object.keys(FINDING_RULES);
function isRuleCode(code) {
  return typeof code === "string" && Object.hasOwn(FINDING_RULES, code);
}
function finding(rule, symbol, reason) {
  return { rule, symbol, reason, acceptable: FINDING_RULES[rule].acceptable };
}
function describeFinding(f) {
  return `${f.symbol}: ${f.reason} [${f.rule}]`;
}

// src/diff/safety-rules.ts
function whyCannotBeRedirected(pre, preEntries, objectHasFentryCalls2 = true) {
  if (isColdPart(pre.name)) return null;
  if (hasFentryCall(pre, preEntries)) return null;
  const section = pre.section.name;
  const [rule, kind] = /^__do_(compat_)?sys_/.test(pre.name) ? [
    "notrace",
    "it is the body of a SYSCALL_DEFINE (a static inline, hence notrace, emitted out of line); its wrappers __x64_sys_*/__ia32_sys_* are traced"
  ] : /^(perf_trace_|trace_event_raw_event_|trace_raw_output_|__bpf_trace_)/.test(pre.name) ? ["notrace", "it is tracepoint glue generated by TRACE_EVENT (notrace)"] : section.startsWith(".noinstr.text") ? ["noinstr", "it is noinstr (in .noinstr.text: entry/idle code that must not be instrumented)"] : section.startsWith(".entry.text") ? ["entry-code", "it is low-level entry code (.entry.text)"] : objectHasFentryCalls2 ? [
    "notrace",
    "it is notrace (other functions of its object have fentry calls, this one was compiled without: declared notrace, or inline, which the kernel defines as notrace)"
  ] : [
    "no-fentry",
    "its object is built without ftrace (no function of it has a fentry call: CFLAGS_REMOVE ... $(CC_FLAGS_FTRACE) or ccflags-remove in its Makefile)"
  ];
  return {
    rule,
    reason: `cannot be redirected: ${kind}, so it has no fentry call for ftrace to turn into a jump to the new code; fix its callers instead, or move the change into a traced function`
  };
}
function hasFentryCall(fn, entries) {
  return (entries.get(fn) ?? []).some((e) => e.section.name === "__mcount_loc");
}
function objectHasFentryCalls(entries) {
  return [...entries.keys()].some((fn) => hasFentryCall(fn, entries));
}
function staticKeysTestedBy(fn, entries, index) {
  const keys = /* @__PURE__ */ new Set();
  for (const e of entries.get(fn) ?? []) {
    if (e.section.name !== "__jump_table") continue;
    const rela = index.relocationAt(e.section, e.start + 8);
    if (!rela) continue;
    const ref = index.referent(rela, e.section);
    if (ref.kind === "symbol" || ref.kind === "external") keys.add(ref.symbol.name);
  }
  return keys;
}
function whyStaticKeyUsersChanged(name, preKeys, postKeys) {
  const added = [...postKeys].filter((k) => !preKeys.has(k)).sort();
  const removed = [...preKeys].filter((k) => !postKeys.has(k)).sort();
  if (added.length === 0 && removed.length === 0) return null;
  const what = [
    added.length ? `now tests static key ${added.join(", ")}` : "",
    removed.length ? `no longer tests static key ${removed.join(", ")}` : ""
  ].filter(Boolean).join(" and ");
  return `${name} ${what} (jump label): the key's state and user count were set by the running kernel for its old users (often by boot-time code that will not run again); the update's sites only take the key's current state at load \u2014 check it means the same to the new code`;
}
function isStateSection(section) {
  return (section.flags & SHF_WRITE) !== 0n && /^\.(data|bss)(\.|$)/.test(section.name) && !/^\.data\.once\b/.test(section.name);
}
function isFreshByNature(sym) {
  return /^(_rs|__print_once|__already_done|__warned)(\.\d+)?$/.test(sym.name);
}
function whyNewStaticDataNeedsInit(sym, isStaticKey) {
  if (!sym.section || !isStateSection(sym.section) || isFreshByNature(sym)) return null;
  const scope = sym.bind === STB_LOCAL ? "static" : "global";
  const what = isStaticKey ? `new ${scope} static key` : `new ${sym.section.name.startsWith(".bss") ? "zero-initialized" : "initialized"} ${scope} variable`;
  return `${what} in ${sym.section.name}, used by the new code: the update module brings a fresh copy made at load time, not the state the running kernel would have built up since boot (counters, lists, locks shared with unchanged code, boot-time setup); initialize it in a ksplice_apply hook if it must reflect that state, then accept it`;
}
function isInitOnlyData(section) {
  return /^\.(init|exit)\.(data|rodata)/.test(section.name);
}
function staticKeysDefinedIn(entries, index) {
  const keys = /* @__PURE__ */ new Set();
  for (const list of entries.values()) {
    for (const e of list) {
      if (e.section.name !== "__jump_table") continue;
      const rela = index.relocationAt(e.section, e.start + 8);
      const ref = rela && index.referent(rela, e.section);
      if (ref && ref.kind === "symbol") keys.add(ref.symbol);
    }
  }
  return keys;
}
function dataReferencedBy(functions, index) {
  const found = /* @__PURE__ */ new Set();
  for (const fn of functions) {
    for (const rela of index.relocationsIn(fn.section, fn.value, Math.max(fn.size, 1))) {
      const ref = index.referent(rela, fn.section);
      if (ref.kind === "symbol") found.add(ref.symbol);
    }
  }
  return found;
}
function objectSafetyFindings(input) {
  const findings = [];
  const traced = objectHasFentryCalls(input.preEntries);
  for (const part of input.changedParts) {
    if (!part.pre) continue;
    const redirect = whyCannotBeRedirected(part.pre, input.preEntries, traced);
    if (redirect) findings.push(finding(redirect.rule, part.pre.name, redirect.reason));
    const keys2 = whyStaticKeyUsersChanged(
      part.name,
      staticKeysTestedBy(part.pre, input.preEntries, input.preIndex),
      staticKeysTestedBy(part.symbol, input.postEntries, input.postIndex)
    );
    if (keys2) findings.push(finding("static-key", part.name, keys2));
  }
  const keys = staticKeysDefinedIn(input.postEntries, input.postIndex);
  const usedByChanged = dataReferencedBy(
    input.changedParts.map((p) => p.symbol),
    input.postIndex
  );
  for (const sym of input.newData.filter((d) => usedByChanged.has(d))) {
    const reason = whyNewStaticDataNeedsInit(sym, keys.has(sym));
    if (reason) findings.push(finding("new-data", sym.name, reason));
  }
  return findings;
}

// src/diff/special-entries.ts
function specialEntriesByFunction(index) {
  const byFunction = /* @__PURE__ */ new Map();
  const byIndex = /* @__PURE__ */ new Map();
  const add = (entry) => {
    const list = byFunction.get(entry.fn);
    if (list) list.push(entry);
    else byFunction.set(entry.fn, [entry]);
  };
  const located = [];
  const parallel = [];
  for (const section of index.obj.sections) {
    const layout = specialSectionLayout(section.name);
    if (!layout) continue;
    (layout.parallelTo ? parallel : located).push(section);
  }
  for (const section of located) {
    const layout = specialSectionLayout(section.name);
    const entries = /* @__PURE__ */ new Map();
    byIndex.set(section.name, entries);
    const count = Math.ceil(section.size / layout.entrySize);
    for (let i = 0; i < count; i++) {
      const start = i * layout.entrySize;
      const rela = index.relocationAt(section, start + layout.siteOffset);
      if (!rela) continue;
      const ref = index.referent(rela, section);
      if (ref.kind !== "symbol" || !isFunction(ref.symbol)) continue;
      const entry = { section, layout, index: i, start, fn: ref.symbol, siteInFunction: Number(ref.offset) };
      entries.set(i, entry);
      add(entry);
    }
  }
  for (const section of parallel) {
    const layout = specialSectionLayout(section.name);
    const partner = byIndex.get(layout.parallelTo);
    if (!partner) continue;
    for (const [i, p] of partner) {
      if (i * layout.entrySize >= section.size) continue;
      add({ section, layout, index: i, start: i * layout.entrySize, fn: p.fn, siteInFunction: p.siteInFunction });
    }
  }
  return byFunction;
}

// src/diff/diff.ts
function diffObjects(pre, post) {
  const preIndex = new ObjectIndex(pre);
  const postIndex = new ObjectIndex(post);
  const correlation = new Correlation(preIndex, postIndex);
  const preEntries = specialEntriesByFunction(preIndex);
  const postEntries = specialEntriesByFunction(postIndex);
  const comparer = new Comparer(correlation, preEntries, postEntries);
  const notes = [];
  const parts = compareFunctions(postIndex, correlation, comparer, notes);
  markOwnersOfChangedColdParts(parts);
  const groups = groupClones(parts, new Set(preIndex.functions.map((f) => f.name)));
  const { changed, added, initChanges } = classify(groups, families(preIndex));
  const keys = new Set([...staticKeysDefinedIn(preEntries, preIndex)].map((k) => k.name));
  const unsafe = [...initChanges, ...layoutShifts(parts, comparer), ...dataChanges(correlation, comparer, notes, keys)];
  const shipped = [...changed, ...added].flatMap((g) => g.parts.filter((p) => p.status !== "unchanged").map((p) => p.symbol));
  const newData = newDataUsedBy(shipped, postIndex, correlation);
  unsafe.push(
    ...objectSafetyFindings({
      changedParts: changed.flatMap((g) => g.parts.filter((p) => p.status === "changed")),
      newData,
      preEntries,
      postEntries,
      preIndex,
      postIndex,
      correlation
    })
  );
  return {
    pre,
    post,
    changed,
    new: added,
    removed: removedFunctions(preIndex, correlation, families(postIndex)),
    unsafe,
    exportChanges: exportChanges(pre, post),
    notes,
    newData,
    correlation
  };
}
function compareFunctions(post, correlation, comparer, notes) {
  return post.functions.map((symbol) => {
    const partner = correlation.postToPre.get(symbol);
    const base = { name: symbol.name, symbol, section: symbol.section };
    if (!partner) return { ...base, status: "new" };
    const { difference, notes: partNotes } = comparer.compareFunction(partner, symbol);
    if (!difference) notes.push(...partNotes);
    return difference ? { ...base, status: "changed", reason: difference, pre: partner } : { ...base, status: "unchanged", pre: partner };
  });
}
function classify(groups, preFamilies) {
  const changed = [];
  const added = [];
  const initChanges = [];
  for (const group of groups) {
    if (group.parts.every((p) => p.status === "unchanged")) continue;
    const init = group.parts.find((p) => p.status !== "unchanged" && (isInitCode(p.section) || p.pre && isInitCode(p.pre.section)));
    if (init) {
      const section = isInitCode(init.section) ? init.section : init.pre.section;
      initChanges.push(
        finding(
          section.name.startsWith(".exit.") ? "exit-code" : "init-code",
          init.name,
          `${init.status === "new" ? "new" : "changed"} code in ${init.section.name}: __init/__exit code runs once at boot (or never, when built in) and is freed; an update cannot re-run it`
        )
      );
      continue;
    }
    const existedBefore = group.parts.some((p) => p.status !== "new" || preFamilies.has(cloneParent(p.name)));
    (existedBefore ? changed : added).push(group);
  }
  return { changed, added, initChanges };
}
function layoutShifts(parts, comparer) {
  return parts.filter((part) => part.status === "changed" && part.pre).flatMap(
    (part) => comparer.shiftedDataAccesses(part.pre, part.symbol).map(
      (access) => finding(
        "data-layout",
        access.symbol,
        `${part.name} reaches ${access.symbol} at +0x${access.from.toString(16)} before and +0x${access.to.toString(16)} after, with no other change: the layout of its type changed, and the running kernel's ${access.symbol} keeps the old one`
      )
    )
  );
}
function dataChanges(correlation, comparer, notes, staticKeys) {
  const unsafe = [];
  for (const [preData, postData] of correlation.preToPost) {
    if (!isDataObject(preData) || !isDataObject(postData)) continue;
    const { difference, lineOnly } = comparer.compareData(preData, postData);
    if (!difference) continue;
    if (lineOnly) notes.push(`${postData.name}: line number differs (not shipped)`);
    else unsafe.push(dataChangeFinding(preData, postData, difference, staticKeys.has(preData.name)));
  }
  return unsafe;
}
function removedFunctions(pre, correlation, postFamilies) {
  const preNames = new Set(pre.functions.map((f) => f.name));
  const removed = pre.functions.filter((f) => !correlation.preToPost.has(f) && !postFamilies.has(cloneParent(f.name))).map((f) => groupName(f.name, preNames));
  return [...new Set(removed)].sort();
}
function families(index) {
  return new Set(index.functions.map((f) => cloneParent(f.name)));
}
function summarize(result) {
  return {
    changed: result.changed.map((g) => g.name).sort(),
    new: result.new.map((g) => g.name).sort(),
    removed: result.removed,
    unsafe: [...result.unsafe, ...result.exportChanges]
  };
}
function shippedFunctions(result) {
  return [...result.changed, ...result.new].flatMap((g) => g.parts.filter((p) => p.status !== "unchanged").map((p) => p.name));
}
function markOwnersOfChangedColdParts(parts) {
  const byName = new Map(parts.map((p) => [p.name, p]));
  for (const part of parts) {
    if (!isColdPart(part.name) || part.status === "unchanged") continue;
    const owner = byName.get(coldOwner(part.name));
    if (owner && owner.status === "unchanged") {
      owner.status = "changed";
      owner.reason = `its cold part ${part.name} is ${part.status}`;
    }
  }
}
function groupName(name, names) {
  const parent = cloneParent(name);
  if (parent !== name && names.has(parent)) return parent;
  if (isColdPart(name)) return groupName(coldOwner(name), names);
  return name;
}
function groupClones(parts, preNames) {
  const names = /* @__PURE__ */ new Set([...parts.map((p) => p.name), ...preNames]);
  const groups = /* @__PURE__ */ new Map();
  for (const part of parts) {
    const name = groupName(part.name, names);
    const group = groups.get(name) ?? { name, parts: [] };
    group.parts.push(part);
    groups.set(name, group);
  }
  return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name));
}
function isInitCode(section) {
  return /^\.(init|exit)\./.test(section.name);
}
function dataChangeFinding(pre, post, difference, isStaticKey = false) {
  const name = post.name;
  if (isStaticKey) {
    return finding(
      "static-key-definition",
      name,
      `static key definition changed (${difference}; e.g. DEFINE_STATIC_KEY_FALSE \u2192 _TRUE): the running kernel's key keeps its state and every jump-label site its code; an update cannot re-initialize it \u2014 change the key's state with static_branch_enable()/disable() in a hook`
    );
  }
  if (isInitOnlyData(post.section) || isInitOnlyData(pre.section)) {
    return finding(
      "init-data",
      name,
      `init-only data changed in ${post.section.name} (${difference}): __initdata/__initconst is read only while the kernel boots and is freed afterwards; an update cannot re-run the boot code that used it`
    );
  }
  if (pre.size !== post.size) {
    return finding(
      "data-layout",
      name,
      `data object size changed (${pre.size} \u2192 ${post.size} bytes): its type's layout changed, and the running kernel's copy cannot be resized or reinterpreted`
    );
  }
  return finding(
    "data-change",
    name,
    `initialized data changed in ${post.section.name} (${difference}): the update replaces code, not the running kernel's data`
  );
}
function newDataUsedBy(shipped, post, correlation) {
  const found = /* @__PURE__ */ new Set();
  const work = [...shipped];
  while (work.length > 0) {
    const sym = work.pop();
    for (const rela of post.relocationsIn(sym.section, sym.value, Math.max(sym.size, 1))) {
      const ref = post.referent(rela, sym.section);
      if (ref.kind !== "symbol" || found.has(ref.symbol) || !isDataObject(ref.symbol)) continue;
      if (correlation.postToPre.has(ref.symbol) || isMergeStrings(ref.symbol.section)) continue;
      found.add(ref.symbol);
      work.push(ref.symbol);
    }
  }
  return [...found];
}
function exportedSymbols(obj) {
  const exports = /* @__PURE__ */ new Map();
  for (const s of obj.sections) {
    const m = /^___ksymtab(_gpl)?\+(.+)$/.exec(s.name);
    if (m) exports.set(m[2], m[1] ? "EXPORT_SYMBOL_GPL" : "EXPORT_SYMBOL");
  }
  return exports;
}
function exportChanges(pre, post) {
  const before = exportedSymbols(pre);
  const after = exportedSymbols(post);
  const changes = [];
  for (const [name, kind] of after) {
    if (!before.has(name))
      changes.push(finding("export-change", name, `newly exported (${kind}): an update cannot add to the running kernel's export table`));
    else if (before.get(name) !== kind)
      changes.push(
        finding(
          "export-change",
          name,
          `export changed from ${before.get(name)} to ${kind}: the running kernel's export table cannot change`
        )
      );
  }
  for (const [name, kind] of before) {
    if (!after.has(name))
      changes.push(
        finding(
          "export-change",
          name,
          `no longer exported (was ${kind}): the running kernel's export table cannot change, and loaded modules may use it`
        )
      );
  }
  return changes;
}

// src/elf/reader.ts
var EHDR_SIZE = 64;
var SHDR_SIZE = 64;
var SYM_SIZE = 24;
var RELA_SIZE = 24;
function cString(buf, start) {
  const end = buf.indexOf(0, start);
  return buf.toString("utf8", start, end < 0 ? buf.length : end);
}
function checkRange(buf, offset, size, what) {
  if (offset < 0 || size < 0 || offset + size > buf.length) {
    throw new ElfFormatError(`${what} (offset ${offset}, size ${size}) lies outside the file (${buf.length} bytes)`);
  }
}
function readElf(buf) {
  if (buf.length < EHDR_SIZE || buf.readUInt32BE(0) !== 2135247942) throw new ElfFormatError("not an ELF file");
  if (buf[4] !== 2) throw new ElfFormatError("not ELF64");
  if (buf[5] !== 1) throw new ElfFormatError("not little-endian");
  const type = buf.readUInt16LE(16);
  if (type !== ET_REL) throw new ElfFormatError(`not a relocatable object (e_type ${type})`);
  const header = { osabi: buf[7], abiversion: buf[8], machine: buf.readUInt16LE(18), flags: buf.readUInt32LE(48) };
  const shoff = Number(buf.readBigUInt64LE(40));
  if (buf.readUInt16LE(58) !== SHDR_SIZE) throw new ElfFormatError("unexpected section header size");
  let shnum = buf.readUInt16LE(60);
  let shstrndx = buf.readUInt16LE(62);
  if (shoff === 0) return { header, sections: [], symbols: [] };
  checkRange(buf, shoff, SHDR_SIZE, "section header 0");
  if (shnum === 0) shnum = Number(buf.readBigUInt64LE(shoff + 32));
  if (shstrndx === SHN_XINDEX) shstrndx = buf.readUInt32LE(shoff + 40);
  checkRange(buf, shoff, shnum * SHDR_SIZE, "section header table");
  const raw = new Array(shnum);
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * SHDR_SIZE;
    const shType = buf.readUInt32LE(o + 4);
    const offset = Number(buf.readBigUInt64LE(o + 24));
    const size = Number(buf.readBigUInt64LE(o + 32));
    if (shType !== SHT_NOBITS && i !== 0) checkRange(buf, offset, size, `section ${i}`);
    raw[i] = {
      nameOffset: buf.readUInt32LE(o),
      offset,
      size,
      section: {
        index: i,
        name: "",
        type: shType,
        flags: buf.readBigUInt64LE(o + 8),
        addr: buf.readBigUInt64LE(o + 16),
        link: buf.readUInt32LE(o + 40),
        info: buf.readUInt32LE(o + 44),
        addralign: buf.readBigUInt64LE(o + 48),
        entsize: buf.readBigUInt64LE(o + 56),
        data: shType === SHT_NOBITS || i === 0 ? Buffer.alloc(0) : buf.subarray(offset, offset + size),
        size: i === 0 ? 0 : size
      }
    };
  }
  if (shstrndx >= shnum) throw new ElfFormatError(`e_shstrndx ${shstrndx} out of range`);
  const shstrtab = raw[shstrndx].section.data;
  for (const r of raw) r.section.name = cString(shstrtab, r.nameOffset);
  const sectionAt = (i, what) => {
    if (i <= 0 || i >= shnum) throw new ElfFormatError(`${what}: section index ${i} out of range`);
    return raw[i].section;
  };
  const symtabIndex = raw.findIndex((r) => r.section.type === SHT_SYMTAB);
  const symbols = [];
  const regenerated = /* @__PURE__ */ new Set([0, shstrndx]);
  if (symtabIndex > 0) {
    const symtab = raw[symtabIndex].section;
    const strtab = sectionAt(symtab.link, ".symtab sh_link").data;
    regenerated.add(symtabIndex).add(symtab.link);
    const shndxIndex = raw.findIndex((r) => r.section.type === SHT_SYMTAB_SHNDX && r.section.link === symtabIndex);
    const xindex = shndxIndex > 0 ? raw[shndxIndex].section.data : null;
    if (shndxIndex > 0) regenerated.add(shndxIndex);
    const data = symtab.data;
    const count = Math.floor(data.length / SYM_SIZE);
    for (let i = 1; i < count; i++) {
      const o = i * SYM_SIZE;
      const info = data[o + 4];
      let shndx = data.readUInt16LE(o + 6);
      if (shndx === SHN_XINDEX) {
        if (!xindex) throw new ElfFormatError(`symbol ${i} uses SHN_XINDEX but there is no .symtab_shndx`);
        shndx = xindex.readUInt32LE(i * 4);
      }
      const defined = shndx !== SHN_UNDEF && (shndx < SHN_LORESERVE || data.readUInt16LE(o + 6) === SHN_XINDEX);
      symbols.push({
        index: i,
        name: cString(strtab, data.readUInt32LE(o)),
        bind: info >> 4,
        type: info & 15,
        other: data[o + 5],
        section: defined ? sectionAt(shndx, `symbol ${i}`) : null,
        shndx: defined ? 0 : shndx,
        value: Number(data.readBigUInt64LE(o + 8)),
        size: Number(data.readBigUInt64LE(o + 16))
      });
    }
  }
  const symbolAt = (i, what) => {
    const s = symbols[i - 1];
    if (!s) throw new ElfFormatError(`${what}: symbol index ${i} out of range`);
    return s;
  };
  for (const { section } of raw) {
    if (section.type === SHT_REL) throw new ElfFormatError(`${section.name}: SHT_REL is not used on x86-64 and not supported`);
    if (section.type === SHT_RELA) {
      const entries = new Array(Math.floor(section.data.length / RELA_SIZE));
      const d = section.data;
      for (let k = 0; k < entries.length; k++) {
        const o = k * RELA_SIZE;
        const symIndex = d.readUInt32LE(o + 12);
        entries[k] = {
          offset: Number(d.readBigUInt64LE(o)),
          type: d.readUInt32LE(o + 8),
          // A relocation against symbol 0 is absolute (rare in objects); model it as the null symbol.
          symbol: symIndex === 0 ? NULL_SYMBOL : symbolAt(symIndex, `${section.name} entry ${k}`),
          addend: d.readBigInt64LE(o + 16)
        };
      }
      section.rela = { target: sectionAt(section.info, `${section.name} sh_info`), entries };
    } else if (section.type === SHT_GROUP) {
      const d = section.data;
      const members = [];
      for (let o = 4; o + 4 <= d.length; o += 4) members.push(sectionAt(d.readUInt32LE(o), `${section.name} member`));
      section.group = { flags: d.readUInt32LE(0), signature: symbolAt(section.info, `${section.name} signature`), members };
    }
  }
  for (const { section } of raw)
    if ((section.flags & SHF_LINK_ORDER) !== 0n) section.linkTo = sectionAt(section.link, `${section.name} sh_link`);
  const sections = raw.filter((_, i) => !regenerated.has(i)).map((r) => r.section);
  return { header, sections, symbols };
}

export {
  FINDING_RULES,
  RULE_CODES,
  isRuleCode,
  finding,
  describeFinding,
  SHT_PROGBITS,
  SHT_SYMTAB,
  SHT_STRTAB,
  SHT_RELA,
  SHT_NOBITS,
  SHT_GROUP,
  SHT_SYMTAB_SHNDX,
  SHF_ALLOC,
  SHF_MERGE,
  SHF_STRINGS,
  SHF_INFO_LINK,
  SHF_GROUP,
  SHN_LORESERVE,
  SHN_ABS,
  SHN_XINDEX,
  STB_LOCAL,
  STB_GLOBAL,
  STB_WEAK,
  STT_NOTYPE,
  STT_FUNC,
  STT_SECTION,
  STT_FILE,
  ET_REL,
  NULL_SYMBOL,
  ElfFormatError,
  relaFor,
  isFunction,
  isSectionSymbol,
  isMergeStrings,
  isMergeConstants,
  isExecutable,
  newSection,
  R_X86_64_NONE,
  R_X86_64_64,
  R_X86_64_PC32,
  R_X86_64_PLT32,
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_PC64,
  relocationWidth,
  relocationName,
  relocationTarget,
  specialSectionLayout,
  ObjectIndex,
  symbolBytes,
  isColdPart,
  coldOwner,
  specialEntriesByFunction,
  diffObjects,
  summarize,
  shippedFunctions,
  readElf
};
