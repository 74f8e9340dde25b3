#!/usr/bin/env node
import {
  checkToolchain,
  configValue
} from "./chunks/chunk-KDVOPVSK.js";
import {
  CommandError,
  Progress,
  SystemMapIndex,
  defaultCacheDir,
  ensureTarget,
  kbuildArgs,
  kbuildObjects,
  readSystemMap,
  run,
  runUnchecked,
  stderrSink,
  withLock
} from "./chunks/chunk-E7X4KMXC.js";
import {
  ET_REL,
  ElfFormatError,
  NULL_SYMBOL,
  ObjectIndex,
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_64,
  R_X86_64_NONE,
  R_X86_64_PC32,
  R_X86_64_PC64,
  R_X86_64_PLT32,
  SHF_ALLOC,
  SHF_GROUP,
  SHF_INFO_LINK,
  SHF_MERGE,
  SHF_STRINGS,
  SHN_ABS,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHN_XINDEX,
  SHT_GROUP,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FILE,
  STT_FUNC,
  STT_NOTYPE,
  STT_SECTION,
  coldOwner,
  describeFinding,
  diffObjects,
  finding,
  isColdPart,
  isExecutable,
  isFunction,
  isMergeConstants,
  isMergeStrings,
  isSectionSymbol,
  newSection,
  readElf,
  relaFor,
  relocationName,
  relocationTarget,
  relocationWidth,
  shippedFunctions,
  specialEntriesByFunction,
  specialSectionLayout,
  summarize,
  symbolBytes
} from "./chunks/chunk-NTZ7BIJ7.js";
import {
  OUTCOME_EXIT_CODES,
  UsageError,
  defineCli,
  runCli
} from "./chunks/chunk-DGMV7F27.js";

// src/create/cli.ts
import path14 from "node:path";

