#!/usr/bin/env node

// src/util/progress.ts
var stderrSink = (line) => process.stderr.write(`${line}
`);
var Progress = class {
  constructor(stage, totalSteps, sink = stderrSink) {
    this.stage = stage;
    this.totalSteps = totalSteps;
    this.sink = sink;
  }
  stage;
  totalSteps;
  sink;
  started = Date.now();
  current = 0;
  stepStarted = Date.now();
  timings = {};
  lastLabel = "";
  /** Starts the next numbered step, closing the timing of the previous one. */
  step(label) {
    this.closeStep();
    this.current++;
    this.lastLabel = label;
    this.stepStarted = Date.now();
    this.sink(`[${this.stage} ${this.current}/${this.totalSteps}] ${label}`);
  }
  /** A detail line under the current step. */
  info(line) {
    this.sink(`  ${line}`);
  }
  /**
   * For chatty tools (make): shows the latest line at most every `everyMs`, with the elapsed time
   * of the step, so a long step visibly moves without flooding the log.
   */
  heartbeat(line, everyMs = 5e3) {
    const now = Date.now();
    if (now - this.lastBeat < everyMs) return;
    this.lastBeat = now;
    this.sink(`  ... ${seconds(now - this.stepStarted)}: ${line.trim()}`);
  }
  lastBeat = 0;
  /** Ends the run with one summary line. */
  done(summary) {
    this.closeStep();
    this.sink(`[${this.stage}] ${summary} (${seconds(Date.now() - this.started)})`);
  }
  closeStep() {
    if (this.lastLabel) this.timings[this.lastLabel] = Date.now() - this.stepStarted;
    this.lastLabel = "";
  }
};
function seconds(ms) {
  return `${(ms / 1e3).toFixed(1)} s`;
}

// src/kbuild/toolchain.ts
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

// src/util/exec.ts
import { spawn } from "node:child_process";
var CommandError = class extends Error {
  constructor(command, exitCode, stdout, stderr) {
    const tail = stderr.trim().split("\n").slice(-15).join("\n");
    super(`command failed (exit ${exitCode}): ${command}${tail ? `
${tail}` : ""}`);
    this.command = command;
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
    this.name = "CommandError";
  }
  command;
  exitCode;
  stdout;
  stderr;
};
function runUnchecked(program, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === void 0 ? "ignore" : "pipe", "pipe", "pipe"]
    });
    const out = [];
    const err = [];
    let pending = "";
    const feedLines = (chunk) => {
      if (!options.onLine) return;
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) options.onLine(line);
    };
    child.stdout.on("data", (c) => {
      out.push(c);
      feedLines(c);
    });
    child.stderr.on("data", (c) => {
      err.push(c);
      feedLines(c);
    });
    child.on("error", (e) => reject(new Error(`cannot run ${program}: ${e.message}`)));
    child.on("close", (code) => {
      if (pending && options.onLine) options.onLine(pending);
      resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), exitCode: code });
    });
    if (options.input !== void 0) child.stdin.end(options.input);
  });
}
async function run(program, args, options = {}) {
  const result = await runUnchecked(program, args, options);
  if (result.exitCode !== 0) {
    throw new CommandError([program, ...args].join(" "), result.exitCode, result.stdout, result.stderr);
  }
  return result.stdout;
}
function runShell(script, args = [], options = {}) {
  return run("bash", ["-c", `set -euo pipefail
${script}`, "bash", ...args], options);
}
async function hasProgram(program) {
  const result = await runUnchecked("bash", ["-c", `command -v -- "$1" >/dev/null`, "bash", program]);
  return result.exitCode === 0;
}

