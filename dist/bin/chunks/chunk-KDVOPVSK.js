#!/usr/bin/env node
import {
  run,
  stderrSink
} from "./chunk-E7X4KMXC.js";

// src/kbuild/toolchain.ts
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
var ToolchainMismatchError = class extends Error {
  constructor(mismatches) {
    super(
      `toolchain mismatch: this machine's tools differ from those that built the target kernel:
` + mismatches.map((m) => `  - ${m}`).join("\n") + `
Install the target's toolchain (or build in the pinned toolchain container); --allow-toolchain-mismatch overrides this at the cost of updates that will not match at apply time.`
    );
    this.mismatches = mismatches;
    this.name = "ToolchainMismatchError";
  }
  mismatches;
};
function configValue(configText, option) {
  const m = new RegExp(`^${option}=(.*)$`, "m").exec(configText);
  if (!m) return void 0;
  const raw = m[1];
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/\\"/g, '"') : raw;
}
function binutilsVersionNumber(versionLine) {
  const lastWord = versionLine.trim().split(/\s+/).pop() ?? "";
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(lastWord);
  if (!m) throw new Error(`cannot read a version number from: ${versionLine}`);
  return Number(m[1]) * 1e4 + Number(m[2]) * 100 + Number(m[3] ?? 0);
}
async function elfComment(file) {
  const dump = await run("readelf", ["-p", ".comment", file]);
  return [...dump.matchAll(/^\s*\[\s*[0-9a-f]+\]\s+(.*)$/gm)].map((m) => m[1].trim()).filter(Boolean);
}
async function targetFingerprint(configFile, shippedObject) {
  const text = await readFile(configFile, "utf8");
  const need = (option) => {
    const v = configValue(text, option);
    if (v === void 0) throw new Error(`${configFile} has no ${option}: not a kernel config made by kbuild`);
    return v;
  };
  return {
    ccVersionText: need("CONFIG_CC_VERSION_TEXT"),
    asVersion: Number(need("CONFIG_AS_VERSION")),
    ldVersion: Number(need("CONFIG_LD_VERSION")),
    comment: shippedObject ? await elfComment(shippedObject) : []
  };
}
async function localFingerprint(options = {}) {
  const cc = options.cc ?? "gcc-12";
  const env = options.env ?? process.env;
  const firstLine = async (program) => (await run(program, ["--version"], { env })).split("\n")[0].trim();
  const dir = await mkdtemp(path.join(os.tmpdir(), "ksplice-cc-"));
  try {
    await writeFile(path.join(dir, "probe.c"), "int ksplice_probe;\n");
    await run(cc, ["-c", "-o", path.join(dir, "probe.o"), path.join(dir, "probe.c")], { env });
    return {
      ccVersionText: await firstLine(cc),
      asVersion: binutilsVersionNumber(await firstLine("as")),
      ldVersion: binutilsVersionNumber(await firstLine("ld")),
      comment: await elfComment(path.join(dir, "probe.o"))
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
function compareFingerprints(target, local) {
  const mismatches = [];
  if (target.ccVersionText !== local.ccVersionText) {
    mismatches.push(`compiler: target built with '${target.ccVersionText}', this machine has '${local.ccVersionText}'`);
  }
  if (target.asVersion !== local.asVersion) {
    mismatches.push(`assembler: target CONFIG_AS_VERSION=${target.asVersion}, this machine's as is ${local.asVersion}`);
  }
  if (target.ldVersion !== local.ldVersion) {
    mismatches.push(`linker: target CONFIG_LD_VERSION=${target.ldVersion}, this machine's ld is ${local.ldVersion}`);
  }
  const missing = target.comment.filter((c) => c.startsWith("GCC:") && !local.comment.includes(c));
  if (missing.length > 0) {
    mismatches.push(`object .comment: target objects say '${missing.join("', '")}', this machine's say '${local.comment.join("', '")}'`);
  }
  return mismatches;
}
async function checkToolchain(target, options = {}) {
  const targetFp = await targetFingerprint(target.config, target.vmlinux);
  const localFp = await localFingerprint(options);
  const mismatches = compareFingerprints(targetFp, localFp);
  if (mismatches.length > 0) {
    if (!options.allowMismatch) throw new ToolchainMismatchError(mismatches);
    const log = options.log ?? stderrSink;
    log("WARNING: toolchain mismatch overridden (--allow-toolchain-mismatch); updates built now will likely fail run-pre matching:");
    for (const m of mismatches) log(`WARNING:   ${m}`);
  }
  return { target: targetFp, local: localFp, mismatches };
}

export {
  configValue,
  checkToolchain
};