// src/create/annotations.ts
import path from "node:path";
function escapeData(s) {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
function escapeProperty(s) {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
function findingAnnotations(patchPath, unsafe, accepted, workspace = process.env.GITHUB_WORKSPACE) {
  const file = workspace ? path.relative(workspace, patchPath) : patchPath;
  const line = (kind, title, f) => `::${kind} file=${escapeProperty(file)},title=${escapeProperty(`ksplice: ${title} (${f.symbol})`)}::${escapeData(describeFinding(f))}`;
  return [
    ...unsafe.map((f) => line("error", "needs custom code", f)),
    ...accepted.map((f) => line("notice", "accepted with custom code", f))
  ];
}

// src/create/cli-spec.ts
var CREATE_CLI = defineCli({
  name: "ksplice-create",
  summary: "build a rebootless update (ksplice-<id>.tar.gz) from a kernel source patch",
  usage: [
    "--patch=FILE [--config=DIR] [--id=ID] [--output-dir=DIR] [--json] [--analyze-only] [--allow-toolchain-mismatch] [--skip-reproduction-check] [--hooks=FILE.c] [--accept=SYMBOL[,SYMBOL]] KERNEL_SOURCE",
    "--patch=FILE --kernel-release=RELEASE [options]   (a Debian release, prepared by the setup)"
  ],
  positionals: true,
  options: {
    patch: { type: "string", value: "FILE", description: "the source patch (unified diff, applied with -p1 to the kernel tree)" },
    config: {
      type: "string",
      value: "DIR",
      description: "the target's .config, System.map, build -> headers and shipped vmlinux (default: KERNEL_SOURCE/ksplice)"
    },
    id: { type: "string", value: "ID", description: "the update id (default: derived from the patch)" },
    "output-dir": { type: "string", value: "DIR", description: "where ksplice-<id>.tar.gz is written (default: the current folder)" },
    json: { type: "boolean", default: false, description: "print the outcome as one JSON object on stdout, whatever the outcome" },
    "analyze-only": { type: "boolean", default: false, description: "stop after the safety verdict: no modules built, no tarball" },
    "allow-toolchain-mismatch": {
      type: "boolean",
      default: false,
      description: "build even if this machine's compiler is not the one that built the target"
    },
    "skip-reproduction-check": {
      type: "boolean",
      default: false,
      description: "build without the shipped vmlinux/.ko: run-pre matching at apply time is the only check"
    },
    "kernel-release": {
      type: "string",
      value: "RELEASE",
      description: "a Debian release (6.1.0-50-amd64): the setup prepares its tree, instead of KERNEL_SOURCE"
    },
    hooks: {
      type: "string",
      value: "FILE.c",
      description: "the author's hook code (kmod/ksplice_hooks.h), compiled into the update module (docs/hooks.md)"
    },
    accept: {
      type: "string",
      multiple: true,
      value: "SYMBOL[,SYMBOL]",
      description: "findings of the safety analysis the author has reviewed (their `symbol`): they no longer refuse the update"
    }
  },
  notes: [
    'Without --json the tarball path is printed on stdout; a refusal and "No changes detected" go to stderr. In GitHub Actions (GITHUB_ACTIONS=true) each finding is also printed on stderr as an annotation of the patch file.'
  ],
  exitCodes: ["ok", "error", "unsafe", "usage", "noChanges", "sigint", "sigterm"]
});

// src/create/create.ts
import { readFile as readFile12, mkdtemp, rm as rm4 } from "node:fs/promises";
import os3 from "node:os";
import path13 from "node:path";

// src/diff/source-rules.ts
function changedLines(patchText) {
  const out = [];
  let file = "";
  let line = 0;
  let inHunk = false;
  for (const raw of patchText.split("\n")) {
    if (raw.startsWith("+++ ")) {
      const name = raw.slice(4).split("	")[0].trim();
      file = name.slice(name.indexOf("/") + 1);
      inHunk = false;
      continue;
    }
    if (raw.startsWith("--- ") && !inHunk) continue;
    const hunk = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(raw);
    if (hunk) {
      line = Number(hunk[1]);
      inHunk = true;
      continue;
    }
    if (!inHunk) continue;
    if (raw.startsWith("diff ")) {
      inHunk = false;
      continue;
    }
    if (raw.startsWith("-")) {
      out.push({ file, preLine: line, kind: "-", text: raw.slice(1) });
      line++;
    } else if (raw.startsWith("+")) {
      out.push({ file, preLine: line, kind: "+", text: raw.slice(1) });
    } else if (raw.startsWith(" ")) {
      line++;
    }
  }
  return out;
}
function stripForBraces(source) {
  let text = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
  text = text.replace(/\/\/[^\n]*/g, "").replace(/"(?:\\.|[^"\\\n])*"/g, '""').replace(/'(?:\\.|[^'\\\n])*'/g, "''");
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*#/.test(lines[i])) continue;
    while (i < lines.length && lines[i].trimEnd().endsWith("\\")) lines[i++] = "";
    if (i < lines.length) lines[i] = "";
  }
  return lines;
}
function enclosingBlock(lines, line) {
  let depth = 0;
  let opener = null;
  let pending = "";
  for (let i = 0; i < line - 1 && i < lines.length; i++) {
    for (const ch of lines[i] + "\n") {
      if (ch === "{") {
        if (depth === 0) opener = pending.replace(/\s+/g, " ").trim();
        depth++;
        pending = "";
      } else if (ch === "}") {
        depth = Math.max(0, depth - 1);
        if (depth === 0) opener = null;
        pending = "";
      } else if (ch === ";") {
        pending = "";
      } else {
        pending += ch;
      }
    }
  }
  return depth > 0 ? opener : null;
}
function isDeclarationLine(text) {
  const code = text.replace(/\/\*.*?\*\//g, "").replace(/\/\/.*$/, "").trim();
  return code !== "" && !/^[{}]+;?$/.test(code) && !code.startsWith("/*") && !code.startsWith("*") && !code.startsWith("#");
}
function structWhoseLayoutChanges(opener, text, typedefName = null) {
  if (!opener || !isDeclarationLine(text)) return null;
  const m = /^(?:typedef\s+)?(struct|union)\s+([A-Za-z_]\w*)(?:\s+__\w+(?:\([^)]*\))?)*$/.exec(opener);
  if (m) return `${m[1]} ${m[2]}`;
  const anonymous = /^typedef\s+(struct|union)(?:\s+__\w+(?:\([^)]*\))?)*$/.exec(opener);
  return anonymous && typedefName ? `${anonymous[1]} ${typedefName} (typedef)` : null;
}
function typedefNameOfBlock(lines, line) {
  let depth = 0;
  let closedAt = null;
  for (let i = 0; i < lines.length && !closedAt; i++) {
    const row = lines[i];
    for (let j = 0; j < row.length; j++) {
      if (row[j] === "{") depth++;
      else if (row[j] === "}") {
        depth = Math.max(0, depth - 1);
        if (depth === 0 && i >= line - 1) {
          closedAt = { row: i, col: j + 1 };
          break;
        }
      }
    }
  }
  if (!closedAt) return null;
  const after = [lines[closedAt.row].slice(closedAt.col), ...lines.slice(closedAt.row + 1, closedAt.row + 4)].join(" ");
  const declarators = after.split(";")[0];
  const names = declarators.match(/[A-Za-z_]\w*/g) ?? [];
  return names.filter((n) => !/^__\w+$/.test(n)).pop() ?? null;
}
function canonicalMember(text) {
  return text.replace(/\/\*.*?\*\//g, " ").replace(/\/\/.*$/, "").replace(/\s+/g, " ").replace(/\s*([;,*[\]():])\s*/g, "$1").replace(/\bunsigned(?! (?:int|long|short|char)\b)/g, "unsigned int").replace(/\bsigned(?! (?:int|long|short|char)\b)/g, "int").replace(/\b(long|short) int\b/g, "$1").trim();
}
function sameMembers(removed, added) {
  const a = removed.map(canonicalMember).filter(Boolean);
  const b = added.map(canonicalMember).filter(Boolean);
  return a.length === b.length && a.every((m, i) => m === b[i]);
}
function inlineFunctionOfHeader(file, opener) {
  if (!file.endsWith(".h") || !opener) return null;
  if (!/\b(inline|__always_inline)\b/.test(opener)) return null;
  const m = /([A-Za-z_]\w*)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*(?:__\w+\s*)*$/.exec(opener);
  return m ? m[1] : null;
}
function isLibArchiveMember(object, makefileText) {
  const base = object.slice(object.lastIndexOf("/") + 1);
  const joined = makefileText.replace(/\\\n/g, " ");
  for (const m of joined.matchAll(/^\s*lib-(?:y|\$\(CONFIG_\w+\))\s*[:+]?=\s*(.*)$/gm)) {
    const members = m[1].split(/\s+/).map((w) => w.replace(/\$\(BITS\)/, "64"));
    if (members.includes(base)) return true;
  }
  return false;
}
function isAssemblySource(file) {
  return file.endsWith(".S");
}
function functionBodies(lines) {
  const out = [];
  let depth = 0;
  let pending = "";
  let current = null;
  for (const ch of lines.join("\n")) {
    if (ch === "{") {
      if (depth === 0) current = definedFunction(pending.replace(/\s+/g, " ").trim());
      else if (current) current.body += ch;
      depth++;
      pending = "";
    } else if (ch === "}") {
      depth = Math.max(0, depth - 1);
      if (depth === 0 && current) {
        out.push(current);
        current = null;
      } else if (current) current.body += ch;
      pending = "";
    } else if (depth > 0) {
      if (current) current.body += ch;
    } else if (ch === ";") {
      pending = "";
    } else {
      pending += ch;
    }
  }
  return out;
}
function definedFunction(opener) {
  if (/^(?:typedef\s+)?(?:struct|union|enum)\b[^(]*$/.test(opener) || /=$/.test(opener)) return null;
  const m = /([A-Za-z_]\w*)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*(?:__\w+(?:\([^)]*\))?\s*)*$/.exec(opener);
  return m ? { name: m[1], body: "" } : null;
}
function functionsReaching(targets, bodies) {
  const names = new Set(targets);
  const reaching = /* @__PURE__ */ new Set();
  for (let grew = true; grew; ) {
    grew = false;
    const named = new RegExp(`\\b(?:${[...names].map((n) => n.replace(/\W/g, "")).join("|")})\\b`);
    for (const b of bodies) {
      if (reaching.has(b.name) || !named.test(b.body)) continue;
      reaching.add(b.name);
      names.add(b.name);
      grew = true;
    }
  }
  return reaching;
}
async function sourceWithIncludedC(file, readPre) {
  const text = await readPre(file).catch(() => "");
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
  const included = [...text.matchAll(/^\s*#\s*include\s+"([^"]+\.c)"/gm)].map((m) => m[1]);
  const parts = await Promise.all(included.map((f) => readPre(`${dir}${f}`).catch(() => "")));
  return [text, ...parts].join("\n");
}
function sourceName(fn) {
  return fn.split(".")[0];
}
async function callersOfInline(inline, headerBodies, input) {
  if (input.objects.length === 0) return "the patch was not built, so they are not listed";
  const targets = /* @__PURE__ */ new Set([inline, ...functionsReaching([inline], headerBodies)]);
  const callers = [];
  const unsorted = [];
  for (const { object, changedFunctions } of input.objects) {
    if (changedFunctions.length === 0) continue;
    const source = await sourceWithIncludedC(object.replace(/\.o$/, ".c"), input.readPre);
    if (!source) {
      unsorted.push(...changedFunctions.map((f) => `${f} (${object})`));
      continue;
    }
    const reaching = functionsReaching(targets, functionBodies(stripForBraces(source)));
    callers.push(...changedFunctions.filter((f) => reaching.has(sourceName(f))).map((f) => `${f} (${object})`));
  }
  const listed = callers.length ? `here ${callers.join(", ")}` : "none of the changed functions calls it";
  return unsorted.length ? `${listed}; changed in objects whose source was not read: ${unsorted.join(", ")}` : listed;
}
async function sourceSafetyFindings(input) {
  const findings = [];
  const byFile = /* @__PURE__ */ new Map();
  for (const l of changedLines(input.patchText)) byFile.set(l.file, [...byFile.get(l.file) ?? [], l]);
  for (const [file, lines] of byFile) {
    if (!/\.(c|h)$/.test(file)) continue;
    const pre = await input.readPre(file).catch(() => "");
    if (!pre) continue;
    const stripped = stripForBraces(pre);
    const structs = /* @__PURE__ */ new Map();
    const inlines = /* @__PURE__ */ new Set();
    for (const l of lines) {
      const opener = enclosingBlock(stripped, l.preLine);
      const struct = structWhoseLayoutChanges(
        opener,
        l.text,
        opener && /^typedef\s+(struct|union)\b/.test(opener) ? typedefNameOfBlock(stripped, l.preLine) : null
      );
      if (struct) {
        const members = structs.get(struct) ?? { removed: [], added: [] };
        (l.kind === "-" ? members.removed : members.added).push(l.text);
        structs.set(struct, members);
      }
      const inline = inlineFunctionOfHeader(file, opener);
      if (inline && isDeclarationLine(l.text)) inlines.add(inline);
    }
    for (const [s, members] of structs) {
      if (sameMembers(members.removed, members.added)) continue;
      findings.push(
        finding(
          "data-layout",
          s,
          `data layout of ${s} changed in ${file}: the running kernel's ${s} objects keep the old layout and code the update does not replace (other objects, loaded modules) keeps the old offsets; keep the layout and attach new fields as shadow variables (ksplice_shadow_* in kmod/ksplice_hooks.h)`
        )
      );
    }
    const headerBodies = inlines.size ? functionBodies(stripped) : [];
    for (const f of inlines) {
      findings.push(
        finding(
          "header-inline",
          f,
          `inline function ${f} of header ${file} changed: its code is copied into every caller, so the update must replace all of them \u2014 ${await callersOfInline(f, headerBodies, input)} \u2014 and loadable modules built with the old ${f} keep it`
        )
      );
    }
  }
  for (const { object, changedFunctions } of input.objects) {
    if (changedFunctions.length === 0) continue;
    const dir = object.includes("/") ? object.slice(0, object.lastIndexOf("/")) : ".";
    const makefile = await input.readPre(`${dir}/Makefile`).catch(() => "");
    if (isLibArchiveMember(object, makefile)) {
      findings.push(
        finding(
          "lib-archive",
          object,
          `${object} is a lib-y archive member (${dir}/Makefile): it is linked into vmlinux only if something refers to it, may be built without ftrace, and the running kernel may lack or duplicate its functions (${changedFunctions.join(", ")})`
        )
      );
    }
    const source = object.replace(/\.o$/, ".S");
    if (input.patchText.includes(`/${source}`) && isAssemblySource(source)) {
      findings.push(
        finding(
          "assembly",
          object,
          `${source} is assembly: its functions (${changedFunctions.join(", ")}) have no fentry call for ftrace to redirect, and hand-written entry/low-level code cannot be switched under a running CPU`
        )
      );
    }
  }
  return findings;
}

// src/create/double-build.ts
import { copyFile, mkdir as mkdir2, readFile as readFile3, rm as rm2 } from "node:fs/promises";
import os2 from "node:os";
import path4 from "node:path";

// src/create/patch-file.ts
var PatchDoesNotApplyError = class extends Error {
  constructor(patchPath, tree, output) {
    super(`patch ${patchPath} does not apply to ${tree}; the tree was left untouched:
${output.trim()}`);
    this.output = output;
    this.name = "PatchDoesNotApplyError";
  }
  output;
};
function touchedFiles(patchText) {
  const files = /* @__PURE__ */ new Set();
  const lines = patchText.split("\n");
  for (let i = 0; i < lines.length - 1; i++) {
    if (!lines[i].startsWith("--- ") || !lines[i + 1].startsWith("+++ ")) continue;
    const oldName = diffPathName(lines[i].slice(4));
    const newName = diffPathName(lines[i + 1].slice(4));
    const name = newName === "/dev/null" ? oldName : newName;
    if (name && name !== "/dev/null") files.add(stripFirstComponent(name));
  }
  return [...files].sort();
}
function diffPathName(field) {
  return field.split("	")[0].trim();
}
function stripFirstComponent(name) {
  const slash = name.indexOf("/");
  return slash === -1 ? name : name.slice(slash + 1);
}
var PATCH_FLAGS = ["-p1", "--fuzz=0", "--batch", "--forward", "--no-backup-if-mismatch", "--reject-file=-"];
async function assertPatchApplies(tree, patchPath) {
  const result = await runUnchecked("patch", [...PATCH_FLAGS, "--dry-run", "-i", patchPath], { cwd: tree });
  if (result.exitCode !== 0) throw new PatchDoesNotApplyError(patchPath, tree, result.stdout + result.stderr);
}
async function applyPatch(tree, patchPath) {
  await assertPatchApplies(tree, patchPath);
  const result = await runUnchecked("patch", [...PATCH_FLAGS, "-s", "-i", patchPath], { cwd: tree });
  if (result.exitCode !== 0) throw new PatchDoesNotApplyError(patchPath, tree, result.stdout + result.stderr);
}
async function reversePatch(tree, patchPath) {
  const flags = PATCH_FLAGS.filter((f) => f !== "--forward");
  const result = await runUnchecked("patch", [...flags, "-R", "-s", "-i", patchPath], { cwd: tree });
  if (result.exitCode !== 0) {
    throw new Error(`could not reverse ${patchPath} in ${tree}; restore the tree by hand:
${(result.stdout + result.stderr).trim()}`);
  }
}

// src/create/pristine-tree.ts
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path2 from "node:path";
var PATCH_JOURNAL = ".ksplice-patch-journal";
async function fingerprintFiles(tree, files) {
  const result = /* @__PURE__ */ new Map();
  for (const file of files) {
    const data = await readFile(path2.join(tree, file)).catch(() => null);
    result.set(file, data ? createHash("sha256").update(data).digest("hex") : null);
  }
  return result;
}
function changedFiles(before, after) {
  return [...before.keys()].filter((f) => before.get(f) !== after.get(f));
}
var TreeNotPristineError = class extends Error {
  constructor(tree, files) {
    super(`kernel tree ${tree} is not pristine after reversing the patch: ${files.join(", ")} differ`);
    this.name = "TreeNotPristineError";
  }
};
var InterruptedError = class extends Error {
  constructor(signal, tree) {
    super(`interrupted by ${signal}: the patch was reversed and ${tree} is pristine again`);
    this.signal = signal;
    this.name = "InterruptedError";
  }
  signal;
  get exitCode() {
    return 128 + (os.constants.signals[this.signal] ?? 0);
  }
};
var TreeLeftPatchedError = class extends Error {
  constructor(tree, files, why) {
    super(
      `${tree} was left patched by a ksplice-create that was killed (journal ${path2.join(tree, PATCH_JOURNAL)}): ${files.join(", ")} differ from the pristine tree and ${why}; restore those files from the kernel source and remove the journal`
    );
    this.name = "TreeLeftPatchedError";
  }
};
var journalDir = (tree) => path2.join(tree, PATCH_JOURNAL);
async function writeJournal(tree, patchPath, files, before) {
  const staging = `${journalDir(tree)}.${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  await writeFile(path2.join(staging, "patch"), await readFile(patchPath));
  const journal = { files, before: [...before], pid: process.pid };
  await writeFile(path2.join(staging, "journal.json"), JSON.stringify(journal));
  await rename(staging, journalDir(tree));
}
async function readJournal(tree) {
  const text = await readFile(path2.join(journalDir(tree), "journal.json"), "utf8").catch(() => null);
  return text === null ? null : JSON.parse(text);
}
async function recoverInterruptedRun(tree, log = stderrSink) {
  const journal = await readJournal(tree);
  if (!journal) return;
  const before = new Map(journal.before);
  const differ = changedFiles(before, await fingerprintFiles(tree, journal.files));
  if (differ.length > 0) {
    log(`a previous ksplice-create (pid ${journal.pid}) was killed with its patch applied to ${differ.join(", ")}: reversing it`);
    try {
      await reversePatch(tree, path2.join(journalDir(tree), "patch"));
    } catch {
      throw new TreeLeftPatchedError(tree, differ, "the journaled patch does not reverse cleanly");
    }
    await removeEmptyDirsLeftBy(tree, journal.files, before);
    const still = changedFiles(before, await fingerprintFiles(tree, journal.files));
    if (still.length > 0) throw new TreeLeftPatchedError(tree, still, "reversing the journaled patch did not give back the pristine files");
    log(`${tree} is pristine again`);
  }
  await rm(journalDir(tree), { recursive: true, force: true });
}
async function withPatchApplied(tree, patchPath, work, log = stderrSink) {
  const files = touchedFiles(await readFile(patchPath, "utf8"));
  const before = await fingerprintFiles(tree, files);
  await writeJournal(tree, patchPath, files, before);
  const applying = applyPatch(tree, patchPath);
  let restoring = null;
  const restore = () => restoring ??= applying.then(
    () => reverseAndVerify(tree, patchPath, files, before),
    () => undoFailedApply(tree, patchPath, files, before)
  );
  let interrupted = null;
  const onSignal = (signal) => {
    if (interrupted) return;
    interrupted = signal;
    const done = new InterruptedError(signal, tree);
    restore().then(
      () => log(done.message),
      (e) => log(`interrupted by ${signal}, and the tree could not be restored: ${e.message}`)
    ).finally(() => process.exit(done.exitCode));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const finish = async () => {
    try {
      await restore();
    } finally {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
    if (interrupted) throw new InterruptedError(interrupted, tree);
  };
  let result;
  try {
    await applying;
    result = await work();
  } catch (e) {
    await finish();
    throw e;
  }
  await finish();
  return result;
}
async function reverseAndVerify(tree, patchPath, files, before) {
  await reversePatch(tree, patchPath);
  await removeEmptyDirsLeftBy(tree, files, before);
  const stillDifferent = changedFiles(before, await fingerprintFiles(tree, files));
  if (stillDifferent.length > 0) throw new TreeNotPristineError(tree, stillDifferent);
  await rm(journalDir(tree), { recursive: true, force: true });
}
async function undoFailedApply(tree, patchPath, files, before) {
  if (changedFiles(before, await fingerprintFiles(tree, files)).length > 0) return reverseAndVerify(tree, patchPath, files, before);
  await rm(journalDir(tree), { recursive: true, force: true });
}
async function removeEmptyDirsLeftBy(tree, files, before) {
  for (const file of files) {
    if (before.get(file) !== null) continue;
    let dir = path2.dirname(file);
    while (dir !== "." && (await readdir(path2.join(tree, dir)).catch(() => ["?"])).length === 0) {
      await rm(path2.join(tree, dir), { recursive: true });
      dir = path2.dirname(dir);
    }
  }
}

// src/create/header-users.ts
import { readFile as readFile2 } from "node:fs/promises";
import path3 from "node:path";
var X86_INCLUDE_ROOTS = [
  "arch/x86/include/",
  "arch/x86/include/generated/",
  "include/",
  "arch/x86/include/uapi/",
  "arch/x86/include/generated/uapi/",
  "include/uapi/",
  "include/generated/uapi/"
];
var OTHER_ARCHES = "alpha|arc|arm|arm64|csky|hexagon|ia64|loongarch|m68k|microblaze|mips|nios2|openrisc|parisc|powerpc|riscv|s390|sh|sparc|um|xtensa";
function parseIncludeLines(grepOutput) {
  const lines = [];
  const otherArch = new RegExp(`^arch/(${OTHER_ARCHES})/`);
  for (const line of grepOutput.split("\n")) {
    const m = /^\.\/([^:]+):\s*#\s*include\s*([<"])([^>"]+)[>"]/.exec(line);
    if (!m || otherArch.test(m[1])) continue;
    lines.push({ includer: m[1], name: m[3], quoted: m[2] === '"' });
  }
  return lines;
}
function angleNamesOf(header2) {
  return X86_INCLUDE_ROOTS.filter((root2) => header2.startsWith(root2)).map((root2) => header2.slice(root2.length));
}
function push(map, key, value) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
function indexIncludes(lines) {
  const index = { byName: /* @__PURE__ */ new Map(), byQuotedPath: /* @__PURE__ */ new Map() };
  for (const line of lines) {
    push(index.byName, line.name, line.includer);
    if (line.quoted) {
      push(index.byQuotedPath, path3.posix.normalize(path3.posix.join(path3.posix.dirname(line.includer), line.name)), line.includer);
    }
  }
  return index;
}
function includersOf(index, header2) {
  return [...index.byQuotedPath.get(header2) ?? [], ...angleNamesOf(header2).flatMap((name) => index.byName.get(name) ?? [])];
}
function filesIncluding(index, file) {
  const reached = /* @__PURE__ */ new Set([file]);
  const queue = [file];
  while (queue.length > 0) {
    for (const includer of includersOf(index, queue.shift())) {
      if (reached.has(includer)) continue;
      reached.add(includer);
      queue.push(includer);
    }
  }
  return [...reached];
}
var isCompiled = (f) => /\.(c|S)$/.test(f);
function includeGraphFrom(lines, scope = "all") {
  const index = indexIncludes(lines);
  return {
    scope,
    filesIncluding: (file) => filesIncluding(index, file),
    sourcesIncluding: (file) => filesIncluding(index, file).filter(isCompiled).sort(),
    forcedThrough: (file, forced) => {
      const reached = new Set(filesIncluding(index, file));
      return forced.find((f) => reached.has(f));
    }
  };
}
var INCLUDE_LINE = {
  all: '^\\s*#\\s*include\\s*[<"]',
  // About 500 lines in 6.1, and a faster read than the 335k of 'all'.
  "c-files": '^\\s*#\\s*include\\s*[<"][^>"]*\\.c[>"]'
};
async function readIncludeGraph(tree, scope = "all") {
  const result = await runUnchecked(
    "grep",
    [
      "-rEH",
      "--include=*.c",
      "--include=*.h",
      "--include=*.S",
      INCLUDE_LINE[scope],
      "--exclude-dir=Documentation",
      "--exclude-dir=tools",
      "--exclude-dir=samples",
      "--exclude-dir=.git",
      "."
    ],
    { cwd: tree }
  );
  return includeGraphFrom(parseIncludeLines(result.stdout), scope);
}
var FLAG_MAKEFILES = ["Makefile", "scripts/Makefile.lib", "arch/x86/Makefile"];
async function forcedIncludes(tree) {
  const forced = /* @__PURE__ */ new Set();
  for (const makefile of FLAG_MAKEFILES) {
    const text = await readFile2(path3.join(tree, makefile), "utf8").catch(() => "");
    for (const m of text.matchAll(/-include \$\((?:srctree|objtree)\)\/(\S+\.h)\b/g)) forced.add(m[1]);
  }
  return [...forced].sort();
}
function dependencyPath(token, tree) {
  const inTree = tree && token.startsWith(`${tree}/`) ? token.slice(tree.length + 1) : token;
  return path3.posix.normalize(inTree.replace(/^\$\(srctree\)\//, ""));
}
async function objectDependsOn(tree, object, file) {
  const cmdFile = path3.join(tree, path3.dirname(object), `.${path3.basename(object)}.cmd`);
  const text = await readFile2(cmdFile, "utf8");
  return text.split(/\s+/).some((token) => dependencyPath(token, path3.resolve(tree)) === file);
}

// src/create/double-build.ts
var UnsupportedPatchError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "UnsupportedPatchError";
  }
};
function isCompiledSource(file) {
  return /\.(c|S)$/.test(file);
}
function objectOf(source) {
  return source.replace(/\.(c|S)$/, ".o");
}
function isHeader(file) {
  return file.endsWith(".h");
}
function isOutsideTheBuild(file) {
  return /^(Documentation|LICENSES|samples|tools)\//.test(file) || /(^|\/)(MAINTAINERS|CREDITS|README[^/]*)$/.test(file);
}
var MAX_OBJECTS_PER_UPDATE = 100;
function refuseForcedHeader(file, graph, forced) {
  const via = graph.forcedThrough(file, forced);
  if (!via) return;
  const how = via === file ? "kbuild forces it into every compile with -include" : `${via} includes it and kbuild forces that into every compile with -include`;
  throw new UnsupportedPatchError(`${file} is in every object of the kernel (${how}): too wide for a targeted update`);
}
async function builtUsersOf(file, graphs, built) {
  let graph = await graphs.get(isHeader(file) ? "all" : "c-files");
  if (graph.scope === "c-files" && graph.filesIncluding(file).some(isHeader)) graph = await graphs.get("all");
  return graph.sourcesIncluding(file).filter((source) => built.has(objectOf(source)));
}
function includeGraphs(tree) {
  const read = /* @__PURE__ */ new Map();
  return {
    get(scope) {
      if (!read.has(scope)) read.set(scope, readIncludeGraph(tree, scope));
      return read.get(scope);
    }
  };
}
async function planObjects(tree, files, log) {
  const unsupported = files.filter((f) => !isCompiledSource(f) && !isHeader(f) && !isOutsideTheBuild(f));
  if (unsupported.length > 0) {
    throw new UnsupportedPatchError(
      `the patch changes build files, not code: ${unsupported.join(", ")}; Kconfig and Makefile changes need a new kernel, not an update`
    );
  }
  const built = await kbuildObjects(tree, log);
  const graphs = includeGraphs(tree);
  const forced = await forcedIncludes(tree);
  const planned = /* @__PURE__ */ new Map();
  const notBuilt = [];
  const add = (source, because) => {
    const object = objectOf(source);
    const entry = planned.get(object) ?? { object, home: built.get(object), because: [] };
    entry.because.push(because);
    planned.set(object, entry);
  };
  for (const file of files.filter((f) => isCompiledSource(f) || isHeader(f))) {
    if (isHeader(file)) refuseForcedHeader(file, await graphs.get("all"), forced);
    const users = await builtUsersOf(file, graphs, built);
    if (users.length > MAX_OBJECTS_PER_UPDATE) {
      throw new UnsupportedPatchError(
        `${file} is included by ${users.length} objects of this config (more than ${MAX_OBJECTS_PER_UPDATE}): too wide for a targeted update`
      );
    }
    if (users.length === 0 && isCompiledSource(file)) notBuilt.push(file);
    for (const source of users) add(source, file);
  }
  return { objects: [...planned.values()].sort((a, b) => a.object.localeCompare(b.object)), notBuilt };
}
async function doubleBuild(options) {
  const { tree, patchPath, outDir } = options;
  const log = options.log ?? stderrSink;
  const jobs = options.jobs ?? os2.availableParallelism();
  const progress = new Progress("double build", 3, log);
  return withLock(
    `${tree}.build.lock`,
    async () => {
      progress.step(`checking that ${path4.basename(patchPath)} applies; planning objects`);
      await recoverInterruptedRun(tree, (l) => progress.info(l));
      await assertPatchApplies(tree, patchPath);
      const plan = await planObjects(tree, touchedFiles(await readFile3(patchPath, "utf8")), (l) => progress.info(l));
      for (const source of plan.notBuilt) progress.info(`${source} is not compiled in this configuration: skipped`);
      const preDir = path4.join(outDir, "pre");
      const postDir = path4.join(outDir, "post");
      progress.step(`pre build: ${plan.objects.length} object(s)`);
      await removeObjects(
        tree,
        plan.objects.map((o) => o.object)
      );
      await buildObjects(
        tree,
        plan.objects.map((o) => o.object),
        jobs,
        progress
      );
      const objects = await dropObjectsNotDependingOnTheirHeaders(tree, plan.objects);
      await collectObjects(tree, objects, preDir);
      progress.step(`post build (patch applied): ${objects.join(" ")}`);
      if (objects.length === 0) {
        progress.done("no object of this configuration is affected by the patch");
        return {
          objects,
          notBuilt: plan.notBuilt,
          homes: Object.fromEntries(plan.objects.map((o) => [o.object, o.home])),
          preDir,
          postDir,
          timingsMs: progress.timings
        };
      }
      await withPatchApplied(
        tree,
        patchPath,
        async () => {
          await buildObjects(tree, objects, jobs, progress);
          await collectObjects(tree, objects, postDir);
        },
        log
      );
      progress.done(`${objects.length} object(s) built twice; tree pristine again`);
      return {
        objects,
        notBuilt: plan.notBuilt,
        homes: Object.fromEntries(plan.objects.map((o) => [o.object, o.home])),
        preDir,
        postDir,
        timingsMs: progress.timings
      };
    },
    log
  );
}
async function dropObjectsNotDependingOnTheirHeaders(tree, planned) {
  const kept = [];
  for (const entry of planned) {
    for (const reason of entry.because) {
      if (objectOf(reason) === entry.object || await objectDependsOn(tree, entry.object, reason)) {
        kept.push(entry.object);
        break;
      }
    }
  }
  return kept;
}
async function buildObjects(tree, objects, jobs, progress) {
  const make = (j) => run("make", [...kbuildArgs(tree, j), ...objects], {
    onLine: (line) => /\b(warning|error):/i.test(line) ? progress.info(line.trim()) : progress.heartbeat(line)
  });
  if (jobs === 1) return void await make(1);
  try {
    await make(jobs);
  } catch (e) {
    if (!(e instanceof CommandError) || e.exitCode === null) throw e;
    progress.info(`the parallel build failed (exit ${e.exitCode}); building again with one job`);
    await make(1);
  }
}
async function removeObjects(tree, objects) {
  for (const object of objects) await rm2(path4.join(tree, object), { force: true });
}
async function collectObjects(tree, objects, dest) {
  for (const object of objects) {
    await mkdir2(path4.dirname(path4.join(dest, object)), { recursive: true });
    await copyFile(path4.join(tree, object), path4.join(dest, object));
  }
}

// src/create/kernel-inputs.ts
import { readFile as readFile4, stat } from "node:fs/promises";
import path5 from "node:path";
var BadInputError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "BadInputError";
  }
};
async function exists(file) {
  return stat(file).then(
    () => true,
    () => false
  );
}
async function utsRelease(dir) {
  const text = await readFile4(path5.join(dir, "include/generated/utsrelease.h"), "utf8").catch(() => null);
  return text ? /UTS_RELEASE "([^"]+)"/.exec(text)?.[1] ?? null : null;
}
async function resolveKernelInputs(sourceDir, configDir = path5.join(sourceDir, "ksplice")) {
  if (!await exists(path5.join(sourceDir, "Makefile")) || !await exists(path5.join(sourceDir, "kernel"))) {
    throw new BadInputError(`${sourceDir} is not a kernel source tree (no Makefile and kernel/)`);
  }
  const config = path5.join(configDir, ".config");
  const systemMap = path5.join(configDir, "System.map");
  const headersDir = path5.join(configDir, "build");
  const missing = [];
  if (!await exists(config)) missing.push(`${config} (cp /boot/config-$(uname -r) ${config})`);
  if (!await exists(systemMap)) missing.push(`${systemMap} (the real System.map of the running kernel)`);
  if (!await exists(path5.join(headersDir, "Makefile")))
    missing.push(`${headersDir} (ln -s /lib/modules/$(uname -r)/build ${headersDir})`);
  if (missing.length > 0) throw new BadInputError(`missing in the config directory:
  ${missing.join("\n  ")}`);
  const symbols = await readSystemMap(systemMap).catch((e) => {
    throw new BadInputError(e.message);
  });
  const release = await utsRelease(headersDir);
  if (!release) throw new BadInputError(`${headersDir} has no include/generated/utsrelease.h: not the headers of a built kernel`);
  const treeConfig = await readFile4(path5.join(sourceDir, ".config"), "utf8").catch(() => null);
  if (treeConfig === null)
    throw new BadInputError(
      `${sourceDir} has no .config: cp ${config} ${sourceDir}/.config and run make olddefconfig prepare modules_prepare`
    );
  if (treeConfig !== await readFile4(config, "utf8")) {
    throw new BadInputError(`${sourceDir}/.config differs from ${config}: the tree must be configured as the running kernel`);
  }
  const treeRelease = await utsRelease(sourceDir);
  if (treeRelease === null) throw new BadInputError(`${sourceDir} is not prepared: run make olddefconfig prepare modules_prepare`);
  if (treeRelease !== release) {
    throw new BadInputError(`kernel release mismatch: the source tree builds ${treeRelease}, the headers are for ${release}`);
  }
  const vmlinux = path5.join(configDir, "vmlinux");
  const modulesDir = path5.join(configDir, "modules");
  return {
    sourceDir,
    configDir,
    config,
    systemMap,
    headersDir,
    release,
    symbols,
    vmlinux: await exists(vmlinux) ? vmlinux : void 0,
    modulesDir: await exists(path5.join(modulesDir, "modules.order")) ? modulesDir : void 0
  };
}

// src/create/object-module.ts
import { readFile as readFile5 } from "node:fs/promises";
import path6 from "node:path";
function kbuildModuleName(cmdText) {
  return /-DKBUILD_MODNAME='"([^"']+)"'/.exec(cmdText)?.[1] ?? null;
}
async function moduleOfObject(tree, object, home) {
  if (home === "vmlinux") return "vmlinux";
  const cmdFile = path6.join(tree, path6.dirname(object), `.${path6.basename(object)}.cmd`);
  const name = kbuildModuleName(await readFile5(cmdFile, "utf8"));
  if (!name) throw new Error(`${cmdFile} defines no KBUILD_MODNAME: cannot tell which module ${object} is part of`);
  return name;
}

// src/x86/relocation-values.ts
var MASK64 = (1n << 64n) - 1n;
function signExtend32(value) {
  return value >= 0x80000000n ? value - 0x100000000n : value;
}
function impliedSymbolValue(type, stored, place, addend) {
  switch (type) {
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
      return place + signExtend32(stored) - addend & MASK64;
    case R_X86_64_32S:
      return signExtend32(stored) - addend & MASK64;
    case R_X86_64_32:
      return stored - addend & MASK64;
    case R_X86_64_64:
      return stored - addend & MASK64;
    case R_X86_64_PC64:
      return place + stored - addend & MASK64;
    default:
      throw new Error(`relocation type ${type} has no x86-64 value rule`);
  }
}
function relocationResult(type, symbolValue, place, addend) {
  switch (type) {
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
    case R_X86_64_PC64:
      return symbolValue + addend - place & MASK64;
    case R_X86_64_32S:
    case R_X86_64_32:
    case R_X86_64_64:
      return symbolValue + addend & MASK64;
    default:
      throw new Error(`relocation type ${type} has no x86-64 value rule`);
  }
}

// src/create/reproduction-check.ts
function hasCode(sym) {
  return isFunction(sym) && sym.size > 0 && sym.section !== null && isExecutable(sym.section);
}
function hex(n) {
  return `0x${n.toString(16)}`;
}
function anchorsOf(obj, section) {
  return obj.symbols.filter((s) => s.section === section && s.name !== "" && !isSectionSymbol(s) && s.shndx !== SHN_ABS);
}
function cString(data, offset) {
  const end = data.indexOf(0, offset);
  return data.toString("latin1", offset, end === -1 ? data.length : end);
}
function relocationProblem(ctx, rela, place, stored) {
  const implied = impliedSymbolValue(rela.type, stored, place, rela.addend);
  const sym = rela.symbol;
  const section = sym.section;
  if (!isSectionSymbol(sym)) {
    const candidates = ctx.map.addresses(sym.name);
    if (candidates.length === 0) return learn(ctx, `symbol ${sym.name}`, implied);
    return candidates.includes(implied) ? null : `${relocationName(rela.type)} to ${sym.name}: the shipped code refers to ${hex(implied)}, System.map has ${sym.name} at ${candidates.map(hex).join(", ")}`;
  }
  if (!section) return `relocation against an undefined section symbol`;
  if (isMergeStrings(section)) {
    const offset = relocationTarget(rela.type, rela.addend, true);
    const expected = cString(section.data, offset);
    const pointed = implied + BigInt(offset);
    const shipped = ctx.kernel.stringAt(pointed);
    return shipped === expected ? null : `string reference: the build has ${JSON.stringify(expected)}, the shipped code points at ${shipped === null ? "nothing" : JSON.stringify(shipped)}`;
  }
  for (const anchor of anchorsOf(ctx.obj, section)) {
    const candidates = ctx.map.addresses(anchor.name);
    if (candidates.length === 0) continue;
    const bases = candidates.map((a) => a - BigInt(anchor.value));
    return bases.includes(implied) ? null : `${relocationName(rela.type)} to section ${section.name}: the shipped code refers to ${hex(implied)}, where System.map puts it at ${bases.map(hex).join(", ")} (through ${anchor.name})`;
  }
  return learn(ctx, `section ${section.name}`, implied);
}
function learn(ctx, key, value) {
  const known = ctx.learned.get(key);
  if (known === void 0) {
    ctx.learned.set(key, value);
    return null;
  }
  return known === value ? null : `references to ${key} disagree: ${hex(known)} and ${hex(value)}`;
}
function readStored(bytes, offset, width) {
  let value = 0n;
  for (let i = width - 1; i >= 0; i--) value = value << 8n | BigInt(bytes[offset + i]);
  return value;
}
function firstDifference(ctx, fn, address) {
  const section = fn.section;
  const code = section.data.subarray(fn.value, fn.value + fn.size);
  const shipped = ctx.kernel.bytesAt(address, code.length);
  if (!shipped) return { offset: 0, reason: `System.map address ${hex(address)} is outside the shipped vmlinux` };
  const covered = new Uint8Array(code.length);
  const problems = [];
  for (const rela of relaFor(ctx.obj, section)?.entries ?? []) {
    const offset = rela.offset - fn.value;
    if (offset < 0 || offset >= code.length || rela.type === R_X86_64_NONE) continue;
    const width = relocationWidth(rela.type);
    covered.fill(1, offset, offset + width);
    const problem = relocationProblem(ctx, rela, address + BigInt(offset), readStored(shipped, offset, width));
    if (problem) problems.push({ offset, reason: problem });
  }
  for (let i = 0; i < code.length; i++) {
    if (!covered[i] && code[i] !== shipped[i]) {
      problems.push({ offset: i, reason: `byte ${hex(i)} is ${hex(code[i])} in the build, ${hex(shipped[i])} in the shipped kernel` });
      break;
    }
  }
  problems.sort((a, b) => a.offset - b.offset);
  return problems[0] ?? null;
}
function checkReproduction(obj, objectName, map, kernel) {
  const report = { checked: [], notInKernel: [], overriddenWeak: [], mismatches: [] };
  for (const fn of obj.symbols.filter(hasCode)) {
    const candidates = map.addresses(fn.name);
    if (candidates.length === 0) {
      report.notInKernel.push(fn.name);
      continue;
    }
    let best = null;
    let matched = null;
    for (const address of candidates) {
      const ctx = { obj, map, kernel, learned: /* @__PURE__ */ new Map() };
      const difference = firstDifference(ctx, fn, address);
      if (!difference) {
        matched = address;
        break;
      }
      if (!best || difference.offset > best.difference.offset) best = { address, difference };
    }
    if (matched !== null) report.checked.push({ object: objectName, function: fn.name, address: matched });
    else if (fn.bind === STB_WEAK) report.overriddenWeak.push(fn.name);
    else if (best)
      report.mismatches.push({ object: objectName, function: fn.name, offset: best.difference.offset, reason: best.difference.reason });
  }
  return report;
}

// src/create/shipped-kernel.ts
import { readFile as readFile6 } from "node:fs/promises";
var PT_LOAD = 1;
function parseShippedKernel(file) {
  if (file.length < 64 || file.readUInt32BE(0) !== 2135247942 || file[4] !== 2 || file[5] !== 1) {
    throw new Error("the shipped vmlinux is not a little-endian ELF64 file");
  }
  const phoff = Number(file.readBigUInt64LE(32));
  const phentsize = file.readUInt16LE(54);
  const phnum = file.readUInt16LE(56);
  const segments = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (o + 56 > file.length) throw new Error("the shipped vmlinux has a truncated program header table");
    if (file.readUInt32LE(o) !== PT_LOAD) continue;
    segments.push({
      vaddr: file.readBigUInt64LE(o + 16),
      fileOffset: Number(file.readBigUInt64LE(o + 8)),
      fileSize: Number(file.readBigUInt64LE(o + 32))
    });
  }
  if (segments.length === 0) throw new Error("the shipped vmlinux has no loadable segment");
  const locate = (address, length) => {
    for (const s of segments) {
      if (address < s.vaddr) continue;
      const delta = Number(address - s.vaddr);
      if (delta + length <= s.fileSize) return s.fileOffset + delta;
    }
    return null;
  };
  return shippedImage(file, locate);
}
function shippedImage(file, locate) {
  return {
    bytesAt(address, length) {
      const at = locate(address, length);
      return at === null ? null : file.subarray(at, at + length);
    },
    stringAt(address, max = 4096) {
      const at = locate(address, 1);
      if (at === null) return null;
      const end = file.indexOf(0, at);
      return file.toString("latin1", at, end === -1 ? Math.min(file.length, at + max) : Math.min(end, at + max));
    }
  };
}
async function openShippedKernel(vmlinux) {
  return parseShippedKernel(await readFile6(vmlinux));
}

// src/create/shipped-module.ts
import { readFile as readFile7 } from "node:fs/promises";
import path7 from "node:path";
var MODULE_BASE = 0xffffffffc0000000n;
var EXTERNAL_BASE = 0xffffffffb0000000n;
var EXTERNAL_STRIDE = 0x10n;
function alignUp(value, align) {
  return align > 1n ? (value + align - 1n) / align * align : value;
}
function linkShippedModule(ko) {
  const base = /* @__PURE__ */ new Map();
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
  const externals = /* @__PURE__ */ new Map();
  const valueOf = (sym) => {
    if (sym.shndx === SHN_ABS) return BigInt(sym.value);
    if (sym.section && base.has(sym.section)) return base.get(sym.section) + BigInt(sym.value);
    let at = externals.get(sym.name);
    if (at === void 0) {
      at = EXTERNAL_BASE + BigInt(externals.size) * EXTERNAL_STRIDE;
      externals.set(sym.name, at);
    }
    return at;
  };
  const symbols = [];
  for (const sym of ko.symbols) {
    if (sym.name === "" || sym.type === STT_SECTION || sym.type === STT_FILE) continue;
    symbols.push({ address: valueOf(sym), type: sym.shndx === SHN_UNDEF ? "U" : "t", name: sym.name });
  }
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
  const locate = (address, length) => {
    if (address < MODULE_BASE || address + BigInt(length) > end) return null;
    return Number(address - MODULE_BASE);
  };
  const kernel = shippedImage(image, locate);
  return { kernel, map: new SystemMapIndex(symbols) };
}
async function shippedModulePath(modulesDir, module) {
  const order = await readFile7(path7.join(modulesDir, "modules.order"), "utf8").catch(() => {
    throw new Error(`no modules.order in ${modulesDir}: the shipped modules are needed to check a module's pre build`);
  });
  const wanted = module.replace(/-/g, "_");
  const entry = order.split("\n").find((line) => path7.basename(line, ".ko").replace(/-/g, "_") === wanted);
  if (!entry) throw new Error(`module ${module} is not among the shipped modules of ${modulesDir} (modules.order)`);
  return path7.join(modulesDir, entry);
}

// src/package/update-tarball.ts
import { createHash as createHash2 } from "node:crypto";

// src/package/tar.ts
import { gunzipSync, gzipSync } from "node:zlib";
var TarballError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "TarballError";
  }
};
var BLOCK = 512;
var MAX_UNPACKED_BYTES = 256 * 1024 * 1024;
function octal(value, width) {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}
function splitName(name) {
  if (Buffer.byteLength(name) <= 100) return { prefix: "", name };
  for (let i = name.lastIndexOf("/"); i > 0; i = name.lastIndexOf("/", i - 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { prefix, name: rest };
  }
  throw new TarballError(`path too long for a ustar tarball: ${name}`);
}
function header(name, size, mode, type) {
  const block = Buffer.alloc(BLOCK);
  const parts = splitName(name);
  block.write(parts.name, 0, 100);
  block.write(octal(mode, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(0, 12), 136);
  block.write("        ", 148);
  block.write(type, 156);
  block.write("ustar\0", 257);
  block.write("00", 263);
  block.write("root", 265);
  block.write("root", 297);
  block.write(parts.prefix, 345, 155);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + " ", 148);
  return block;
}
function checkEntryPath(path15) {
  if (!isSafeRelativePath(path15)) throw new TarballError(`unsafe path in tarball: '${path15}'`);
}
function isSafeRelativePath(path15) {
  if (path15 === "" || path15.startsWith("/") || /[\\\0]/.test(path15)) return false;
  return path15.replace(/\/$/, "").split("/").every((c) => c !== "" && c !== "." && c !== "..");
}
function writeTarGz(entries) {
  const files = [...entries].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const dirs = /* @__PURE__ */ new Set();
  for (const file of files) {
    checkEntryPath(file.path);
    const parts = file.path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/") + "/");
  }
  const seen = /* @__PURE__ */ new Set();
  const blocks = [];
  const all = [...[...dirs].map((d) => ({ path: d, dir: true })), ...files.map((f) => ({ ...f, dir: false }))].sort(
    (a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0
  );
  for (const entry of all) {
    if (seen.has(entry.path)) throw new TarballError(`duplicate tarball entry: ${entry.path}`);
    seen.add(entry.path);
    if (entry.dir) {
      blocks.push(header(entry.path, 0, 493, "5"));
      continue;
    }
    blocks.push(header(entry.path, entry.data.length, entry.executable ? 493 : 420, "0"));
    blocks.push(entry.data);
    const pad = (BLOCK - entry.data.length % BLOCK) % BLOCK;
    if (pad) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

// src/package/update-tarball.ts
var MANIFEST_FORMAT = 1;
function updateIdFor(...inputs) {
  const hash = createHash2("sha256");
  for (const input of inputs) hash.update(input).update("\0");
  return BigInt(`0x${hash.digest("hex").slice(0, 16)}`).toString(36).padStart(8, "0").slice(-8);
}
function isValidUpdateId(id) {
  return /^[a-z0-9][a-z0-9_-]{0,31}$/.test(id);
}
function sha256(data) {
  return createHash2("sha256").update(data).digest("hex");
}
function formatManifest(manifest) {
  const { files, ...rest } = manifest;
  const head = JSON.stringify(rest, null, 2).replace(/\n}$/, "");
  const lines = files.map((f) => `    ${JSON.stringify({ path: f.path, sha256: f.sha256 }).replace(/,/g, ", ").replace(/":/g, '": ')}`);
  return `${head},
  "files": [
${lines.join(",\n")}
  ]
}
`;
}
function writeUpdateTarball(fields, files) {
  if (!isValidUpdateId(fields.id)) throw new TarballError(`invalid update id '${fields.id}' (lowercase letters, digits, _ and -)`);
  const sorted = [...files].sort((a, b) => a.path < b.path ? -1 : 1);
  const manifest = {
    formatVersion: MANIFEST_FORMAT,
    ...fields,
    files: sorted.map((f) => ({ path: f.path, sha256: sha256(f.data) }))
  };
  const top = `ksplice-${fields.id}`;
  const entries = [
    { path: `${top}/manifest.json`, data: Buffer.from(formatManifest(manifest)) },
    ...sorted.map((f) => ({ path: `${top}/${f.path}`, data: f.data, executable: f.executable }))
  ];
  return writeTarGz(entries);
}

// src/create/update-module.ts
import { readFile as readFile9, writeFile as writeFile3, mkdir as mkdir3 } from "node:fs/promises";
import path9 from "node:path";

// src/diff/extract.ts
var ExtractError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "ExtractError";
  }
};
function extractFunctions(obj, names, options = {}) {
  return new Extractor(obj, options.correlation).run(names, options.data ?? []);
}
var Extractor = class {
  constructor(obj, correlation) {
    this.obj = obj;
    this.correlation = correlation;
    this.index = new ObjectIndex(obj);
  }
  obj;
  correlation;
  index;
  sections = [];
  symbols = [];
  relas = /* @__PURE__ */ new Map();
  /** Original definition → its copy. */
  copies = /* @__PURE__ */ new Map();
  externals = /* @__PURE__ */ new Map();
  stringSections = /* @__PURE__ */ new Map();
  sectionSymbols = /* @__PURE__ */ new Map();
  specialCopies = /* @__PURE__ */ new Map();
  constantPools = /* @__PURE__ */ new Map();
  /** The running kernel's name for a symbol of this object (its pre partner's, when known). */
  kernelName(sym) {
    return this.correlation?.postToPre.get(sym)?.name ?? sym.name;
  }
  run(names, dataNames) {
    const functions = this.withColdParts(names.map((n) => this.definition(n, "function")));
    const data = dataNames.map((n) => this.definition(n, "data"));
    for (const def of [...functions, ...data]) this.copyDefinition(def);
    for (const def of [...functions, ...data]) this.copyRelocations(def);
    this.copySpecialEntries(functions);
    this.sections.push(newSection({ name: ".note.GNU-stack", type: SHT_PROGBITS }));
    for (const [target, entries] of this.relas) {
      this.sections.push(
        newSection({
          name: `.rela${target.name}`,
          type: SHT_RELA,
          flags: SHF_INFO_LINK,
          addralign: 8n,
          entsize: 24n,
          rela: { target, entries }
        })
      );
    }
    return {
      header: { ...this.obj.header },
      sections: this.sections,
      symbols: [...this.symbols, ...[...this.externals.values()].map((e) => e.symbol)],
      externals: [...this.externals.values()].map((e) => e.ref)
    };
  }
  definition(name, kind) {
    const list = kind === "function" ? this.index.functions : this.index.dataObjects;
    const sym = list.find((s) => s.name === name);
    if (!sym) throw new ExtractError(`no ${kind} named '${name}' in the object`);
    return sym;
  }
  /** A function's `.cold` fragment is part of its code: `foo` brings `foo.cold`. */
  withColdParts(functions) {
    const wanted = new Set(functions.map((f) => f.name));
    const cold = this.index.functions.filter((f) => isColdPart(f.name) && wanted.has(coldOwner(f.name)) && !wanted.has(f.name));
    return [...functions, ...cold];
  }
  /** The section name for a copy: the original when the definition had it to itself. */
  copyDefinition(def) {
    const from = def.section;
    const alone = this.index.definitionsIn(from).filter((s) => s.type === def.type).length === 1;
    const section = newSection({
      name: alone ? from.name : `${from.name}.${def.name}`,
      type: from.type,
      flags: from.flags & ~SHF_GROUP,
      addralign: from.addralign,
      entsize: from.entsize,
      data: from.type === SHT_NOBITS ? Buffer.alloc(0) : Buffer.from(symbolBytes(def)),
      size: def.size
    });
    this.sections.push(section);
    const copy = { ...def, index: 0, section, value: 0 };
    this.symbols.push(copy);
    this.copies.set(def, copy);
  }
  copyRelocations(def) {
    const copy = this.copies.get(def);
    for (const rela of this.index.relocationsIn(def.section, def.value, def.size)) {
      this.addRela(copy.section, { ...this.retarget(rela, def.section), offset: rela.offset - def.value, type: rela.type });
    }
  }
  addRela(section, rela) {
    const list = this.relas.get(section);
    if (list) list.push(rela);
    else this.relas.set(section, [rela]);
  }
  /**
   * The symbol and addend a copied relocation uses.
   *
   * Example: `call helper` (PLT32 `.text.helper`-4, helper static and not copied) → PLT32
   * undefined `helper`-4, external {helper, local}. `lea .LC3-4(%rip)` → PC32 to a label on the
   * copied string, -4.
   */
  retarget(rela, from) {
    const ref = this.index.referent(rela, from);
    switch (ref.kind) {
      case "symbol": {
        const copy = this.copies.get(ref.symbol);
        if (copy) return { symbol: copy, addend: ref.offset };
        const kind = isFunction(ref.symbol) ? "function" : "data";
        return { symbol: this.external(this.kernelName(ref.symbol), ref.symbol.bind, ref.symbol.type, kind), addend: ref.offset };
      }
      case "string":
        return { symbol: this.stringLabel(ref.section, ref.text), addend: ref.offset };
      case "section":
        if (isMergeConstants(ref.section)) return { symbol: this.sectionSymbol(this.constantPool(ref.section)), addend: ref.offset };
        return { symbol: this.external(ref.section.name, STB_LOCAL, STT_NOTYPE, "section"), addend: ref.offset };
      case "external":
        return { symbol: this.external(ref.symbol.name, ref.symbol.bind, ref.symbol.type, "other"), addend: ref.offset };
    }
  }
  external(name, bind, type, kind) {
    let e = this.externals.get(name);
    if (!e) {
      const symbol = {
        index: 0,
        name,
        bind: bind === STB_WEAK ? STB_WEAK : STB_GLOBAL,
        type: kind === "section" ? STT_NOTYPE : type,
        other: 0,
        section: null,
        shndx: 0,
        value: 0,
        size: 0
      };
      e = { symbol, ref: { name, local: bind === STB_LOCAL, kind } };
      this.externals.set(name, e);
    }
    return e.symbol;
  }
  /** A local label on a copy of the string, in a string section like the original (kept mergeable). */
  stringLabel(original, text) {
    let strings = this.stringSections.get(original);
    if (!strings) {
      const section = newSection({
        name: original.name,
        type: original.type,
        flags: original.flags & ~SHF_GROUP,
        addralign: original.addralign,
        entsize: original.entsize
      });
      this.sections.push(section);
      strings = { section, labels: /* @__PURE__ */ new Map() };
      this.stringSections.set(original, strings);
    }
    let label = strings.labels.get(text);
    if (!label) {
      const section = strings.section;
      const value = section.data.length;
      const width = Math.max(1, Number(original.entsize));
      const bytes = Buffer.concat([Buffer.from(text, "latin1"), Buffer.alloc(width)]);
      section.data = Buffer.concat([section.data, bytes]);
      section.size = section.data.length;
      label = {
        index: 0,
        name: `.LC${this.symbols.length}`,
        bind: STB_LOCAL,
        type: STT_NOTYPE,
        other: 0,
        section,
        shndx: 0,
        value,
        size: 0
      };
      this.symbols.push(label);
      strings.labels.set(text, label);
    }
    return label;
  }
  /**
   * A whole copy of a literal-constant pool the code reads: constants have no identity, so the
   * update may carry its own, and a copy that keeps every offset needs no guess at which entry a
   * PC-relative displacement means.
   *
   * Example: hrtimer_nanosleep_restart's `movzwl .LC2(%rip),%edx` (PC32 `.LC2`-4, a label at
   * `.rodata.cst2`+0) → PC32 to the copied `.rodata.cst2` + 0 - 4.
   */
  constantPool(original) {
    let copy = this.constantPools.get(original);
    if (!copy) {
      copy = newSection({
        name: original.name,
        type: original.type,
        flags: original.flags & ~SHF_GROUP,
        addralign: original.addralign,
        entsize: original.entsize,
        data: Buffer.from(original.data),
        size: original.data.length
      });
      this.constantPools.set(original, copy);
      this.sections.push(copy);
    }
    return copy;
  }
  sectionSymbol(section) {
    let sym = this.sectionSymbols.get(section);
    if (!sym) {
      sym = { index: 0, name: "", bind: STB_LOCAL, type: STT_SECTION, other: 0, section, shndx: 0, value: 0, size: 0 };
      this.sectionSymbols.set(section, sym);
      this.symbols.push(sym);
    }
    return sym;
  }
  specialCopy(original) {
    let copy = this.specialCopies.get(original.name);
    if (!copy) {
      copy = newSection({
        name: original.name,
        type: original.type,
        flags: original.flags & ~SHF_GROUP,
        addralign: original.addralign,
        entsize: original.entsize
      });
      this.specialCopies.set(original.name, copy);
      this.sections.push(copy);
    }
    return copy;
  }
  append(section, bytes) {
    const align = Math.max(1, Number(section.addralign));
    const start = Math.ceil(section.data.length / align) * align;
    section.data = Buffer.concat([section.data, Buffer.alloc(start - section.data.length), bytes]);
    section.size = section.data.length;
    return start;
  }
  /**
   * The entries of the special sections that describe copied functions, in their original order
   * (which keeps `.orc_unwind` entry i paired with `.orc_unwind_ip` entry i).
   */
  copySpecialEntries(functions) {
    const byFunction = specialEntriesByFunction(this.index);
    const chosen = /* @__PURE__ */ new Map();
    for (const fn of functions) {
      for (const e of byFunction.get(fn) ?? []) chosen.set(e.section, [...chosen.get(e.section) ?? [], e]);
    }
    for (const [original, entries] of chosen) {
      entries.sort((a, b) => a.index - b.index);
      const layout = specialSectionLayout(original.name);
      const copy = this.specialCopy(original);
      for (const e of entries) {
        const bytes = Buffer.alloc(layout.entrySize);
        original.data.copy(bytes, 0, e.start, Math.min(e.start + layout.entrySize, original.size));
        const start = this.append(copy, bytes);
        for (const rela of this.index.relocationsIn(original, e.start, layout.entrySize)) {
          const fieldOffset = rela.offset - e.start;
          const target = layout.payload?.field === fieldOffset ? this.copyPayload(original, e, rela) : this.retarget(rela, original);
          this.addRela(copy, { ...target, offset: start + fieldOffset, type: rela.type });
        }
      }
    }
  }
  /** An alternative's replacement code, copied into our own `.altinstr_replacement`. */
  copyPayload(original, entry, rela) {
    const payload = entry.layout.payload;
    const from = rela.symbol.section;
    if (!from) return this.retarget(rela, original);
    const start = rela.symbol.value + Number(rela.addend);
    const length = original.data[entry.start + payload.lengthOffset];
    const copy = this.specialCopy(from);
    const at = this.append(copy, Buffer.from(from.data.subarray(start, start + length)));
    for (const inner of this.index.relocationsIn(from, start, length)) {
      this.addRela(copy, { ...this.retarget(inner, from), offset: at + inner.offset - start, type: inner.type });
    }
    return { symbol: this.sectionSymbol(copy), addend: BigInt(at) };
  }
};

// src/elf/writer.ts
var EHDR_SIZE = 64;
var SHDR_SIZE = 64;
var SYM_SIZE = 24;
var RELA_SIZE = 24;
var StringTable = class {
  offsets = /* @__PURE__ */ new Map([["", 0]]);
  parts = [Buffer.from([0])];
  length = 1;
  add(s) {
    let off = this.offsets.get(s);
    if (off === void 0) {
      off = this.length;
      const bytes = Buffer.from(s + "\0", "utf8");
      this.parts.push(bytes);
      this.length += bytes.length;
      this.offsets.set(s, off);
    }
    return off;
  }
  toBuffer() {
    return Buffer.concat(this.parts, this.length);
  }
};
function writeElf(obj) {
  const symbols = [...obj.symbols.filter((s) => s.bind === STB_LOCAL), ...obj.symbols.filter((s) => s.bind !== STB_LOCAL)];
  const firstGlobal = 1 + symbols.filter((s) => s.bind === STB_LOCAL).length;
  const symbolIndex = /* @__PURE__ */ new Map([[NULL_SYMBOL, 0]]);
  symbols.forEach((s, i) => symbolIndex.set(s, i + 1));
  const indexOfSymbol = (s, user) => {
    const i = symbolIndex.get(s);
    if (i === void 0) throw new ElfFormatError(`${user} refers to symbol '${s.name}', which is not in the object's symbol list`);
    return i;
  };
  const sectionIndex = /* @__PURE__ */ new Map();
  obj.sections.forEach((s, i) => sectionIndex.set(s, i + 1));
  const indexOfSection = (s, user) => {
    const i = sectionIndex.get(s);
    if (i === void 0) throw new ElfFormatError(`${user} refers to section '${s.name}', which is not in the object`);
    return i;
  };
  const symtabIndex = obj.sections.length + 1;
  const needsXindex = obj.sections.length + 4 >= SHN_LORESERVE;
  const strtabIndex = symtabIndex + 1;
  const xindexIndex = needsXindex ? strtabIndex + 1 : -1;
  const shstrtabIndex = (needsXindex ? xindexIndex : strtabIndex) + 1;
  const shnum = shstrtabIndex + 1;
  const strtab = new StringTable();
  const symtabData = Buffer.alloc((symbols.length + 1) * SYM_SIZE);
  const xindexData = needsXindex ? Buffer.alloc((symbols.length + 1) * 4) : null;
  symbols.forEach((s, i) => {
    const o = (i + 1) * SYM_SIZE;
    symtabData.writeUInt32LE(strtab.add(s.name), o);
    symtabData[o + 4] = s.bind << 4 | s.type & 15;
    symtabData[o + 5] = s.other;
    let shndx = s.section ? indexOfSection(s.section, `symbol '${s.name}'`) : s.shndx;
    if (s.section && shndx >= SHN_LORESERVE) {
      xindexData.writeUInt32LE(shndx, (i + 1) * 4);
      shndx = SHN_XINDEX;
    }
    symtabData.writeUInt16LE(shndx, o + 6);
    symtabData.writeBigUInt64LE(BigInt(s.value), o + 8);
    symtabData.writeBigUInt64LE(BigInt(s.size), o + 16);
  });
  const shstrtab = new StringTable();
  const out = obj.sections.map((section) => {
    let data = section.data;
    let link = section.link;
    let info = section.info;
    let entsize = section.entsize;
    if (section.type === SHT_RELA && section.rela) {
      const { target, entries } = section.rela;
      data = Buffer.alloc(entries.length * RELA_SIZE);
      entries.forEach((r, k) => {
        const o = k * RELA_SIZE;
        data.writeBigUInt64LE(BigInt(r.offset), o);
        data.writeUInt32LE(r.type, o + 8);
        data.writeUInt32LE(indexOfSymbol(r.symbol, `${section.name} entry ${k}`), o + 12);
        data.writeBigInt64LE(r.addend, o + 16);
      });
      link = symtabIndex;
      info = indexOfSection(target, section.name);
      entsize = BigInt(RELA_SIZE);
    } else if (section.type === SHT_GROUP && section.group) {
      const { flags, signature, members } = section.group;
      data = Buffer.alloc(4 + members.length * 4);
      data.writeUInt32LE(flags, 0);
      members.forEach((m, k) => data.writeUInt32LE(indexOfSection(m, `group ${section.name}`), 4 + k * 4));
      link = symtabIndex;
      info = indexOfSymbol(signature, `group ${section.name}`);
      entsize = 4n;
    } else if (section.linkTo) {
      link = indexOfSection(section.linkTo, `${section.name} sh_link`);
    }
    return { section, nameOffset: shstrtab.add(section.name), data, link, info, offset: 0, entsize };
  });
  const synthetic = (name, type, data, link, info, align, entsize) => ({
    section: { index: 0, name, type, flags: 0n, addr: 0n, addralign: align, entsize, data, size: data.length, link, info },
    nameOffset: shstrtab.add(name),
    data,
    link,
    info,
    offset: 0,
    entsize
  });
  out.push(synthetic(".symtab", SHT_SYMTAB, symtabData, strtabIndex, firstGlobal, 8n, BigInt(SYM_SIZE)));
  out.push(synthetic(".strtab", SHT_STRTAB, strtab.toBuffer(), 0, 0, 1n, 0n));
  if (xindexData) out.push(synthetic(".symtab_shndx", SHT_SYMTAB_SHNDX, xindexData, symtabIndex, 0, 4n, 4n));
  const shstrtabEntry = synthetic(".shstrtab", SHT_STRTAB, Buffer.alloc(0), 0, 0, 1n, 0n);
  out.push(shstrtabEntry);
  shstrtabEntry.data = shstrtab.toBuffer();
  shstrtabEntry.section.size = shstrtabEntry.data.length;
  let cursor = EHDR_SIZE;
  for (const s of out) {
    if (s.section.type === SHT_NOBITS) {
      s.offset = cursor;
      continue;
    }
    const align = Math.max(1, Number(s.section.addralign));
    cursor = Math.ceil(cursor / align) * align;
    s.offset = cursor;
    cursor += s.data.length;
  }
  const shoff = Math.ceil(cursor / 8) * 8;
  const file = Buffer.alloc(shoff + shnum * SHDR_SIZE);
  file.writeUInt32BE(2135247942, 0);
  file[4] = 2;
  file[5] = 1;
  file[6] = 1;
  file[7] = obj.header.osabi;
  file[8] = obj.header.abiversion;
  file.writeUInt16LE(ET_REL, 16);
  file.writeUInt16LE(obj.header.machine, 18);
  file.writeUInt32LE(1, 20);
  file.writeBigUInt64LE(BigInt(shoff), 40);
  file.writeUInt32LE(obj.header.flags, 48);
  file.writeUInt16LE(EHDR_SIZE, 52);
  file.writeUInt16LE(SHDR_SIZE, 58);
  file.writeUInt16LE(shnum >= SHN_LORESERVE ? 0 : shnum, 60);
  file.writeUInt16LE(shstrtabIndex >= SHN_LORESERVE ? SHN_XINDEX : shstrtabIndex, 62);
  if (shnum >= SHN_LORESERVE) file.writeBigUInt64LE(BigInt(shnum), shoff + 32);
  if (shstrtabIndex >= SHN_LORESERVE) file.writeUInt32LE(shstrtabIndex, shoff + 40);
  out.forEach((s, i) => {
    const o = shoff + (i + 1) * SHDR_SIZE;
    const sec = s.section;
    file.writeUInt32LE(s.nameOffset, o);
    file.writeUInt32LE(sec.type, o + 4);
    file.writeBigUInt64LE(sec.flags, o + 8);
    file.writeBigUInt64LE(sec.addr, o + 16);
    file.writeBigUInt64LE(BigInt(s.offset), o + 24);
    file.writeBigUInt64LE(BigInt(sec.type === SHT_NOBITS ? sec.size : s.data.length), o + 32);
    file.writeUInt32LE(s.link, o + 40);
    file.writeUInt32LE(s.info, o + 44);
    file.writeBigUInt64LE(sec.addralign, o + 48);
    file.writeBigUInt64LE(s.entsize, o + 56);
    if (sec.type !== SHT_NOBITS) s.data.copy(file, s.offset);
  });
  return file;
}

// src/kbuild/external-module.ts
import { writeFile as writeFile2 } from "node:fs/promises";
import path8 from "node:path";
async function buildExternalModule(opts) {
  const includes = (opts.includeDirs ?? []).map((d) => `-I${d}`).join(" ");
  const composite = opts.parts.length !== 1 || opts.parts[0] !== `${opts.moduleName}.o`;
  await writeFile2(
    path8.join(opts.dir, "Kbuild"),
    `obj-m := ${opts.moduleName}.o
${composite ? `${opts.moduleName}-y := ${opts.parts.join(" ")}
` : ""}${includes ? `ccflags-y := ${includes}
` : ""}`
  );
  await run("make", [
    "-C",
    opts.headersDir,
    `M=${opts.dir}`,
    ...opts.extraSymbols?.length ? [`KBUILD_EXTRA_SYMBOLS=${opts.extraSymbols.join(" ")}`] : [],
    // the scratch folder's name must not reach the debug info (nor so the build-id): same inputs, same .ko
    `KCFLAGS=-ffile-prefix-map=${opts.dir}=${opts.moduleName}`,
    ...opts.unresolvedAllowed ? ["KBUILD_MODPOST_WARN=1"] : [],
    "modules"
  ]);
  return path8.join(opts.dir, `${opts.moduleName}.ko`);
}

// src/create/klp-relocations.ts
import { readFile as readFile8 } from "node:fs/promises";
var SHN_LIVEPATCH = 65312;
var SHF_RELA_LIVEPATCH = 0x00100000n;
async function readExports(symversFiles) {
  const names = /* @__PURE__ */ new Set();
  for (const file of symversFiles) {
    for (const line of (await readFile8(file, "utf8")).split("\n")) {
      const name = line.split("	")[1];
      if (name) names.add(name);
    }
  }
  return names;
}
function isUndefinedSymbol(sym) {
  return sym.section === null && sym.shndx === 0 && sym.name !== "";
}
function unresolvedNames(obj, exported) {
  const defined = new Set(obj.symbols.filter((s) => s.section !== null).map((s) => s.name));
  const names = obj.symbols.filter((s) => isUndefinedSymbol(s) && !defined.has(s.name) && !exported.has(s.name)).map((s) => s.name);
  return [...new Set(names)].sort();
}
function klpSymbolName(name, position) {
  return `.klp.sym.vmlinux.${name},${position}`;
}
function klpRelaName(target) {
  return `.klp.rela.vmlinux.${target.name}`;
}
function toKlpRelocations(obj, names, positionOf) {
  const wanted = new Set(names);
  const klpSymbols = /* @__PURE__ */ new Set();
  const made = [];
  for (const sym of obj.symbols) {
    if (!isUndefinedSymbol(sym) || !wanted.has(sym.name)) continue;
    const name = klpSymbolName(sym.name, positionOf(sym.name));
    sym.name = name;
    sym.shndx = SHN_LIVEPATCH;
    klpSymbols.add(sym);
    made.push(name);
  }
  const added = [];
  for (const section of obj.sections) {
    if (!section.rela) continue;
    const moved = section.rela.entries.filter((r) => klpSymbols.has(r.symbol));
    if (moved.length === 0) continue;
    section.rela.entries = section.rela.entries.filter((r) => !klpSymbols.has(r.symbol));
    added.push(
      newSection({
        name: klpRelaName(section.rela.target),
        type: SHT_RELA,
        flags: SHF_RELA_LIVEPATCH | SHF_INFO_LINK,
        addralign: 8n,
        entsize: 24n,
        rela: { target: section.rela.target, entries: moved }
      })
    );
  }
  obj.sections.push(...added);
  return made;
}

// src/x86/site-forms.ts
var JMP_REL32 = 233;
var TWO_BYTE_OPCODE = 15;
var CS_PREFIX = 46;
var JMP_REL8 = 235;
var NOP2_FIRST = 102;
var THUNK_REGISTERS = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
function relocationSiteLength(type) {
  return type === R_X86_64_64 || type === R_X86_64_PC64 ? 8 : 4;
}
function isPcRelative32(type) {
  return type === R_X86_64_PC32 || type === R_X86_64_PLT32;
}
function returnThunkLength(firstByte) {
  return firstByte === TWO_BYTE_OPCODE ? 6 : 5;
}
function retpolineSite(code, offset, thunk) {
  const prefix = code[offset] === CS_PREFIX ? 1 : 0;
  const opcode = code[offset + prefix];
  const conditional = opcode === TWO_BYTE_OPCODE;
  const reg = THUNK_REGISTERS.indexOf(thunk.replace("__x86_indirect_thunk_", ""));
  if (reg < 0) throw new Error(`retpoline site at +0x${offset.toString(16)}: unknown thunk '${thunk}'`);
  return { length: prefix + (conditional ? 6 : 5), reg, isJump: conditional || opcode === JMP_REL32 };
}
function isJumpOpcode(firstByte) {
  return firstByte === JMP_REL32;
}
function jumpLabelLength(firstByte) {
  return firstByte === JMP_REL8 || firstByte === NOP2_FIRST ? 2 : 5;
}
var FENTRY_CALL_LENGTH = 5;
var STATIC_CALL_LENGTH = 5;
var PARAVIRT_LENGTH_OFFSET = 9;
var ALT_INSTR = { replOffset: 4, instrLenOffset: 10, replLenOffset: 11 };
var JUMP_ENTRY = { targetOffset: 4 };

// src/create/run-pre-sites.ts
var RunPreError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "RunPreError";
  }
};
function objectAnchor(obj, map) {
  for (const s of obj.symbols) {
    if (s.type !== STT_FUNC || !s.section || s.section.name !== `.text.${s.name}`) continue;
    const a = map.unique(s.name);
    if (a !== void 0) return a;
  }
  throw new RunPreError("no function of the object has a unique System.map name");
}
function outputSectionClass(name) {
  const classes = [".text.unlikely", ".text", ".rodata", ".bss", ".data..percpu", ".data..read_mostly", ".data..ro_after_init", ".data"];
  return classes.find((c) => name === c || name.startsWith(`${c}.`)) ?? name;
}
function anchorFor(obj, name, map) {
  const own = obj.symbols.find((s) => s.name === name && s.section !== null && s.type !== STT_SECTION);
  if (own) {
    const cls = outputSectionClass(own.section.name);
    for (const s of obj.symbols) {
      if (!s.section || !s.name || s.type === STT_SECTION || s.type === STT_FILE || outputSectionClass(s.section.name) !== cls) continue;
      const a = map.unique(s.name);
      if (a !== void 0) return a;
    }
  }
  return objectAnchor(obj, map);
}
function nearestPosition(candidates, anchor) {
  const distance = (a) => a > anchor ? a - anchor : anchor - a;
  let best = 0;
  candidates.forEach((c, i) => {
    if (distance(c) < distance(candidates[best])) best = i;
  });
  return best + 1;
}
function sectionHolder(obj, section) {
  const held = obj.symbols.filter((s) => s.section === section && s.value === 0 && s.type !== STT_SECTION && s.type !== STT_FILE && s.name);
  return held.length === 1 ? held[0].name : void 0;
}
function isMergedStrings(section) {
  return section !== null && (section.flags & (SHF_MERGE | SHF_STRINGS)) === (SHF_MERGE | SHF_STRINGS);
}
function referencedString(rela) {
  const section = rela.symbol.section;
  if (!isMergedStrings(section)) return void 0;
  const at = rela.symbol.value + Number(rela.addend) + (isPcRelative32(rela.type) ? 4 : 0);
  const end = section.data.indexOf(0, at);
  return at >= 0 && end >= 0 ? section.data.toString("latin1", at, end) : void 0;
}
var SiteCollector = class {
  constructor(obj, fn, map, inModule = false) {
    this.obj = obj;
    this.fn = fn;
    this.map = map;
    this.inModule = inModule;
    this.code = fn.section.data;
    this.start = fn.value;
    this.end = fn.value + fn.size;
    this.funcRelocs = (relaFor(obj, fn.section)?.entries ?? []).filter((r) => r.offset >= this.start && r.offset < this.end);
  }
  obj;
  fn;
  map;
  inModule;
  sites = [];
  code;
  start;
  end;
  funcRelocs;
  /** Offset inside this function a special-section entry points at (s32 `. - site` or abs64), if it does. */
  offsetInFunction(rela) {
    if (rela.symbol.section !== this.fn.section) return void 0;
    const target = rela.symbol.value + Number(rela.addend);
    return target >= this.start && target < this.end ? target - this.start : void 0;
  }
  byte(offset) {
    return this.code[this.start + offset];
  }
  /**
   * The symbol of the first relocation inside the instruction at `offset`. First by offset, not by
   * table order: objtool appends the relocations it adds (e.g. sched/core.o's deactivate_task lists
   * `jmp __x86_indirect_thunk_rax` at +0x3f after `call update_rq_clock` at +0x45).
   */
  relocSymbolAt(offset) {
    let first;
    for (const r of this.funcRelocs) {
      const at = r.offset - this.start;
      if (at >= offset && at < offset + 8 && (!first || r.offset < first.offset)) first = r;
    }
    return first?.symbol.name;
  }
  /**
   * A module target's relocation: the module's own symbols (defined in the object, or a section's
   * holder) have no System.map address, the engine resolves them in the loaded module by name; an
   * undefined symbol System.map has is a vmlinux export (computed with the slide); any other one
   * (`__this_module`, another module's export) is looked for in the module, else learned.
   * Example: `call bm_entry_read` (static) → symbol bm_entry_read, symbolInModule; `call kfree` → System.map.
   */
  moduleRelocation(r) {
    const sym = r.symbol;
    let name = sym.name;
    let mapAddr;
    if (sym.type === STT_SECTION) name = (sym.section ? sectionHolder(this.obj, sym.section) : void 0) ?? sym.section?.name ?? name;
    else if (sym.section === null) mapAddr = this.map.unique(sym.name);
    const targetString = sym.type === STT_SECTION ? referencedString(r) : void 0;
    return {
      offset: r.offset - this.start,
      length: relocationSiteLength(r.type),
      kind: "RELOC",
      relocType: r.type,
      symbol: name,
      symbolMapAddr: mapAddr ?? 0n,
      symbolIsPercpu: mapAddr !== void 0 && this.map.isPerCpu(mapAddr),
      symbolInModule: mapAddr === void 0 && targetString === void 0,
      targetString,
      addend: r.addend
    };
  }
  relocations() {
    if (this.inModule) {
      for (const r of this.funcRelocs) this.sites.push(this.moduleRelocation(r));
      return;
    }
    for (const r of this.funcRelocs) {
      const sym = r.symbol;
      let name = sym.name;
      let mapAddr;
      if (sym.type === STT_SECTION) {
        const held = sym.section ? sectionHolder(this.obj, sym.section) : void 0;
        if (held) {
          mapAddr = this.map.unique(held);
          if (mapAddr !== void 0) name = held;
        }
        if (mapAddr === void 0 && sym.section) name = sym.section.name;
      } else {
        mapAddr = this.map.unique(sym.name);
      }
      const targetString = mapAddr === void 0 && sym.type === STT_SECTION ? referencedString(r) : void 0;
      this.sites.push({
        offset: r.offset - this.start,
        length: relocationSiteLength(r.type),
        kind: "RELOC",
        relocType: r.type,
        symbol: name,
        symbolMapAddr: mapAddr ?? 0n,
        symbolIsPercpu: mapAddr !== void 0 && this.map.isPerCpu(mapAddr),
        targetString,
        addend: r.addend
      });
    }
  }
  /** Every entry of a special section whose site field points into this function (entry sizes: src/x86/special-sections.ts). */
  entries(sectionName, each) {
    const entrySize = specialSectionLayout(sectionName).entrySize;
    for (const section of this.obj.sections.filter((s) => s.name === sectionName)) {
      for (const r of relaFor(this.obj, section)?.entries ?? []) {
        if (r.offset % entrySize !== 0) continue;
        const offset = this.offsetInFunction(r);
        if (offset !== void 0) each(offset, r.offset, section);
      }
    }
  }
  runtimePatched() {
    this.entries("__mcount_loc", (t) => this.sites.push({ offset: t, length: FENTRY_CALL_LENGTH, kind: "FENTRY", symbol: "__fentry__" }));
    this.entries(
      ".return_sites",
      (t) => this.sites.push({ offset: t, length: returnThunkLength(this.byte(t)), kind: "RETURN_THUNK", symbol: "__x86_return_thunk" })
    );
    this.entries(".retpoline_sites", (t) => {
      const thunk = this.relocSymbolAt(t) ?? "";
      this.sites.push({ offset: t, kind: "RETPOLINE", symbol: thunk, ...retpolineSite(this.code, this.start + t, thunk) });
    });
    this.entries(
      ".static_call_sites",
      (t) => this.sites.push({
        offset: t,
        length: STATIC_CALL_LENGTH,
        kind: "STATIC_CALL",
        symbol: this.relocSymbolAt(t),
        isJump: isJumpOpcode(this.byte(t))
      })
    );
    this.entries(".smp_locks", (t) => this.sites.push({ offset: t, length: 1, kind: "LOCK_PREFIX" }));
    this.entries(
      ".parainstructions",
      (t, entry, section) => this.sites.push({
        offset: t,
        length: section.data[entry + PARAVIRT_LENGTH_OFFSET],
        kind: "PARAVIRT",
        symbol: this.relocSymbolAt(t) ?? "pv_ops",
        replacements: []
      })
    );
    this.alternatives();
    this.jumpLabels();
  }
  /** An alternative at the place of a paravirt site widens it and adds its replacement there. */
  alternatives() {
    this.entries(".altinstructions", (t, entry, alt) => {
      const instrLen = alt.data[entry + ALT_INSTR.instrLenOffset];
      const replLen = alt.data[entry + ALT_INSTR.replLenOffset];
      if (instrLen === 0) return;
      const replRela = relaFor(this.obj, alt)?.entries.find((r) => r.offset === entry + ALT_INSTR.replOffset);
      const from = replRela?.symbol.section;
      const at = replRela ? replRela.symbol.value + Number(replRela.addend) : 0;
      const replacement = from && from.name === ".altinstr_replacement" ? Buffer.from(from.data.subarray(at, at + replLen)) : Buffer.alloc(0);
      const same = this.sites.find((s) => s.offset === t && (s.kind === "ALTERNATIVE" || s.kind === "PARAVIRT"));
      if (same) {
        same.length = Math.max(same.length, instrLen);
        same.replacements.push(replacement);
      } else {
        this.sites.push({ offset: t, length: instrLen, kind: "ALTERNATIVE", replacements: [replacement] });
      }
    });
  }
  jumpLabels() {
    this.entries("__jump_table", (t, entry, table) => {
      const targetRela = relaFor(this.obj, table)?.entries.find((r) => r.offset === entry + JUMP_ENTRY.targetOffset);
      const target = targetRela && this.offsetInFunction(targetRela);
      if (target === void 0)
        throw new RunPreError(
          `${this.fn.name}: jump label at +0x${t.toString(16)} jumps outside the function (not supported by the engine yet)`
        );
      this.sites.push({ offset: t, length: jumpLabelLength(this.byte(t)), kind: "JUMP_LABEL", targetOffset: target });
    });
  }
  /** Sorted by offset; at equal offsets the runtime-patched site before the relocation inside it. */
  sorted() {
    return this.sites.sort((a, b) => a.offset - b.offset || (a.kind === "RELOC" ? 1 : 0) - (b.kind === "RELOC" ? 1 : 0));
  }
};
function runPreSites(obj, fn, map, inModule = false) {
  const collector = new SiteCollector(obj, fn, map, inModule);
  collector.relocations();
  collector.runtimePatched();
  return collector.sorted();
}
function functionSymbol(obj, name) {
  const fn = obj.symbols.find((s) => s.name === name && s.type === STT_FUNC && s.section !== null);
  if (!fn) throw new RunPreError(`${name} is not a function of the pre object`);
  return fn;
}
function isTraceable(sites) {
  return sites.some((s) => s.kind === "FENTRY");
}
function runPreTarget(obj, name, map, companion = false) {
  const fn = functionSymbol(obj, name);
  const candidates = map.addresses(name);
  if (candidates.length === 0) throw new RunPreError(`${name}: not in System.map (inlined everywhere, or not linked into vmlinux)`);
  const sites = runPreSites(obj, fn, map);
  if (!companion && !isTraceable(sites)) throw new RunPreError(`${name}: no fentry call (notrace): ftrace cannot redirect it`);
  const sympos = candidates.length > 1 ? nearestPosition(candidates, anchorFor(obj, name, map)) : 0;
  return {
    name,
    mapAddr: candidates.length === 1 ? candidates[0] : 0n,
    candidates,
    sympos,
    pre: Buffer.from(fn.section.data.subarray(fn.value, fn.value + fn.size)),
    sites,
    companion
  };
}
function runPreModuleTarget(obj, name, map, module, companion = false) {
  const fn = functionSymbol(obj, name);
  if (obj.symbols.filter((s) => s.name === name && s.type === STT_FUNC && s.section !== null).length > 1) {
    throw new RunPreError(`${name}: defined several times in the object of module ${module}`);
  }
  const sites = runPreSites(obj, fn, map, true);
  if (!companion && !isTraceable(sites)) throw new RunPreError(`${name}: no fentry call (notrace): ftrace cannot redirect it`);
  return {
    name,
    mapAddr: 0n,
    candidates: [],
    sympos: 0,
    module,
    pre: Buffer.from(fn.section.data.subarray(fn.value, fn.value + fn.size)),
    sites,
    companion
  };
}
function coldPartOf(obj, name) {
  const cold = obj.symbols.find((s) => s.name === `${name}.cold` && s.type === STT_FUNC && s.size > 0);
  return cold?.name;
}