// src/kbuild/toolchain.ts
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
function compilerOf(ccVersionText) {
  const m = /^((?:[a-z0-9_]+-linux-gnu-)?(gcc(?:-\d+)?)) \((?:Debian ([^)\s]+))?[^)]*\) \S+/.exec(ccVersionText);
  if (!m) throw new Error(`target built with '${ccVersionText}': only gcc-built kernels are supported`);
  return { program: m[1], package: m[2], debianVersion: m[3], versionText: ccVersionText };
}
function compilerVerdict(target, local, installable) {
  if (local === target.versionText) return { action: "use" };
  if (target.debianVersion && installable.includes(target.debianVersion)) {
    return { action: "install", spec: `${target.package}=${target.debianVersion}` };
  }
  const here = local ? `this machine has '${local}'` : `this machine has no ${target.program}`;
  const offered = installable.length > 0 ? `apt offers ${target.package} ${installable.join(", ")}` : `apt offers no ${target.package}`;
  return {
    action: "refuse",
    reason: `target built with '${target.versionText}'; ${here} and ${offered}: build in a container with the target's compiler`
  };
}
function binutilsVerdict(target, local) {
  const problems = [];
  if (target.asVersion !== local.asVersion)
    problems.push(`assembler: target CONFIG_AS_VERSION=${target.asVersion}, this machine's as is ${local.asVersion}`);
  if (target.ldVersion !== local.ldVersion)
    problems.push(`linker: target CONFIG_LD_VERSION=${target.ldVersion}, this machine's ld is ${local.ldVersion}`);
  return problems;
}
async function localFingerprint(options) {
  const cc = options.cc;
  const env = options.env ?? process.env;
  const firstLine2 = async (program) => (await run(program, ["--version"], { env })).split("\n")[0].trim();
  const dir = await mkdtemp(path.join(os.tmpdir(), "ksplice-cc-"));
  try {
    await writeFile(path.join(dir, "probe.c"), "int ksplice_probe;\n");
    await run(cc, ["-c", "-o", path.join(dir, "probe.o"), path.join(dir, "probe.c")], { env });
    return {
      ccVersionText: await firstLine2(cc),
      asVersion: binutilsVersionNumber(await firstLine2("as")),
      ldVersion: binutilsVersionNumber(await firstLine2("ld")),
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
  mismatches.push(...binutilsVerdict(target, local));
  const missing = target.comment.filter((c) => c.startsWith("GCC:") && !local.comment.includes(c));
  if (missing.length > 0) {
    mismatches.push(`object .comment: target objects say '${missing.join("', '")}', this machine's say '${local.comment.join("', '")}'`);
  }
  return mismatches;
}
async function checkToolchain(target, options = {}) {
  const targetFp = await targetFingerprint(target.config, target.vmlinux);
  const localFp = await localFingerprint({ ...options, cc: options.cc ?? compilerOf(targetFp.ccVersionText).program });
  const mismatches = compareFingerprints(targetFp, localFp);
  if (mismatches.length > 0) {
    if (!options.allowMismatch) throw new ToolchainMismatchError(mismatches);
    const log = options.log ?? stderrSink;
    log("WARNING: toolchain mismatch overridden (--allow-toolchain-mismatch); updates built now will likely fail run-pre matching:");
    for (const m of mismatches) log(`WARNING:   ${m}`);
  }
  return { target: targetFp, local: localFp, mismatches };
}

// src/setup/host-packages.ts
var HOST_PACKAGES = [
  "apt-utils",
  "dpkg-dev",
  "xz-utils",
  "zstd",
  "cpio",
  "rsync",
  "patch",
  "kmod",
  "make",
  "gcc-12",
  "gcc",
  // kbuild's HOSTCC (fixdep and the other host programs); bookworm's gcc is gcc-12
  "binutils",
  "flex",
  "bison",
  "bc",
  "libelf-dev",
  "libssl-dev",
  "dwarves",
  "python3",
  "qemu-system-x86",
  "busybox-static",
  "libc6-dev"
  // libc6-dev: static test programs for the guest (gcc-12 -static)
];
async function missingPackages(names) {
  const result = await runUnchecked("dpkg-query", ["-W", "-f=${Package} ${db:Status-Status}\n", ...names]);
  const installed = new Set(
    result.stdout.split("\n").filter((l) => l.endsWith(" installed")).map((l) => l.split(" ")[0])
  );
  return names.filter((n) => !installed.has(n));
}
async function ensureHostPackages(names, log) {
  const missing = await missingPackages(names);
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(" ")}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing host packages: ${missing.join(", ")}; run as root: ${command}`);
  }
  log(`installing host packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await run("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update"], { env });
  await run("apt-get", ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends", ...missing], { env });
}

// src/setup/target-kernel.ts
import { copyFile, mkdir as mkdir3, readdir as readdir2, readFile as readFile5, rm as rm4, stat as stat2, symlink, writeFile as writeFile4, access, readlink } from "node:fs/promises";
import os3 from "node:os";
import path6 from "node:path";

// src/setup/debian-archive.ts
import { mkdir as mkdir2, mkdtemp as mkdtemp2, readdir, rename, rm as rm3, stat } from "node:fs/promises";
import path4 from "node:path";

// src/util/cache-dir.ts
import os2 from "node:os";
import path2 from "node:path";
function defaultCacheDir() {
  if (process.env.KSPLICE_CACHE_DIR) return process.env.KSPLICE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path2.join(os2.homedir(), ".cache");
  return path2.join(base, "ksplice-action");
}

// src/util/lock.ts
import { mkdir, readFile as readFile2, rm as rm2, writeFile as writeFile2 } from "node:fs/promises";
import path3 from "node:path";
var POLL_MS = 500;
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}
async function tryAcquire(lockDir) {
  try {
    await mkdir(lockDir);
  } catch (e) {
    if (e.code !== "EEXIST") throw e;
    const owner = Number.parseInt(await readFile2(path3.join(lockDir, "pid"), "utf8").catch(() => ""), 10);
    if (Number.isNaN(owner) || isAlive(owner)) return false;
    await rm2(lockDir, { recursive: true, force: true });
    return tryAcquire(lockDir);
  }
  await writeFile2(path3.join(lockDir, "pid"), String(process.pid));
  return true;
}
async function withLock(lockDir, work, log) {
  await mkdir(path3.dirname(lockDir), { recursive: true });
  let told = false;
  while (!await tryAcquire(lockDir)) {
    if (!told && log) log(`waiting for another process holding ${lockDir}`);
    told = true;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  try {
    return await work();
  } finally {
    await rm2(lockDir, { recursive: true, force: true });
  }
}

// src/setup/debian-archive.ts
var aptOptions = [];
var aptListsRefreshed = false;
function privateAptOptions(stateDir) {
  return ["-o", `Dir::State::Lists=${path4.join(stateDir, "lists")}`, "-o", `Dir::Cache=${path4.join(stateDir, "cache")}`];
}
async function usePrivateAptLists(stateDir) {
  const options = privateAptOptions(stateDir);
  await withLock(path4.join(stateDir, "update.lock"), async () => {
    await mkdir2(path4.join(stateDir, "lists", "partial"), { recursive: true });
    await mkdir2(path4.join(stateDir, "cache", "archives", "partial"), { recursive: true });
    await run("apt-get", [...options, "update"]);
  });
  aptOptions = options;
  aptListsRefreshed = true;
}
async function refreshListsOnce() {
  if (aptListsRefreshed) return false;
  aptListsRefreshed = true;
  if (process.getuid?.() === 0) await run("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update"]);
  else await usePrivateAptLists(process.env.KSPLICE_APT_STATE_DIR ?? path4.join(defaultCacheDir(), "apt"));
  return true;
}
async function askArchive(query) {
  const first = await query();
  if (first.length > 0 || !await refreshListsOnce()) return first;
  return query();
}
function availableVersions(pkg) {
  return askArchive(() => madison(pkg));
}
async function madison(pkg) {
  const result = await runUnchecked("apt-cache", [...aptOptions, "madison", pkg]);
  const versions = result.stdout.split("\n").map((line) => line.split("|").map((f) => f.trim())).filter((fields) => fields.length >= 3 && fields[0] === pkg).map((fields) => fields[1]);
  return [...new Set(versions)];
}
function packageNames(prefix) {
  return askArchive(async () => {
    const result = await runUnchecked("apt-cache", [...aptOptions, "pkgnames", prefix]);
    return result.stdout.split("\n").map((l) => l.trim()).filter(Boolean).sort();
  });
}
async function archiveControl(pkg, version) {
  const result = await runUnchecked("apt-cache", [...aptOptions, "show", `${pkg}=${version}`]);
  if (result.exitCode !== 0) return null;
  const first = result.stdout.split(/\n\n/)[0];
  return parseControl(first);
}
function parseControl(text) {
  const fields = /* @__PURE__ */ new Map();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m && !fields.has(m[1])) fields.set(m[1], m[2].trim());
  }
  const version = fields.get("Version") ?? "";
  const sourceField = fields.get("Source") ?? fields.get("Package") ?? "";
  const sm = /^(\S+)(?:\s+\(([^)]+)\))?$/.exec(sourceField);
  return {
    package: fields.get("Package") ?? "",
    version,
    source: sm?.[1] ?? sourceField,
    sourceVersion: sm?.[2] ?? version,
    architecture: fields.get("Architecture") ?? ""
  };
}
function debFileName(pkg, version, arch) {
  return `${pkg}_${version.replace(/:/g, "%3a")}_${arch}.deb`;
}
async function readControl(debPath) {
  return parseControl(await run("dpkg-deb", ["-f", debPath, "Package", "Version", "Source", "Architecture"]));
}
async function downloadPackage(pkg, version, debDir) {
  await mkdir2(debDir, { recursive: true });
  const cached = await findCachedDeb(pkg, version, debDir);
  if (cached) return cached;
  if (!(await availableVersions(pkg)).includes(version)) throw new Error(`Debian's archive has no ${pkg} at ${version}`);
  const tmp = await mkdtemp2(path4.join(debDir, `.download-${pkg}-`));
  try {
    await run("apt-get", [...aptOptions, "download", `${pkg}=${version}`], { cwd: tmp });
    const files = (await readdir(tmp)).filter((f) => f.endsWith(".deb"));
    if (files.length !== 1) throw new Error(`apt-get download ${pkg}=${version} produced ${files.length} files`);
    const final = path4.join(debDir, files[0]);
    await rename(path4.join(tmp, files[0]), final);
    return final;
  } finally {
    await rm3(tmp, { recursive: true, force: true });
  }
}
async function findCachedDeb(pkg, version, debDir) {
  const prefix = debFileName(pkg, version, "").replace(/\.deb$/, "");
  for (const file of await readdir(debDir)) {
    if (!file.startsWith(prefix) || !file.endsWith(".deb")) continue;
    const full = path4.join(debDir, file);
    if ((await stat(full)).size === 0) continue;
    const control = await readControl(full).catch(() => null);
    if (control && control.package === pkg && control.version === version) return full;
  }
  return null;
}
async function extractPackage(debPath, dest) {
  await mkdir2(dest, { recursive: true });
  await run("dpkg-deb", ["-x", debPath, dest]);
}
async function extractMembers(debPath, members, dest) {
  await mkdir2(dest, { recursive: true });
  const quoted = members.map((m) => `'${m.replace(/'/g, `'\\''`)}'`).join(" ");
  await run("bash", [
    "-c",
    `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --occurrence=1 ${quoted}; exit \${PIPESTATUS[1]}`,
    "bash",
    debPath,
    dest
  ]);
}

// src/setup/kernel-release.ts
var SUPPORTED_FLAVOURS = ["amd64", "cloud-amd64"];
var LATEST_ALIASES = { latest: "6.1", "latest-6.12": "6.12" };
var ReleaseRefusedError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "ReleaseRefusedError";
  }
};
var RELEASE_PATTERN = /^((\d+\.\d+)\.\d+(?:-\d+|\+deb\d+))-([a-z0-9][a-z0-9-]*)$/;
function parseRelease(release) {
  const m = RELEASE_PATTERN.exec(release);
  if (!m)
    throw new ReleaseRefusedError(`not a Debian kernel release name: '${release}' (expected e.g. 6.1.0-50-amd64 or 6.12.115+deb12-amd64)`);
  return { release, abi: m[1], series: m[2], flavour: m[3] };
}
function checkFlavour(name) {
  if (SUPPORTED_FLAVOURS.includes(name.flavour)) return;
  const why = name.flavour.startsWith("rt-") ? "PREEMPT_RT kernels are not supported" : name.flavour.endsWith("amd64") ? "this flavour is not supported" : "only x86-64 (amd64) kernels are supported";
  throw new ReleaseRefusedError(`${name.release}: flavour '${name.flavour}' refused (${why}; supported: ${SUPPORTED_FLAVOURS.join(", ")})`);
}
function releasesInArchive(packageNames2) {
  const releases = [];
  for (const pkg of packageNames2) {
    const m = /^linux-image-(.+)-unsigned$/.exec(pkg);
    if (!m || !RELEASE_PATTERN.test(m[1])) continue;
    releases.push(parseRelease(m[1]));
  }
  return releases.sort(compareReleases);
}
function abiNumbers(abi) {
  return abi.split(/[.+-]|deb/).filter(Boolean).map(Number);
}
function compareReleases(a, b) {
  const x = abiNumbers(a.abi);
  const y = abiNumbers(b.abi);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return a.flavour < b.flavour ? -1 : a.flavour > b.flavour ? 1 : 0;
}
function resolveRelease(requested, inArchive) {
  const aliasSeries = LATEST_ALIASES[requested];
  if (aliasSeries) {
    const line = inArchive.filter((r) => r.series === aliasSeries && r.flavour === "amd64");
    if (line.length === 0) throw new ReleaseRefusedError(`'${requested}': Debian's archive holds no ${aliasSeries} kernel (amd64)`);
    return line[line.length - 1];
  }
  const name = parseRelease(requested);
  checkFlavour(name);
  if (!inArchive.some((r) => r.release === name.release)) {
    const supported = inArchive.filter((r) => SUPPORTED_FLAVOURS.includes(r.flavour)).map((r) => r.release);
    throw new ReleaseRefusedError(
      `unknown release ${name.release}: Debian's archive (the configured apt sources) has no linux-image-${name.release}-unsigned; it holds: ${supported.join(", ") || "none"}`
    );
  }
  return name;
}
function packagesFor(name) {
  return {
    image: `linux-image-${name.release}-unsigned`,
    dbg: `linux-image-${name.release}-dbg`,
    headers: `linux-headers-${name.release}`,
    headersCommon: `linux-headers-${name.abi}-common`,
    source: `linux-source-${name.series}`
  };
}
function chooseSourceVersion(release, versions, imagePackage) {
  const imageVersions = versions[imagePackage] ?? [];
  let problems = [];
  for (const version of imageVersions) {
    problems = Object.entries(versions).filter(([, have]) => !have.includes(version)).map(([pkg, have]) => `${pkg} ${version} (archive has: ${have.join(", ") || "none"})`);
    if (problems.length === 0) return version;
  }
  throw new ReleaseRefusedError(`Debian's archive lacks packages for ${release}: missing ${problems.join("; ") || imagePackage}`);
}
function sourceMismatches(controls, source, sourceVersion) {
  return controls.filter((c) => c.source !== source || c.sourceVersion !== sourceVersion).map((c) => `${c.package} is from ${c.source} ${c.sourceVersion}, expected ${source} ${sourceVersion}`);
}

