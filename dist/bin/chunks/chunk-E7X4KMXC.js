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
import { copyFile, mkdir as mkdir3, readFile as readFile4, rm as rm3, stat as stat2, symlink, writeFile as writeFile3, access, readlink } from "node:fs/promises";
import os2 from "node:os";
import path5 from "node:path";

// src/setup/debian-archive.ts
import { mkdir, mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
var aptListsRefreshed = false;
async function availableVersions(pkg) {
  let versions = await madison(pkg);
  if (versions.length === 0 && !aptListsRefreshed) {
    aptListsRefreshed = true;
    if (process.getuid?.() === 0) await run("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update"]);
    versions = await madison(pkg);
  }
  return versions;
}
async function madison(pkg) {
  const result = await runUnchecked("apt-cache", ["madison", pkg]);
  const versions = result.stdout.split("\n").map((line) => line.split("|").map((f) => f.trim())).filter((fields) => fields.length >= 3 && fields[0] === pkg).map((fields) => fields[1]);
  return [...new Set(versions)];
}
function debFileName(pkg, version, arch) {
  return `${pkg}_${version.replace(/:/g, "%3a")}_${arch}.deb`;
}
async function readControl(debPath) {
  const text = await run("dpkg-deb", ["-f", debPath, "Package", "Version", "Source", "Architecture"]);
  const fields = /* @__PURE__ */ new Map();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m) fields.set(m[1], m[2].trim());
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
async function downloadPackage(pkg, version, debDir) {
  await mkdir(debDir, { recursive: true });
  const cached = await findCachedDeb(pkg, version, debDir);
  if (cached) return cached;
  const tmp = await mkdtemp(path.join(debDir, `.download-${pkg}-`));
  try {
    await run("apt-get", ["download", `${pkg}=${version}`], { cwd: tmp });
    const files = (await readdir(tmp)).filter((f) => f.endsWith(".deb"));
    if (files.length !== 1) throw new Error(`apt-get download ${pkg}=${version} produced ${files.length} files`);
    const final = path.join(debDir, files[0]);
    await rename(path.join(tmp, files[0]), final);
    return final;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
async function findCachedDeb(pkg, version, debDir) {
  const prefix = debFileName(pkg, version, "").replace(/\.deb$/, "");
  for (const file of await readdir(debDir)) {
    if (!file.startsWith(prefix) || !file.endsWith(".deb")) continue;
    const full = path.join(debDir, file);
    if ((await stat(full)).size === 0) continue;
    const control = await readControl(full).catch(() => null);
    if (control && control.package === pkg && control.version === version) return full;
  }
  return null;
}
async function extractPackage(debPath, dest) {
  await mkdir(dest, { recursive: true });
  await run("dpkg-deb", ["-x", debPath, dest]);
}
async function extractMembers(debPath, members, dest) {
  await mkdir(dest, { recursive: true });
  const quoted = members.map((m) => `'${m.replace(/'/g, `'\\''`)}'`).join(" ");
  await run("bash", [
    "-c",
    `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --occurrence=1 ${quoted}; exit \${PIPESTATUS[1]}`,
    "bash",
    debPath,
    dest
  ]);
}

// src/kbuild/system-map.ts
import { readFile } from "node:fs/promises";
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
    text = await readFile(file, "utf8");
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
import { readFile as readFile2, writeFile } from "node:fs/promises";
import path2 from "node:path";
var CACHE_FILE = ".ksplice-objects.json";
function parseDryRun(output) {
  const objects = /* @__PURE__ */ new Map();
  for (const m of output.matchAll(/echo ' {2}(?:CC|AS)( \[M\])? +([^ ']+\.o)'/g)) {
    objects.set(m[2], m[1] ? "module" : "vmlinux");
  }
  return objects;
}
async function kbuildObjects(tree, log) {
  const configHash = createHash("sha256").update(await readFile2(path2.join(tree, ".config"))).digest("hex");
  const cacheFile = path2.join(tree, CACHE_FILE);
  const cached = await readFile2(cacheFile, "utf8").then((t) => JSON.parse(t)).catch(() => null);
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
  await writeFile(cacheFile, JSON.stringify({ configHash, objects: [...objects] }));
  return objects;
}
async function alreadyBuiltObjects(tree) {
  const result = await runUnchecked("find", [".", "-name", ".*.o.cmd", "-not", "-path", "./scripts/*", "-not", "-path", "./tools/*"], {
    cwd: tree
  });
  const objects = /* @__PURE__ */ new Map();
  for (const cmdFile of result.stdout.split("\n").filter(Boolean)) {
    const text = await readFile2(path2.join(tree, cmdFile), "utf8").catch(() => "");
    const command = /^cmd_(\S+\.o) := (.*)$/m.exec(text);
    if (!command || !/ -c /.test(command[2])) continue;
    objects.set(command[1].replace(/^\.\//, ""), / -DMODULE\b/.test(command[2]) ? "module" : "vmlinux");
  }
  return objects;
}

// src/util/cache-dir.ts
import os from "node:os";
import path3 from "node:path";
function defaultCacheDir() {
  if (process.env.KSPLICE_CACHE_DIR) return process.env.KSPLICE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path3.join(os.homedir(), ".cache");
  return path3.join(base, "ksplice-action");
}

// src/util/lock.ts
import { mkdir as mkdir2, readFile as readFile3, rm as rm2, writeFile as writeFile2 } from "node:fs/promises";
import path4 from "node:path";
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
    await mkdir2(lockDir);
  } catch (e) {
    if (e.code !== "EEXIST") throw e;
    const owner = Number.parseInt(await readFile3(path4.join(lockDir, "pid"), "utf8").catch(() => ""), 10);
    if (Number.isNaN(owner) || isAlive(owner)) return false;
    await rm2(lockDir, { recursive: true, force: true });
    return tryAcquire(lockDir);
  }
  await writeFile2(path4.join(lockDir, "pid"), String(process.pid));
  return true;
}
async function withLock(lockDir, work, log) {
  await mkdir2(path4.dirname(lockDir), { recursive: true });
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

// src/setup/target-kernel.ts
var DEFAULT_RELEASE = "6.1.0-50-amd64";
var READY_MARKER = ".ksplice-ready.json";
var CACHE_LAYOUT = 1;
function parseRelease(release) {
  const m = /^((\d+\.\d+)\.\d+-\d+)-([a-z0-9][a-z0-9-]*)$/.exec(release);
  if (!m) throw new Error(`not a Debian kernel release name: '${release}' (expected e.g. ${DEFAULT_RELEASE})`);
  return { release, abi: m[1], series: m[2], flavour: m[3] };
}
function packagesFor(name) {
  return {
    image: `linux-image-${name.release}-unsigned`,
    dbg: `linux-image-${name.release}-dbg`,
    headers: `linux-headers-${name.release}`,
    headersCommon: `linux-headers-${name.abi}-common`,
    kbuild: `linux-kbuild-${name.series}`,
    source: `linux-source-${name.series}`
  };
}
function targetLayout(root, name, sourceVersion) {
  const sourceDir = path5.join(root, `linux-source-${name.series}`);
  const headersDir = path5.join(root, "headers", "usr", "src", `linux-headers-${name.release}`);
  const configDir = path5.join(sourceDir, "ksplice");
  return {
    release: name.release,
    sourceVersion,
    upstreamVersion: sourceVersion.replace(/-[^-]+$/, ""),
    root,
    sourceDir,
    configDir,
    headersDir,
    vmlinuz: path5.join(root, "image", "boot", `vmlinuz-${name.release}`),
    vmlinux: path5.join(root, "dbg", `vmlinux-${name.release}`),
    systemMap: path5.join(configDir, "System.map"),
    config: path5.join(configDir, ".config"),
    modulesDir: path5.join(root, "image", "lib", "modules", name.release)
  };
}
async function findReadyTarget(release, cacheDir = defaultCacheDir()) {
  const name = parseRelease(release);
  const root = path5.join(cacheDir, release);
  const marker = await readFile4(path5.join(root, READY_MARKER), "utf8").then((t) => JSON.parse(t)).catch(() => null);
  if (!marker || marker.layout !== CACHE_LAYOUT || marker.release !== release) return null;
  const target = targetLayout(root, name, marker.sourceVersion);
  await linkShippedModules(target);
  return target;
}
async function linkShippedModules(target) {
  const link = path5.join(target.configDir, "modules");
  if (await readlink(link).catch(() => null)) return;
  await symlink(target.modulesDir, link).catch((e) => {
    if (e.code !== "EEXIST") throw e;
  });
}
async function ensureTarget(options = {}) {
  const release = options.release ?? DEFAULT_RELEASE;
  const name = parseRelease(release);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const log = options.log ?? stderrSink;
  const ready = await findReadyTarget(release, cacheDir);
  if (ready) return ready;
  return withLock(
    path5.join(cacheDir, `${release}.lock`),
    async () => {
      const readyNow = await findReadyTarget(release, cacheDir);
      if (readyNow) return readyNow;
      return prepareTarget(
        name,
        cacheDir,
        options.debDir ?? process.env.KSPLICE_DEB_DIR ?? path5.join(cacheDir, "debs"),
        log,
        !options.skipHostPackages
      );
    },
    log
  );
}
async function prepareTarget(name, cacheDir, debDir, log, checkHost) {
  const progress = new Progress(`setup ${name.release}`, 10, log);
  progress.step("host packages");
  if (checkHost) await ensureHostPackages(HOST_PACKAGES, (l) => progress.info(l));
  progress.step("resolving package versions in Debian's archive");
  const wanted = packagesFor(name);
  const sourceVersion = await resolveSourceVersion(wanted);
  progress.info(`source version ${sourceVersion}`);
  progress.step("downloading packages (cached in " + debDir + ")");
  const debs = {};
  for (const role of Object.keys(wanted)) {
    debs[role] = await downloadPackage(wanted[role], sourceVersion, debDir);
    progress.info(path5.basename(debs[role]));
  }
  progress.step("checking that every package comes from one source version");
  await checkSameSource(debs, sourceVersion);
  const root = path5.join(cacheDir, name.release);
  const target = targetLayout(root, name, sourceVersion);
  await rm3(root, { recursive: true, force: true });
  await mkdir3(root, { recursive: true });
  progress.step("unpacking headers, kbuild and image");
  const headersRoot = path5.join(root, "headers");
  for (const role of ["headers", "headersCommon", "kbuild"]) await extractPackage(debs[role], headersRoot);
  await relocateHeadersMakefile(target.headersDir, headersRoot);
  await extractPackage(debs.image, path5.join(root, "image"));
  progress.step("unpacking the real System.map and vmlinux from the -dbg package");
  const dbgDir = path5.join(root, "dbg");
  const dbgBoot = "./usr/lib/debug/boot";
  await extractMembers(debs.dbg, [`${dbgBoot}/System.map-${name.release}`, `${dbgBoot}/vmlinux-${name.release}`], dbgDir);
  const fullVmlinux = path5.join(dbgDir, dbgBoot, `vmlinux-${name.release}`);
  await run("objcopy", ["--strip-debug", fullVmlinux, target.vmlinux]);
  const realMap = path5.join(dbgDir, `System.map-${name.release}`);
  await copyFile(path5.join(dbgDir, dbgBoot, `System.map-${name.release}`), realMap);
  await rm3(path5.join(dbgDir, "usr"), { recursive: true, force: true });
  await readSystemMap(realMap);
  progress.step("unpacking the kernel source");
  await unpackSource(debs.source, name.series, root);
  progress.step("installing Debian's config and build variables");
  const debianConfig = path5.join(target.headersDir, ".config");
  await copyFile(debianConfig, path5.join(target.sourceDir, ".config"));
  await copyFile(path5.join(target.headersDir, ".kernelvariables"), path5.join(target.sourceDir, ".kernelvariables"));
  progress.step("make olddefconfig prepare modules_prepare (with the update build flags)");
  await run("make", [...kbuildArgs(target.sourceDir, os2.availableParallelism()), "olddefconfig", "prepare", "modules_prepare"], {
    onLine: (line) => /\b(warning|error):/i.test(line) ? progress.info(line.trim()) : progress.heartbeat(line)
  });
  const drift = await configDrift(debianConfig, path5.join(target.sourceDir, ".config"));
  if (drift.length > 0) progress.info(`warning: olddefconfig changed ${drift.length} config lines: ${drift.slice(0, 5).join("; ")}`);
  await kbuildObjects(target.sourceDir, (l) => progress.info(l));
  progress.step("writing the config directory (.config, System.map, build and vmlinux links)");
  await mkdir3(target.configDir, { recursive: true });
  await copyFile(debianConfig, target.config);
  await copyFile(realMap, target.systemMap);
  await symlink(target.headersDir, path5.join(target.configDir, "build"));
  await symlink(target.vmlinux, path5.join(target.configDir, "vmlinux"));
  await linkShippedModules(target);
  const marker = {
    layout: CACHE_LAYOUT,
    release: name.release,
    sourceVersion,
    packages: Object.fromEntries(Object.entries(debs).map(([role, deb]) => [role, path5.basename(deb)])),
    preparedAt: (/* @__PURE__ */ new Date()).toISOString()
  };
  await writeFile3(path5.join(root, READY_MARKER), JSON.stringify(marker, null, 2) + "\n");
  progress.done(`${name.release} (${sourceVersion}) ready in ${root}`);
  return target;
}
async function resolveSourceVersion(wanted) {
  const imageVersions = await availableVersions(wanted.image);
  if (imageVersions.length === 0) {
    throw new Error(
      `Debian's archive has no ${wanted.image}: no such kernel release in the configured apt sources (check the release name, e.g. ${DEFAULT_RELEASE}, and /etc/apt/sources.list)`
    );
  }
  const problems = [];
  for (const version of imageVersions) {
    problems.length = 0;
    for (const role of Object.keys(wanted)) {
      const versions = role === "image" ? imageVersions : await availableVersions(wanted[role]);
      if (!versions.includes(version)) {
        problems.push(`${wanted[role]} ${version} (archive has: ${versions.join(", ") || "none"})`);
      }
    }
    if (problems.length === 0) return version;
  }
  throw new Error(
    `Debian's archive lacks packages for ${wanted.image.replace(/^linux-image-|-unsigned$/g, "")}: missing ${problems.join("; ")}`
  );
}
async function checkSameSource(debs, sourceVersion) {
  const controls = await Promise.all(Object.values(debs).map((deb) => readControl(deb)));
  const mismatched = sourceMismatches(controls, sourceVersion);
  if (mismatched.length > 0) throw new Error(`packages from another source version: ${mismatched.join("; ")}`);
}
function sourceMismatches(controls, sourceVersion) {
  return controls.filter((c) => c.source !== "linux" || c.sourceVersion !== sourceVersion).map((c) => `${c.package} is from ${c.source} ${c.sourceVersion}, expected linux ${sourceVersion}`);
}
async function relocateHeadersMakefile(headersDir, unpackedRoot) {
  const makefile = path5.join(headersDir, "Makefile");
  const text = await readFile4(makefile, "utf8");
  const rewritten = text.replace(/^include \/usr\/src\//m, `include ${unpackedRoot}/usr/src/`);
  if (rewritten === text) throw new Error(`unexpected headers Makefile (no include of /usr/src/...): ${makefile}`);
  await writeFile3(makefile, rewritten);
}
async function unpackSource(sourceDeb, series, root) {
  const tree = path5.join(root, `linux-source-${series}`);
  if (await access(path5.join(tree, "Makefile")).then(
    () => true,
    () => false
  ))
    return;
  const member = `./usr/src/linux-source-${series}.tar.xz`;
  await runShell(`dpkg-deb --fsys-tarfile "$1" | tar -xO "$2" | xz -dc | tar -x -C "$3"`, [sourceDeb, member, root]).catch((e) => {
    throw new Error(`${path5.basename(sourceDeb)} did not unpack as a kernel tree from ${member}: ${e.message}`);
  });
  await stat2(path5.join(tree, "Makefile")).catch(() => {
    throw new Error(`${path5.basename(sourceDeb)} held no kernel tree at ${member}`);
  });
}
async function configDrift(expectedFile, actualFile) {
  const lines = async (f) => new Set((await readFile4(f, "utf8")).split("\n").filter((l) => l && !l.startsWith("#")));
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
  HOST_PACKAGES,
  ensureHostPackages,
  readSystemMap,
  SystemMapIndex,
  kbuildArgs,
  kbuildObjects,
  defaultCacheDir,
  withLock,
  DEFAULT_RELEASE,
  ensureTarget
};