// src/create/hooks.ts
var HOOK_STAGES = [
  "pre_apply",
  "check_apply",
  "apply",
  "post_apply",
  "fail_apply",
  "pre_reverse",
  "check_reverse",
  "reverse",
  "post_reverse",
  "fail_reverse"
];
var REFUSING = /* @__PURE__ */ new Set(["pre_apply", "check_apply", "pre_reverse", "check_reverse"]);
var HOOK_SYMBOL_PREFIX = "__ksplice_hook_";
function hookRegistrations(source) {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "");
  const out = [];
  for (const m of text.matchAll(/^[ \t]*ksplice_([a-z_]+)\s*\(\s*([A-Za-z_]\w*)\s*\)\s*;/gm)) {
    const stage = m[1];
    if (HOOK_STAGES.includes(stage)) out.push({ stage, fn: m[2] });
  }
  return out;
}
function hookSymbol(h) {
  return `${HOOK_SYMBOL_PREFIX}${h.stage}_${h.fn}`;
}
function unregisteredHooks(module, hooks) {
  const known = new Set(hooks.map(hookSymbol));
  return module.symbols.filter((s) => s.section !== null && s.name.startsWith(HOOK_SYMBOL_PREFIX) && !known.has(s.name)).map((s) => s.name);
}
function hookDispatchers(hooks) {
  const out = ["/* The author's hooks (--hooks), run in the order they were registered. */"];
  const slots = [];
  for (const stage of HOOK_STAGES) {
    const mine = hooks.filter((h) => h.stage === stage);
    if (mine.length === 0) continue;
    const refusing = REFUSING.has(stage);
    for (const h of mine) out.push(`extern ${refusing ? "int" : "void"} (*const ${hookSymbol(h)})(void);`);
    if (refusing) {
      out.push(`static int ksplice_run_${stage}(void)`, "{", "	int ret;", "");
      for (const h of mine) out.push(`	ret = ${hookSymbol(h)}();`, "	if (ret)", "		return ret;");
      out.push("	return 0;", "}");
    } else {
      out.push(`static void ksplice_run_${stage}(void)`, "{", ...mine.map((h) => `	${hookSymbol(h)}();`), "}");
    }
    slots.push(`.${stage} = ksplice_run_${stage}`);
  }
  out.push(`#define KSPLICE_HOOK_TABLE { ${slots.join(", ")} }`, "");
  return out;
}