// src/setup/target-compiler.ts
async function firstLine(program) {
  if (!await hasProgram(program)) return null;
  const result = await runUnchecked(program, ["--version"]);
  return result.exitCode === 0 ? result.stdout.split("\n")[0].trim() : null;
}
async function ensureTargetCompiler(configText, log) {
  const need = (option) => {
    const v = configValue(configText, option);
    if (v === void 0) throw new ReleaseRefusedError(`the target's config has no ${option}: not a kernel config made by kbuild`);
    return v;
  };
  const compiler = compilerOf(need("CONFIG_CC_VERSION_TEXT"));
  const localAs = await firstLine("as");
  const localLd = await firstLine("ld");
  const binutils = binutilsVerdict(
    { asVersion: Number(need("CONFIG_AS_VERSION")), ldVersion: Number(need("CONFIG_LD_VERSION")) },
    { asVersion: localAs ? binutilsVersionNumber(localAs) : 0, ldVersion: localLd ? binutilsVersionNumber(localLd) : 0 }
  );
  if (binutils.length > 0) throw new ReleaseRefusedError(`the target's binutils cannot be had here: ${binutils.join("; ")}`);
  const local = await firstLine(compiler.program);
  const verdict = compilerVerdict(compiler, local, local === compiler.versionText ? [] : await availableVersions(compiler.package));
  if (verdict.action === "use") return;
  if (verdict.action === "refuse") throw new ReleaseRefusedError(verdict.reason);
  const command = `apt-get install -y --no-install-recommends ${verdict.spec}`;
  if (process.getuid?.() !== 0)
    throw new ReleaseRefusedError(`the target's compiler '${compiler.versionText}' is missing; run as root: ${command}`);
  log(`installing the target's compiler: ${verdict.spec}`);
  await run("apt-get", ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends", verdict.spec], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  });
}

// src/kbuild/system-map.ts
import { readFile as readFile3 } from "node:fs/promises";
var FEWEST_PLAUSIBLE_SYMBOLS = 1e3;
function isStubSystemMap(text) {
  if (/The real System\.map is in/i.test(text)) return true;
  return countLines(text) < FEWEST_PLAUSIBLE_SYMBOLS;
}
function countLines(text) {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1 && n < FEWEST_PLAUSIBLE_SYMBOLS; i = text.indexOf("\n", i + 1)) n++;
  return n;
}
function parseSystemMap(text) {
  const symbols = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-F]+) (\S) (\S+)/.exec(line);
    if (m) symbols.push({ address: BigInt(`0x${m[1]}`), type: m[2], name: m[3] });
  }
  return symbols;
}
async function readSystemMap(file) {
  let text;
  try {
    text = await readFile3(file, "utf8");
  } catch {
    throw new Error(`System.map not found: ${file} (the real one is in Debian's linux-image-<release>-dbg package)`);
  }
  if (isStubSystemMap(text)) {
    throw new Error(
      `${file} is Debian's stub System.map, not the real one: take it from the linux-image-<release>-dbg package (ksplice-setup does) or derive it from /proc/kallsyms of the running kernel`
    );
  }
  return parseSystemMap(text);
}
var SystemMapIndex = class {
  byName = /* @__PURE__ */ new Map();
  perCpuEnd;
  constructor(symbols) {
    for (const s of symbols) {
      const list = this.byName.get(s.name);
      if (list) list.push(s.address);
      else this.byName.set(s.name, [s.address]);
    }
    this.perCpuEnd = this.unique("__per_cpu_end") ?? 0n;
  }
  addresses(name) {
    return this.byName.get(name) ?? [];
  }
  unique(name) {
    const list = this.byName.get(name);
    return list && list.length === 1 ? list[0] : void 0;
  }
  /**
   * Per-CPU variables are offsets from the per-CPU base (System.map below __per_cpu_end):
   * KASLR does not move them. Example: `current_task` at 0x1fb80.
   */
  isPerCpu(address) {
    return address < this.perCpuEnd;
  }
};