// src/create/update-descriptor.ts
function newFunctionName(name) {
  return `ksplice_new_${cIdent(name)}`;
}
function cIdent(name) {
  return name.replace(/[^A-Za-z0-9_]/g, "_");
}
function hexBytes(buf) {
  const parts = [];
  for (let i = 0; i < buf.length; i++) parts.push(`0x${buf[i].toString(16).padStart(2, "0")}${(i + 1) % 12 === 0 ? ",\n	" : ", "}`);
  return parts.join("").trimEnd();
}
function cBytesString(s) {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 32 && c < 127 && c !== 34 && c !== 92 && c !== 63 ? s[i] : `\\${c.toString(8).padStart(3, "0")}`;
  }
  return out + '"';
}
function hexAddr(a) {
  return `0x${a.toString(16)}UL`;
}
function siteFields(s, f, i) {
  const fields = [`.offset = 0x${s.offset.toString(16)}`, `.length = ${s.length}`, `.kind = KSPLICE_SITE_${s.kind}`];
  if (s.relocType !== void 0) fields.push(`.reloc_type = ${s.relocType}`);
  if (s.symbol !== void 0) fields.push(`.symbol = ${cBytesString(s.symbol)}`);
  if (s.symbolMapAddr) fields.push(`.symbol_map_addr = ${hexAddr(s.symbolMapAddr)}`);
  if (s.symbolIsPercpu) fields.push(".symbol_is_percpu = 1");
  if (s.symbolInModule) fields.push(".symbol_in_module = 1");
  if (s.targetString !== void 0) fields.push(`.target_string = ${cBytesString(s.targetString)}`);
  if (s.addend) fields.push(`.addend = ${s.addend}L`);
  if (s.targetOffset !== void 0) fields.push(`.target_offset = 0x${s.targetOffset.toString(16)}`);
  if (s.reg !== void 0) fields.push(`.reg = ${s.reg}`);
  if (s.isJump) fields.push(".is_jump = 1");
  if (s.replacements?.length) fields.push(`.replacements = ksplice_reps_${f}_${i}`, `.nr_replacements = ${s.replacements.length}`);
  return `	{ ${fields.join(", ")} },`;
}
function targetTables(t) {
  const f = cIdent(t.name);
  const out = [`static const unsigned char ksplice_pre_${f}[${t.pre.length}] = {
	${hexBytes(t.pre)}
};`];
  t.sites.forEach((s, i) => {
    if (!s.replacements?.length) return;
    s.replacements.forEach(
      (r, k) => out.push(`static const unsigned char ksplice_rep_${f}_${i}_${k}[] = { ${r.length ? hexBytes(r) : "0"} };`)
    );
    out.push(`static const struct ksplice_alt_replacement ksplice_reps_${f}_${i}[] = {`);
    s.replacements.forEach((r, k) => out.push(`	{ ksplice_rep_${f}_${i}_${k}, ${r.length} },`));
    out.push("};");
  });
  out.push(`static const struct ksplice_site ksplice_sites_${f}[] = {`, ...t.sites.map((s, i) => siteFields(s, f, i)), "};");
  if (!t.mapAddr && !t.module)
    out.push(`static const unsigned long ksplice_candidates_${f}[] = { ${t.candidates.map(hexAddr).join(", ")} };`);
  return [...out, ""];
}
function loadedSymbolTables(symbols) {
  if (symbols.length === 0) return [];
  const quads = symbols.map((s) => `	"	.quad \\"${s.name}\\"\\n"`);
  return [
    "/* Non-exported kernel symbols as the module loader resolved them (.klp.rela): checked at apply. */",
    'asm(".pushsection .rodata.ksplice_loaded_values, \\"a\\"\\n"',
    '	"	.balign 8\\n"',
    '	"ksplice_loaded_values:\\n"',
    ...quads,
    '	"	.popsection\\n");',
    "extern const unsigned long ksplice_loaded_values[];",
    "static const struct ksplice_loaded_symbol ksplice_loaded_symbols[] = {",
    ...symbols.map(
      (s, i) => `	{ .name = ${cBytesString(s.name)}, .map_addr = ${hexAddr(s.mapAddr)},${s.isPercpu ? " .is_percpu = 1," : ""} .loaded = &ksplice_loaded_values[${i}] },`
    ),
    "};",
    ""
  ];
}
function funcEntry(t) {
  const f = cIdent(t.name);
  const lines = [`	{`, `		.name = ${cBytesString(t.name)},`, `		.map_addr = ${hexAddr(t.mapAddr)},`];
  if (t.module) lines.push(`		.module = ${cBytesString(t.module)}, /* located in that module when it is loaded */`);
  if (t.sympos) lines.push(`		.sympos = ${t.sympos},`);
  if (!t.mapAddr && !t.module)
    lines.push(`		.map_candidates = ksplice_candidates_${f},`, `		.nr_map_candidates = ARRAY_SIZE(ksplice_candidates_${f}),`);
  lines.push(
    t.companion || !t.newFunction ? "		.new_func = NULL, /* companion: matched and stack-checked, not redirected */" : `		.new_func = ${t.newFunction},`
  );
  lines.push(
    `		.pre_code = ksplice_pre_${f},`,
    `		.pre_size = sizeof(ksplice_pre_${f}),`,
    `		.sites = ksplice_sites_${f},`,
    `		.nr_sites = ARRAY_SIZE(ksplice_sites_${f}),`,
    "	},"
  );
  return lines.join("\n");
}
function descriptorSource(input) {
  const newFunctions = input.targets.filter((t) => !t.companion && t.newFunction).map((t) => t.newFunction);
  return [
    "// SPDX-License-Identifier: GPL-2.0",
    `/* Ksplice update ${input.id}: generated by ksplice-create. Do not edit. */`,
    '#include "ksplice_update.h"',
    "",
    "/* The new code: post object functions, renamed, in the prebuilt part of this module. */",
    ...[...new Set(newFunctions)].map((n) => `extern void ${n}(void);`),
    "",
    ...input.targets.flatMap(targetTables),
    ...input.hooks?.length ? hookDispatchers(input.hooks) : [],
    ...loadedSymbolTables(input.loadedSymbols ?? []),
    "static struct ksplice_func ksplice_funcs[] = {",
    ...input.targets.map(funcEntry),
    "};",
    "",
    `static struct ksplice_update ksplice_update_${input.id.replace(/-/g, "_")} = {`,
    "	.abi_version = KSPLICE_ABI_VERSION,",
    `	.id = "${input.id}",`,
    `	.kernel_release = "${input.release}",`,
    `	.printk_map_addr = ${hexAddr(input.printkMapAddr)},`,
    `	.stop_machine_map_addr = ${hexAddr(input.stopMachineMapAddr)},`,
    ...input.modulesMapAddr ? [`	.modules_map_addr = ${hexAddr(input.modulesMapAddr)},`] : [],
    "	.funcs = ksplice_funcs,",
    "	.nr_funcs = ARRAY_SIZE(ksplice_funcs),",
    ...input.loadedSymbols?.length ? ["	.loaded_symbols = ksplice_loaded_symbols,", "	.nr_loaded_symbols = ARRAY_SIZE(ksplice_loaded_symbols),"] : [],
    ...input.hooks?.length ? ["	.hooks = KSPLICE_HOOK_TABLE,"] : [],
    "};",
    "",
    `KSPLICE_UPDATE_MODULE(ksplice_update_${input.id.replace(/-/g, "_")});`,
    ...input.livepatch ? ['MODULE_INFO(livepatch, "Y"); /* its .klp.rela sections are applied by the module loader */'] : [],
    `MODULE_DESCRIPTION("Ksplice update ${input.id}");`,
    ""
  ].join("\n");
}

// src/create/update-module.ts
var UpdateModuleError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "UpdateModuleError";
  }
};
var ModuleSymbolsError = class extends UpdateModuleError {
  constructor(object, module, names) {
    super(`${object}: the new code refers to ${names.join(", ")} of module ${module}, not exported: not supported yet`);
    this.object = object;
    this.module = module;
    this.names = names;
    this.name = "ModuleSymbolsError";
  }
  object;
  module;
  names;
};
function renameNewCode(code) {
  for (const sym of code.symbols) {
    if (sym.type !== STT_FUNC || sym.section === null) continue;
    sym.name = newFunctionName(sym.name);
    sym.bind = STB_GLOBAL;
  }
}
function targetsOf(diff, map, module) {
  const targets = [];
  const runPre = (name, companion = false) => module ? runPreModuleTarget(diff.pre, name, map, module, companion) : runPreTarget(diff.pre, name, map, companion);
  const companions = /* @__PURE__ */ new Set();
  for (const change of diff.changed) {
    for (const part of change.parts) {
      if (part.status !== "changed" || !part.pre) continue;
      if (isColdPart(part.pre.name)) {
        companions.add(part.pre.name);
        continue;
      }
      targets.push({ ...runPre(part.pre.name), newFunction: newFunctionName(part.name) });
      const cold = coldPartOf(diff.pre, part.pre.name);
      if (cold) companions.add(cold);
    }
  }
  for (const name of companions) targets.push(runPre(name, true));
  return targets;
}
function klpPosition(name, map, anchor) {
  const candidates = map.addresses(name);
  if (candidates.length === 0) throw new UpdateModuleError(`the new code refers to '${name}', which is neither exported nor in System.map`);
  if (candidates.length === 1) return 0;
  return nearestPosition(candidates, anchor);
}
function loadedSymbolsOf(unresolved, map) {
  return [...unresolved.entries()].map(([name, anchor]) => {
    const position = klpPosition(name, map, anchor);
    const mapAddr = map.addresses(name)[Math.max(position, 1) - 1];
    return { name, mapAddr, isPercpu: map.isPerCpu(mapAddr) };
  });
}
function kbuildModule(opts) {
  const { kmodDir, ...rest } = opts;
  return buildExternalModule({ ...rest, extraSymbols: [path9.join(kmodDir, "Module.symvers")], includeDirs: [kmodDir] });
}
async function buildUpdateModule(input) {
  const log = input.log ?? (() => {
  });
  const moduleName = `ksplice_${input.id.replace(/-/g, "_")}`;
  await mkdir3(input.workDir, { recursive: true });
  const targets = [];
  const replaced = [];
  const parts = ["descriptor.o"];
  const unresolved = /* @__PURE__ */ new Map();
  const exported = await readExports([path9.join(input.headersDir, "Module.symvers"), path9.join(input.kmodDir, "Module.symvers")]);
  for (const [i, { object, diff, module: home }] of input.objects.entries()) {
    const shipped = shippedFunctions(diff);
    if (shipped.length === 0) continue;
    const module = home && home !== "vmlinux" ? home : void 0;
    let objectTargets;
    try {
      objectTargets = targetsOf(diff, input.map, module);
    } catch (e) {
      if (e instanceof RunPreError) throw new UpdateModuleError(`${object}: ${e.message}`);
      throw e;
    }
    targets.push(...objectTargets);
    for (const t of objectTargets.filter((t2) => !t2.companion)) {
      if (module) {
        replaced.push({ object, function: t.name });
        continue;
      }
      const address = t.mapAddr || t.candidates[t.sympos - 1] || t.candidates[0];
      replaced.push({ object, function: t.name, address: address.toString(16).padStart(16, "0") });
    }
    const code = extractFunctions(diff.post, shipped, { data: diff.newData.map((s) => s.name), correlation: diff.correlation });
    const sectionRefs = code.externals.filter((e) => e.kind === "section");
    if (sectionRefs.length > 0) {
      throw new UpdateModuleError(
        `${object}: the new code refers to anonymous data (${sectionRefs.map((e) => e.name).join(", ")}), which the running kernel cannot name`
      );
    }
    renameNewCode(code);
    const unexported = unresolvedNames(code, exported);
    if (module && unexported.length > 0) {
      throw new ModuleSymbolsError(object, module, unexported);
    }
    for (const name of unexported) if (!unresolved.has(name)) unresolved.set(name, anchorFor(diff.pre, name, input.map));
    const part = `post-${i}.o`;
    await writeFile3(path9.join(input.workDir, `${part}_shipped`), writeElf(code));
    await writeFile3(path9.join(input.workDir, `.${part}.cmd`), `savedcmd_${part} := cat ${part}_shipped > ${part}
`);
    parts.push(part);
    log(`${object}: ${shipped.length} function(s) of new code, ${objectTargets.length} run-pre target(s)`);
  }
  if (targets.length === 0) throw new UpdateModuleError("nothing to replace: no changed function has a pre partner");
  let hooks = [];
  if (input.hooksPath) {
    const source = await readFile9(input.hooksPath, "utf8");
    hooks = hookRegistrations(source);
    await writeFile3(path9.join(input.workDir, "hooks.c"), source);
    parts.push("hooks.o");
    log(`hooks: ${hooks.map((h) => `${h.stage}(${h.fn})`).join(", ") || "none registered"} from ${input.hooksPath}`);
  }
  const livepatch = unresolved.size > 0 || input.hooksPath !== void 0;
  const build = async () => {
    await writeFile3(
      path9.join(input.workDir, "descriptor.c"),
      descriptorSource({
        id: input.id,
        release: input.release,
        targets,
        livepatch,
        loadedSymbols: loadedSymbolsOf(unresolved, input.map),
        printkMapAddr: mustUnique(input.map, "_printk"),
        stopMachineMapAddr: mustUnique(input.map, "stop_machine"),
        hooks,
        modulesMapAddr: targets.some((t) => t.module) ? mustUnique(input.map, "modules") : void 0
      })
    );
    return kbuildModule({
      dir: input.workDir,
      moduleName,
      parts,
      headersDir: input.headersDir,
      kmodDir: input.kmodDir,
      unresolvedAllowed: livepatch
    });
  };
  let ko = await build();
  if (input.hooksPath) {
    const module = readElf(await readFile9(ko));
    const missed = unregisteredHooks(module, hooks);
    if (missed.length > 0)
      throw new UpdateModuleError(
        `hook registrations ksplice-create could not read in ${input.hooksPath}: ${missed.join(", ")} (write each ksplice_<stage>(fn); on a line of its own)`
      );
    const anchorObject = input.objects[0].diff.pre;
    const before = unresolved.size;
    for (const name of unresolvedNames(module, exported)) {
      if (!unresolved.has(name) && !name.startsWith(HOOK_SYMBOL_PREFIX)) unresolved.set(name, anchorFor(anchorObject, name, input.map));
    }
    if (unresolved.size > before) ko = await build();
  }
  let klpSymbols = [];
  if (unresolved.size > 0) {
    const module = readElf(await readFile9(ko));
    klpSymbols = toKlpRelocations(module, [...unresolved.keys()], (name) => klpPosition(name, input.map, unresolved.get(name)));
    await writeFile3(ko, writeElf(module));
    log(`livepatch relocations for ${klpSymbols.join(", ")}, each checked at apply against System.map + slide`);
  }
  return { ko, moduleName, replaced, klpSymbols };
}
function mustUnique(map, name) {
  const a = map.unique(name);
  if (a === void 0) throw new UpdateModuleError(`${name} is not in System.map exactly once`);
  return a;
}