// src/kbuild/flags.ts
var UPDATE_KCFLAGS = "-ffunction-sections -fdata-sections";
function kbuildArgs(tree, jobs) {
  return ["-C", tree, `-j${jobs}`, `KCFLAGS=${UPDATE_KCFLAGS}`];
}

// src/kbuild/objects.ts
import { createHash } from "node:crypto";
import { readFile as readFile4, writeFile as writeFile3 } from "node:fs/promises";
import path5 from "node:path";
var CACHE_FILE = ".ksplice-objects.json";
function parseDryRun(output) {
  const objects = /* @__PURE__ */ new Map();
  for (const m of output.matchAll(/echo ' {2}(?:CC|AS)( \[M\])? +([^ ']+\.o)'/g)) {
    objects.set(m[2], m[1] ? "module" : "vmlinux");
  }
  return objects;
}
async function kbuildObjects(tree, log) {
  const configHash = createHash("sha256").update(await readFile4(path5.join(tree, ".config"))).digest("hex");
  const cacheFile = path5.join(tree, CACHE_FILE);
  const cached = await readFile4(cacheFile, "utf8").then((t) => JSON.parse(t)).catch(() => null);
  if (cached?.configHash === configHash) return new Map(cached.objects);
  log?.("listing the objects this config builds (make -n, once per tree)");
  const result = await runUnchecked("make", [...kbuildArgs(tree, 1), "-n", "-k", "all"]);
  const objects = parseDryRun(result.stdout);
  for (const [object, home] of await alreadyBuiltObjects(tree)) if (!objects.has(object)) objects.set(object, home);
  if (objects.size < 1e3) {
    throw new Error(
      `kbuild's dry run listed only ${objects.size} objects in ${tree}; is the tree prepared?
${result.stderr.slice(-2e3)}`
    );
  }
  await writeFile3(cacheFile, JSON.stringify({ configHash, objects: [...objects] }));
  return objects;
}
async function alreadyBuiltObjects(tree) {
  const result = await runUnchecked("find", [".", "-name", ".*.o.cmd", "-not", "-path", "./scripts/*", "-not", "-path", "./tools/*"], {
    cwd: tree
  });
  const objects = /* @__PURE__ */ new Map();
  for (const cmdFile of result.stdout.split("\n").filter(Boolean)) {
    const text = await readFile4(path5.join(tree, cmdFile), "utf8").catch(() => "");
    const command = /^cmd_(\S+\.o) := (.*)$/m.exec(text);
    if (!command || !/ -c /.test(command[2])) continue;
    objects.set(command[1].replace(/^\.\//, ""), / -DMODULE\b/.test(command[2]) ? "module" : "vmlinux");
  }
  return objects;
}

// src/setup/target-kernel.ts
var DEFAULT_RELEASE = "6.1.0-50-amd64";
var READY_MARKER = ".ksplice-ready.json";
var CACHE_LAYOUT = 1;
function targetLayout(root, name, sourceVersion) {
  const sourceDir = path6.join(root, `linux-source-${name.series}`);
  const headersDir = path6.join(root, "headers", "usr", "src", `linux-headers-${name.release}`);
  const configDir = path6.join(sourceDir, "ksplice");
  return {
    release: name.release,
    sourceVersion,
    upstreamVersion: sourceVersion.replace(/-[^-]+$/, ""),
    root,
    sourceDir,
    configDir,
    headersDir,
    vmlinuz: path6.join(root, "image", "boot", `vmlinuz-${name.release}`),
    vmlinux: path6.join(root, "dbg", `vmlinux-${name.release}`),
    systemMap: path6.join(configDir, "System.map"),
    config: path6.join(configDir, ".config"),
    modulesDir: path6.join(root, "image", "lib", "modules", name.release)
  };
}
async function findReadyTarget(release, cacheDir = defaultCacheDir()) {
  const name = parseRelease(release);
  const root = path6.join(cacheDir, release);
  const marker = await readFile5(path6.join(root, READY_MARKER), "utf8").then((t) => JSON.parse(t)).catch(() => null);
  if (!marker || marker.layout !== CACHE_LAYOUT || marker.release !== release) return null;
  const target = targetLayout(root, name, marker.sourceVersion);
  await linkShippedModules(target);
  return target;
}
async function linkShippedModules(target) {
  const link = path6.join(target.configDir, "modules");
  if (await readlink(link).catch(() => null)) return;
  await symlink(target.modulesDir, link).catch((e) => {
    if (e.code !== "EEXIST") throw e;
  });
}
function hostPackagesToEnsure(options) {
  return options.skipHostPackages ? [] : HOST_PACKAGES;
}
async function ensureTarget(options = {}) {
  const requested = options.release ?? DEFAULT_RELEASE;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const log = options.log ?? stderrSink;
  const hostPackages = hostPackagesToEnsure(options);
  if (hostPackages.length > 0) await ensureHostPackages(hostPackages, log);
  if (!isAlias(requested)) {
    checkFlavour(parseRelease(requested));
    const ready = await findReadyTarget(requested, cacheDir);
    if (ready) return ready;
  }
  const name = await releaseInArchive(requested);
  const release = name.release;
  if (release !== requested) {
    log(`${requested} is ${release}`);
    const ready = await findReadyTarget(release, cacheDir);
    if (ready) return ready;
  }
  return withLock(
    path6.join(cacheDir, `${release}.lock`),
    async () => {
      const readyNow = await findReadyTarget(release, cacheDir);
      if (readyNow) return readyNow;
      return prepareTarget(
        name,
        cacheDir,
        options.debDir ?? process.env.KSPLICE_DEB_DIR ?? path6.join(cacheDir, "debs"),
        log,
        false
        // ensured above
      );
    },
    log
  );
}
function isAlias(requested) {
  return requested.startsWith("latest");
}
async function releaseInArchive(requested) {
  if (!isAlias(requested)) checkFlavour(parseRelease(requested));
  return resolveRelease(requested, releasesInArchive(await packageNames("linux-image-")));
}
async function prepareTarget(name, cacheDir, debDir, log, checkHost) {
  const progress = new Progress(`setup ${name.release}`, 11, log);
  progress.step("host packages");
  if (checkHost) await ensureHostPackages(HOST_PACKAGES, (l) => progress.info(l));
  progress.step("resolving package versions in Debian's archive and checking their source");
  const wanted = packagesFor(name);
  const { source, sourceVersion } = await resolveSourceVersion(name, wanted);
  progress.info(`source ${source} ${sourceVersion}`);
  progress.step("downloading the headers and checking the target's compiler");
  const debs = {};
  debs.headers = await downloadPackage(wanted.headers, sourceVersion, debDir);
  const configProbe = path6.join(cacheDir, `.${name.release}.config-probe`);
  await rm4(configProbe, { recursive: true, force: true });
  await extractMembers(debs.headers, [`./usr/src/linux-headers-${name.release}/.config`], configProbe);
  const configText = await readFile5(path6.join(configProbe, "usr", "src", `linux-headers-${name.release}`, ".config"), "utf8");
  await rm4(configProbe, { recursive: true, force: true });
  await ensureTargetCompiler(configText, (l) => progress.info(l));
  progress.step("downloading packages (cached in " + debDir + ")");
  for (const role of Object.keys(wanted)) {
    debs[role] ??= await downloadPackage(wanted[role], sourceVersion, debDir);
    progress.info(path6.basename(debs[role]));
  }
  progress.step("checking that every package comes from one source version");
  await checkSameSource(debs, sourceVersion, source);
  const root = path6.join(cacheDir, name.release);
  const target = targetLayout(root, name, sourceVersion);
  await rm4(root, { recursive: true, force: true });
  await mkdir3(root, { recursive: true });
  progress.step("unpacking headers and image");
  const headersRoot = path6.join(root, "headers");
  for (const role of ["headers", "headersCommon"]) await extractPackage(debs[role], headersRoot);
  await relocateHeadersMakefile(target.headersDir, headersRoot);
  await extractPackage(debs.image, path6.join(root, "image"));
  progress.step("unpacking the real System.map and vmlinux from the -dbg package");
  const dbgDir = path6.join(root, "dbg");
  const dbgBoot = "./usr/lib/debug/boot";
  await extractMembers(debs.dbg, [`${dbgBoot}/System.map-${name.release}`, `${dbgBoot}/vmlinux-${name.release}`], dbgDir);
  const fullVmlinux = path6.join(dbgDir, dbgBoot, `vmlinux-${name.release}`);
  await run("objcopy", ["--strip-debug", fullVmlinux, target.vmlinux]);
  const realMap = path6.join(dbgDir, `System.map-${name.release}`);
  await copyFile(path6.join(dbgDir, dbgBoot, `System.map-${name.release}`), realMap);
  await rm4(path6.join(dbgDir, "usr"), { recursive: true, force: true });
  await readSystemMap(realMap);
  progress.step("unpacking the kernel source");
  await unpackSource(debs.source, name.series, root);
  progress.step("installing Debian's config and build variables");
  const debianConfig = path6.join(target.headersDir, ".config");
  await copyFile(debianConfig, path6.join(target.sourceDir, ".config"));
  await writeFile4(
    path6.join(target.sourceDir, ".kernelvariables"),
    kernelVariablesForTree(await readFile5(path6.join(target.headersDir, ".kernelvariables"), "utf8"), await readFile5(debianConfig, "utf8"))
  );
  progress.step("make olddefconfig prepare modules_prepare (with the update build flags)");
  await run("make", [...kbuildArgs(target.sourceDir, os3.availableParallelism()), "olddefconfig", "prepare", "modules_prepare"], {
    onLine: (line) => /\b(warning|error):/i.test(line) ? progress.info(line.trim()) : progress.heartbeat(line)
  });
  const drift = await configDrift(debianConfig, path6.join(target.sourceDir, ".config"));
  if (drift.length > 0) progress.info(`warning: olddefconfig changed ${drift.length} config lines: ${drift.slice(0, 5).join("; ")}`);
  await kbuildObjects(target.sourceDir, (l) => progress.info(l));
  await useTreeKbuildPrograms(headersRoot, target.sourceDir);
  progress.step("writing the config directory (.config, System.map, build and vmlinux links)");
  await mkdir3(target.configDir, { recursive: true });
  await copyFile(debianConfig, target.config);
  await copyFile(realMap, target.systemMap);
  await symlink(target.headersDir, path6.join(target.configDir, "build"));
  await symlink(target.vmlinux, path6.join(target.configDir, "vmlinux"));
  await linkShippedModules(target);
  const marker = {
    layout: CACHE_LAYOUT,
    release: name.release,
    sourceVersion,
    packages: Object.fromEntries(Object.entries(debs).map(([role, deb]) => [role, path6.basename(deb)])),
    preparedAt: (/* @__PURE__ */ new Date()).toISOString()
  };
  await writeFile4(path6.join(root, READY_MARKER), JSON.stringify(marker, null, 2) + "\n");
  progress.done(`${name.release} (${sourceVersion}) ready in ${root}`);
  return target;
}
async function resolveSourceVersion(name, wanted) {
  const versions = {};
  for (const pkg of Object.values(wanted)) versions[pkg] = await availableVersions(pkg);
  const sourceVersion = chooseSourceVersion(name.release, versions, wanted.image);
  const records = await Promise.all(Object.values(wanted).map((pkg) => archiveControl(pkg, sourceVersion)));
  const image = records[0];
  if (!image || records.some((r) => r === null))
    throw new ReleaseRefusedError(`apt has no record of ${name.release}'s packages at ${sourceVersion}`);
  const mismatched = sourceMismatches(records, image.source, sourceVersion);
  if (mismatched.length > 0) throw new ReleaseRefusedError(`${name.release}: packages disagree on their source: ${mismatched.join("; ")}`);
  return { source: image.source, sourceVersion };
}
async function checkSameSource(debs, sourceVersion, source = "linux") {
  const controls = await Promise.all(Object.values(debs).map((deb) => readControl(deb)));
  const mismatched = sourceMismatches(controls, source, sourceVersion);
  if (mismatched.length > 0) throw new Error(`packages from another source version: ${mismatched.join("; ")}`);
}
async function useTreeKbuildPrograms(headersRoot, sourceDir) {
  const src = path6.join(headersRoot, "usr", "src");
  for (const dir of await readdir2(src)) {
    if (!dir.startsWith("linux-headers-")) continue;
    for (const link of ["scripts", "tools"]) {
      const at = path6.join(src, dir, link);
      const to = await readlink(at).catch(() => null);
      if (to === null || !to.includes("linux-kbuild-")) continue;
      await rm4(at);
      await symlink(path6.join(sourceDir, link), at);
    }
  }
}
function kernelVariablesForTree(kernelVariables, debianConfig) {
  if (!/^CONFIG_RUSTC_VERSION=0$/m.test(debianConfig)) return kernelVariables;
  return `${kernelVariables.replace(/\n?$/, "\n")}# ksplice-setup: Debian built this kernel without rustc
RUSTC = ksplice-no-rustc
`;
}
async function relocateHeadersMakefile(headersDir, unpackedRoot) {
  const makefile = path6.join(headersDir, "Makefile");
  const text = await readFile5(makefile, "utf8");
  const rewritten = text.replace(/^include \/usr\/src\//m, `include ${unpackedRoot}/usr/src/`);
  if (rewritten === text) throw new Error(`unexpected headers Makefile (no include of /usr/src/...): ${makefile}`);
  await writeFile4(makefile, rewritten);
}
async function unpackSource(sourceDeb, series, root) {
  const tree = path6.join(root, `linux-source-${series}`);
  if (await access(path6.join(tree, "Makefile")).then(
    () => true,
    () => false
  ))
    return;
  const member = `./usr/src/linux-source-${series}.tar.xz`;
  await runShell(`dpkg-deb --fsys-tarfile "$1" | tar -xO "$2" | xz -dc | tar -x -C "$3"`, [sourceDeb, member, root]).catch((e) => {
    throw new Error(`${path6.basename(sourceDeb)} did not unpack as a kernel tree from ${member}: ${e.message}`);
  });
  await stat2(path6.join(tree, "Makefile")).catch(() => {
    throw new Error(`${path6.basename(sourceDeb)} held no kernel tree at ${member}`);
  });
}
async function configDrift(expectedFile, actualFile) {
  const lines = async (f) => new Set((await readFile5(f, "utf8")).split("\n").filter((l) => l && !l.startsWith("#")));
  const expected = await lines(expectedFile);
  const actual = await lines(actualFile);
  return [
    ...[...expected].filter((l) => !actual.has(l)).map((l) => `-${l}`),
    ...[...actual].filter((l) => !expected.has(l)).map((l) => `+${l}`)
  ];
}

export {
  CommandError,
  runUnchecked,
  run,
  runShell,
  stderrSink,
  Progress,
  seconds,
  configValue,
  checkToolchain,
  HOST_PACKAGES,
  ensureHostPackages,
  defaultCacheDir,
  withLock,
  parseRelease,
  readSystemMap,
  SystemMapIndex,
  kbuildArgs,
  kbuildObjects,
  DEFAULT_RELEASE,
  ensureTarget
};