// src/kbuild/core-module.ts
import { createHash as createHash3 } from "node:crypto";
import { copyFile as copyFile2, mkdir as mkdir4, readdir as readdir2, readFile as readFile10, rm as rm3, stat as stat2, writeFile as writeFile4 } from "node:fs/promises";
import path11 from "node:path";

// src/util/repo-root.ts
import { existsSync } from "node:fs";
import path10 from "node:path";
import { fileURLToPath } from "node:url";
var root = null;
function projectRoot() {
  if (root) return root;
  for (let dir = path10.dirname(fileURLToPath(import.meta.url)); ; dir = path10.dirname(dir)) {
    if (existsSync(path10.join(dir, "kmod", "Kbuild"))) return root = dir;
    if (path10.dirname(dir) === dir)
      throw new Error(`cannot find the ksplice-action folder (with kmod/Kbuild) above ${fileURLToPath(import.meta.url)}`);
  }
}
function projectPath(...parts) {
  return path10.join(projectRoot(), ...parts);
}

// src/kbuild/core-module.ts
var READY_MARKER = ".ksplice-core-ready";
async function coreSources(sourceDir) {
  const names = await readdir2(sourceDir);
  return names.filter((n) => n === "Kbuild" || n === "Makefile" || /\.[ch]$/.test(n) && !n.endsWith(".mod.c")).sort();
}
async function buildCore(headersDir, release, options = {}) {
  const sourceDir = options.sourceDir ?? projectPath("kmod");
  const sources = await coreSources(sourceDir);
  const hash = createHash3("sha256");
  for (const name of sources)
    hash.update(`${name}\0`).update(await readFile10(path11.join(sourceDir, name))).update("\0");
  hash.update(await readFile10(path11.join(headersDir, "Module.symvers")));
  const dir = path11.join(options.cacheDir ?? defaultCacheDir(), "core", `${release}-${hash.digest("hex").slice(0, 16)}`);
  const core = { ko: path11.join(dir, "ksplice.ko"), dir };
  const ready = async () => await stat2(path11.join(dir, READY_MARKER)).catch(() => null) !== null;
  if (await ready()) return core;
  return withLock(`${dir}.lock`, async () => {
    if (await ready()) return core;
    await rm3(dir, { recursive: true, force: true });
    await mkdir4(dir, { recursive: true });
    for (const name of sources) await copyFile2(path11.join(sourceDir, name), path11.join(dir, name));
    await run("make", ["-C", headersDir, `M=${dir}`, "modules"]);
    await writeFile4(path11.join(dir, READY_MARKER), `${release}
`);
    return core;
  });
}

// src/package/update-package.ts
import { readFile as readFile11, writeFile as writeFile5, mkdir as mkdir5 } from "node:fs/promises";
import path12 from "node:path";
var TOOLS = ["ksplice-apply", "ksplice-undo", "ksplice-view"];
function packagedObjectPath(stage, object) {
  return `objects/${stage}/${object}`;
}
function bannerSourceVersion(banner) {
  return / (?:Debian|Ubuntu) (\d[A-Za-z0-9.+~:-]*) \(/.exec(banner)?.[1] ?? null;
}
async function sourceVersion(sourceDir, banner) {
  const distro = banner ? bannerSourceVersion(banner) : null;
  if (distro) return distro;
  const text = await readFile11(path12.join(sourceDir, "Makefile"), "utf8");
  const field = (name) => new RegExp(`^${name} = (\\S*)`, "m").exec(text)?.[1] ?? "";
  return [field("VERSION"), field("PATCHLEVEL"), field("SUBLEVEL")].filter(Boolean).join(".");
}
async function writeUpdatePackage(input) {
  const configText = await readFile11(input.config, "utf8");
  const patchName = path12.basename(input.patchPath).replace(/[^A-Za-z0-9._-]/g, "_");
  const files = [
    { path: "ksplice.ko", data: await readFile11(input.coreKo) },
    { path: path12.basename(input.updateKo), data: await readFile11(input.updateKo) },
    { path: patchName, data: await readFile11(input.patchPath) }
  ];
  for (const tool of TOOLS) files.push({ path: tool, data: await readFile11(path12.join(input.toolsDir, tool)), executable: true });
  for (const o of input.objects) {
    files.push({ path: packagedObjectPath("pre", o.object), data: await readFile11(o.pre) });
    files.push({ path: packagedObjectPath("post", o.object), data: await readFile11(o.post) });
  }
  const description = `Ksplice update ${input.id} for ${input.release}: replaces ${input.changed.map((c) => c.function).join(", ")} (from ${patchName})`;
  files.push({ path: "description.txt", data: Buffer.from(description + "\n") });
  const gz = writeUpdateTarball(
    {
      id: input.id,
      kernelRelease: input.release,
      sourceVersion: await sourceVersion(input.sourceDir, input.banner),
      toolchain: {
        cc: configValue(configText, "CONFIG_CC_VERSION_TEXT") ?? "",
        as: Number(configValue(configText, "CONFIG_AS_VERSION") ?? 0),
        ld: Number(configValue(configText, "CONFIG_LD_VERSION") ?? 0)
      },
      description,
      patch: patchName,
      coreModule: "ksplice.ko",
      updateModule: path12.basename(input.updateKo),
      changed: input.changed,
      new: input.new
    },
    files
  );
  await mkdir5(input.outputDir, { recursive: true });
  const tarball = path12.resolve(input.outputDir, `ksplice-${input.id}.tar.gz`);
  await writeFile5(tarball, gz);
  return tarball;
}

// src/create/create.ts
var KMOD_DIR = projectPath("kmod");
var UnknownAcceptError = class extends Error {
  constructor(names, findings) {
    super(`--accept names no finding: ${names.join(", ")} (findings: ${findings.map((f) => f.symbol).join(", ") || "none"})`);
    this.name = "UnknownAcceptError";
  }
};
var UnacceptableError = class extends Error {
  constructor(findings) {
    super(`cannot be accepted, change the patch instead:
${findings.map((f) => `  ${describeFinding(f)}`).join("\n")}`);
    this.name = "UnacceptableError";
  }
};
function applyAccepts(findings, accept, complete = true) {
  const names = new Set(accept);
  const unknown = [...names].filter((n) => !findings.some((f) => f.symbol === n));
  if (complete && unknown.length > 0) throw new UnknownAcceptError(unknown, findings);
  const never = findings.filter((f) => names.has(f.symbol) && !f.acceptable);
  if (never.length > 0) throw new UnacceptableError(never);
  return { unsafe: findings.filter((f) => !names.has(f.symbol)), accepted: findings.filter((f) => names.has(f.symbol)) };
}
var MissingVmlinuxError = class extends Error {
  constructor(configDir) {
    super(
      `no vmlinux in ${configDir}: the reproduction check compares the pre build with the shipped kernel's code; link the target's vmlinux there (Debian: from the linux-image-<release>-dbg package), or pass --skip-reproduction-check to leave that check to run-pre matching at apply time`
    );
    this.name = "MissingVmlinuxError";
  }
};
var ReproductionError = class extends Error {
  constructor(mismatches) {
    super(
      `the pre build does not reproduce the shipped kernel (wrong source, config or toolchain):
` + mismatches.slice(0, 10).map((m) => `  ${m.object}: ${m.function}+0x${m.offset.toString(16)}: ${m.reason}`).join("\n")
    );
    this.mismatches = mismatches;
    this.name = "ReproductionError";
  }
  mismatches;
};
async function refuseWhatTheSourceShows(error, patchText, tree, report, accept) {
  const findings = await sourceSafetyFindings({
    patchText: patchText.toString("utf8"),
    readPre: (file) => readFile12(path13.join(tree, file), "utf8"),
    objects: []
  });
  const { unsafe, accepted } = applyAccepts(findings, accept, false);
  if (unsafe.length === 0) return null;
  return { ...report, outcome: "unsafe", tarball: null, unsafe, accepted, notes: [`not built: ${error.message}`] };
}
function shippedBanner(shipped, map) {
  const at = map.unique("linux_banner");
  return (shipped && at !== void 0 ? shipped.stringAt(at, 512) : null) ?? void 0;
}
async function checkInputs(options, progress) {
  const inputs = await resolveKernelInputs(options.sourceDir, options.configDir);
  progress.info(`target ${inputs.release}, config dir ${inputs.configDir}`);
  if (!inputs.vmlinux && !options.skipReproductionCheck) throw new MissingVmlinuxError(inputs.configDir);
  return inputs;
}
async function buildTwice(options, patchText, inputs, outDir, report, log) {
  try {
    return await doubleBuild({ tree: inputs.sourceDir, patchPath: options.patchPath, outDir, log });
  } catch (e) {
    const refusal = e instanceof UnsupportedPatchError ? await refuseWhatTheSourceShows(e, patchText, inputs.sourceDir, report, options.accept ?? []) : null;
    if (refusal) return refusal;
    throw e;
  }
}
var MissingShippedModulesError = class extends Error {
  constructor(configDir, objects) {
    super(
      `no modules in ${configDir}: the reproduction check compares the pre build of ${objects.join(", ")} with the shipped module; link the target's /lib/modules/<release> there as modules, or pass --skip-reproduction-check`
    );
    this.name = "MissingShippedModulesError";
  }
};
async function readAndCheckObjects(build, tree, shipped) {
  let checked = 0;
  const mismatches = [];
  const objects = /* @__PURE__ */ new Map();
  const linked = /* @__PURE__ */ new Map();
  const moduleObjects = build.objects.filter((o) => build.homes[o] === "module");
  if (shipped.vmlinux && moduleObjects.length > 0 && !shipped.modulesDir)
    throw new MissingShippedModulesError(shipped.configDir, moduleObjects);
  for (const object of build.objects) {
    const pre = readElf(await readFile12(path13.join(build.preDir, object)));
    const post = readElf(await readFile12(path13.join(build.postDir, object)));
    objects.set(object, { pre, post });
    if (!shipped.vmlinux) continue;
    let against = shipped.vmlinux;
    if (build.homes[object] === "module") {
      const module = await moduleOfObject(tree, object, "module");
      if (!linked.has(module))
        linked.set(module, linkShippedModule(readElf(await readFile12(await shippedModulePath(shipped.modulesDir, module)))));
      against = linked.get(module);
    }
    const report = checkReproduction(pre, object, against.map, against.kernel);
    checked += report.checked.length;
    mismatches.push(...report.mismatches);
  }
  if (mismatches.length > 0) throw new ReproductionError(mismatches);
  return { objects, checked, modules: [...linked.keys()] };
}
async function diffEachObject(objects, build, tree) {
  const out = {
    diffs: [],
    changed: [],
    new: [],
    notes: [],
    findings: []
  };
  for (const [object, { pre, post }] of objects) {
    const diff = diffObjects(pre, post);
    const summary = summarize(diff);
    const module = await moduleOfObject(tree, object, build.homes[object] ?? "vmlinux");
    out.diffs.push({ object, diff, module });
    out.changed.push(...summary.changed.map((f) => ({ object, function: f, module })));
    out.new.push(...summary.new.map((f) => ({ object, function: f, module })));
    out.findings.push(...summary.unsafe);
    out.notes.push(...diff.notes.map((n) => `${object}: ${n}`));
    for (const f of summary.removed) out.notes.push(`${object}: ${f} removed (its callers changed and are replaced)`);
  }
  return out;
}
function safetyVerdict(report, findings, accept) {
  ({ unsafe: report.unsafe, accepted: report.accepted } = applyAccepts(findings, accept));
  if (report.unsafe.length > 0) return "unsafe";
  if (report.changed.length === 0 && report.new.length === 0) return "no-changes";
  return null;
}
async function createUpdate(options) {
  const log = options.log ?? stderrSink;
  const progress = new Progress("ksplice-create", options.analyzeOnly ? 6 : 8, log);
  const patchText = await readFile12(options.patchPath);
  progress.step("checking the kernel inputs");
  const inputs = await checkInputs(options, progress);
  progress.step("checking the toolchain");
  await checkToolchain({ config: inputs.config, vmlinux: inputs.vmlinux }, { allowMismatch: options.allowToolchainMismatch, log });
  const hooksText = options.hooksPath ? await readFile12(options.hooksPath) : null;
  const id = options.id ?? (hooksText ? updateIdFor(patchText, inputs.release, hooksText) : updateIdFor(patchText, inputs.release));
  const report = {
    id,
    kernelRelease: inputs.release,
    changed: [],
    new: [],
    unsafe: [],
    accepted: [],
    notes: [],
    reproduction: { checked: 0, shippedVmlinux: false, shippedModules: [] },
    timingsMs: progress.timings
  };
  const scratch = await mkdtemp(path13.join(os3.tmpdir(), `ksplice-create-${id}-`));
  try {
    progress.step("double build");
    const build = await buildTwice(options, patchText, inputs, scratch, report, log);
    if ("outcome" in build) return build;
    progress.step("reproduction check against the shipped vmlinux and modules");
    const map = new SystemMapIndex(inputs.symbols);
    const shipped = inputs.vmlinux ? await openShippedKernel(inputs.vmlinux) : null;
    if (!shipped)
      progress.info(
        "WARNING: reproduction check skipped (no vmlinux, as asked): the pre build is checked at apply time only (run-pre matching)"
      );
    const { objects, checked, modules } = await readAndCheckObjects(build, inputs.sourceDir, {
      vmlinux: shipped ? { kernel: shipped, map } : null,
      modulesDir: inputs.modulesDir,
      configDir: inputs.configDir
    });
    report.reproduction = { checked, shippedVmlinux: shipped !== null, shippedModules: modules };
    if (shipped)
      progress.info(
        `${checked} functions of the pre build equal the shipped code${modules.length > 0 ? ` (vmlinux, ${modules.map((m) => `${m}.ko`).join(", ")})` : ""}`
      );
    progress.step("diff");
    const { diffs, changed, new: added, notes, findings } = await diffEachObject(objects, build, inputs.sourceDir);
    Object.assign(report, { changed, new: added, notes });
    findings.push(
      ...await sourceSafetyFindings({
        patchText: patchText.toString("utf8"),
        readPre: (file) => readFile12(path13.join(inputs.sourceDir, file), "utf8"),
        objects: diffs.map(({ object, diff }) => ({ object, changedFunctions: summarize(diff).changed }))
      })
    );
    for (const c of report.changed) progress.info(`changed: ${c.function} (${c.object}, ${c.module})`);
    for (const n of report.new) progress.info(`new: ${n.function} (${n.object}, ${n.module})`);
    progress.step("safety verdict");
    const refusal = safetyVerdict(report, findings, options.accept ?? []);
    for (const a of report.accepted) progress.info(`accepted: ${describeFinding(a)}`);
    if (refusal) return { ...report, outcome: refusal, tarball: null };
    if (options.analyzeOnly) {
      progress.done(`${report.changed.length} changed, ${report.new.length} new function(s)`);
      return { ...report, outcome: "analyzed", tarball: null };
    }
    progress.step("update module");
    const core = await buildCore(inputs.headersDir, inputs.release);
    let built;
    try {
      built = await buildUpdateModule({
        id,
        release: inputs.release,
        headersDir: inputs.headersDir,
        kmodDir: core.dir,
        workDir: path13.join(scratch, "module"),
        map,
        objects: diffs,
        hooksPath: options.hooksPath,
        log: (line) => progress.info(line)
      });
    } catch (e) {
      if (!(e instanceof ModuleSymbolsError)) throw e;
      const refusal2 = finding(
        "module-code",
        e.object,
        `the object is part of a loadable module (${e.module}); its new code refers to the module's own non-exported ${e.names.slice(0, 5).join(", ")}${e.names.length > 5 ? ` and ${e.names.length - 5} more` : ""}: not supported yet`
      );
      return { ...report, outcome: "unsafe", tarball: null, unsafe: [refusal2] };
    }
    progress.step("tarball");
    const tarball = await writeUpdatePackage({
      id,
      release: inputs.release,
      sourceDir: inputs.sourceDir,
      config: inputs.config,
      patchPath: options.patchPath,
      coreKo: core.ko,
      updateKo: built.ko,
      toolsDir: path13.join(KMOD_DIR, "tools"),
      changed: built.replaced,
      new: report.new.map(({ object, function: fn }) => ({ object, function: fn })),
      objects: build.objects.map((object) => ({ object, pre: path13.join(build.preDir, object), post: path13.join(build.postDir, object) })),
      outputDir: options.outputDir ?? process.cwd(),
      banner: shippedBanner(shipped, map)
    });
    progress.done(`${report.changed.length} changed, ${report.new.length} new function(s): ${tarball}`);
    return { ...report, outcome: "built", tarball };
  } finally {
    await rm4(scratch, { recursive: true, force: true });
  }
}

// src/create/outcome.ts
function exitCodeOf(outcome) {
  return OUTCOME_EXIT_CODES[outcome.outcome];
}
function outcomeMessage(o) {
  switch (o.outcome) {
    case "built":
      return `Ksplice update tarball written to ${o.tarball}`;
    case "analyzed":
      return `Analysis only: update ${o.id} would replace ${o.changed.map((c) => c.function).join(", ")}`;
    case "no-changes":
      return "No changes detected";
    case "unsafe":
      return `the patch cannot be applied safely without custom code:
${o.unsafe.map((f) => `  ${describeFinding(f)}`).join("\n")}`;
  }
}
var OUTCOME_KINDS = Object.keys(OUTCOME_EXIT_CODES);
function outcomeToJson(o) {
  const findings = (list) => list.map(({ rule, symbol, reason, acceptable }) => ({ rule, symbol, reason, acceptable }));
  return JSON.stringify({
    outcome: o.outcome,
    id: o.id,
    tarball: o.tarball,
    kernelRelease: o.kernelRelease,
    changed: o.changed,
    new: o.new,
    unsafe: findings(o.unsafe),
    accepted: findings(o.accepted),
    notes: o.notes,
    reproduction: o.reproduction,
    timingsMs: o.timingsMs
  });
}

// src/create/cli.ts
function annotate(patchPath, outcome) {
  if (process.env.GITHUB_ACTIONS !== "true") return;
  for (const line of findingAnnotations(patchPath, outcome.unsafe, outcome.accepted)) process.stderr.write(`${line}
`);
}
runCli(CREATE_CLI, async ({ values, positionals }) => {
  if (values["kernel-release"] && positionals.length > 0) {
    throw new UsageError(
      `--kernel-release=${values["kernel-release"]} prepares its own source tree; give it or KERNEL_SOURCE (${positionals.join(" ")}), not both`
    );
  }
  if (!values.patch) throw new UsageError("--patch=FILE is required");
  if (positionals.length !== 1 && !values["kernel-release"]) {
    throw new UsageError(
      positionals.length === 0 ? "give KERNEL_SOURCE or --kernel-release=RELEASE" : `one KERNEL_SOURCE, not ${positionals.length} (${positionals.join(" ")})`
    );
  }
  const sourceDir = positionals[0] ?? (await ensureTarget({ release: values["kernel-release"] })).sourceDir;
  const outcome = await createUpdate({
    sourceDir,
    patchPath: path14.resolve(values.patch),
    configDir: values.config,
    id: values.id,
    outputDir: values["output-dir"],
    analyzeOnly: values["analyze-only"],
    allowToolchainMismatch: values["allow-toolchain-mismatch"],
    skipReproductionCheck: values["skip-reproduction-check"],
    hooksPath: values.hooks ? path14.resolve(values.hooks) : void 0,
    accept: (values.accept ?? []).flatMap((a) => a.split(",")).map((a) => a.trim()).filter(Boolean)
  });
  annotate(path14.resolve(values.patch), outcome);
  if (values.json) process.stdout.write(`${outcomeToJson(outcome)}
`);
  const message = outcomeMessage(outcome);
  if (outcome.outcome === "no-changes") process.stderr.write(`${message}
`);
  else if (outcome.outcome === "unsafe") process.stderr.write(`ksplice-create: ${message}
`);
  else if (!values.json) process.stdout.write(`${message}
`);
  return exitCodeOf(outcome);
});
