#!/usr/bin/env node
import {
  defaultCacheDir,
  ensureTarget,
  run,
  runShell,
  seconds,
  stderrSink,
  withLock
} from "./chunks/chunk-B2Q4NLRO.js";
import {
  EXIT,
  UsageError,
  defineCli,
  runCli
} from "./chunks/chunk-DGMV7F27.js";

// src/qemu/cli.ts
import { existsSync as existsSync2 } from "node:fs";
import path6 from "node:path";

// src/qemu/cli-spec.ts
var QEMU_CLI = defineCli({
  name: "ksplice-qemu",
  summary: "boot the target kernel in a QEMU guest, run steps (or prove an update), print a verdict",
  usage: [
    "[--kernel=VMLINUZ | --kernel-release=R] [--file=HOST[:NAME]]... [--step=NAME=COMMAND]... [--script=FILE] [--update=TARBALL [--check=FILE]] [--modules=NAME,...] [--json]"
  ],
  options: {
    kernel: { type: "string", value: "VMLINUZ", description: "any bzImage/vmlinuz to boot" },
    "kernel-release": {
      type: "string",
      value: "R",
      description: "a Debian release prepared by the setup (default 6.1.0-50-amd64), instead of --kernel"
    },
    file: {
      type: "string",
      multiple: true,
      default: [],
      value: "HOST[:NAME]",
      description: "copied to /files in the guest (the steps run there, as root, PATH has /files)"
    },
    step: {
      type: "string",
      multiple: true,
      default: [],
      value: "NAME=COMMAND",
      description: "a named shell step; steps run in the order given, each with --step-timeout"
    },
    script: { type: "string", value: "FILE", description: "a guest script, run as one step named after the file" },
    update: {
      type: "string",
      value: "TARBALL",
      description: "prove an update: tools from the tarball, [check original], ksplice-apply, [check applied], ksplice-view, ksplice-undo, [check reverted]"
    },
    check: {
      type: "string",
      value: "FILE",
      description: "with --update: a script run as `sh check.sh original|applied|reverted` (exit 0 = as expected)"
    },
    "keep-going": { type: "boolean", default: false, description: "run the remaining steps after one fails" },
    "step-timeout": { type: "string", value: "S", description: "seconds each step may run (default 120)" },
    timeout: { type: "string", value: "S", description: "seconds the whole guest may run" },
    smp: { type: "string", value: "N", description: "virtual CPUs" },
    memory: { type: "string", value: "MiB", description: "the guest's memory" },
    cpu: { type: "string", value: "MODEL", description: "QEMU's -cpu model" },
    append: { type: "string", value: "ARGS", description: "more kernel command line" },
    "tcg-thread": {
      type: "string",
      value: "single|multi",
      description: "under TCG, one host thread for all vCPUs (single, the default) or one each (multi: faster, but runs stale code after kernel text patching)"
    },
    modules: {
      type: "string",
      multiple: true,
      default: [],
      value: "NAME[,NAME]",
      description: "modules of the target kernel (and their dependencies) put in the guest's /lib/modules/<release> with a modules.dep: steps can modprobe/rmmod them"
    },
    "serial-log": {
      type: "string",
      default: "ksplice-qemu-serial.log",
      value: "FILE",
      description: "the whole console (kernel console and steps, line by line), kept"
    },
    json: {
      type: "boolean",
      default: false,
      description: "the verdict as one JSON object on stdout (booted, steps, splats, taint, timings)"
    }
  },
  notes: ["Progress (boot time, each step, the last console line every 5 s) and a summary go to stderr."],
  exitCodes: ["ok", "error", "guestFailed", "usage", "sigint", "sigterm"]
});

// src/qemu/guest.ts
import { mkdtemp, rm as rm2 } from "node:fs/promises";
import os from "node:os";
import path4 from "node:path";

// src/qemu/guest-init.ts
import { chmod, copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
var DEFAULT_STEP_TIMEOUT = 120;
function initScript(steps, keepGoing) {
  const calls = steps.map((step, i) => `run_step ${i} ${step.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT}`).join("\n");
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/files
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# the kernel's request_module() runs /sbin/modprobe: only when the run ships modules
[ -d /lib/modules ] && ln -s /bin/busybox /sbin/modprobe
# the protocol and the steps' output go to ttyS1; ttyS0 stays the kernel's console alone
exec </dev/null >/dev/ttyS1 2>&1
# booted quiet for speed; from here on every kernel message reaches the console as it is printed
echo 8 4 1 8 > /proc/sys/kernel/printk
echo KSPLICE-GUEST-START
echo "KSPLICE-TAINT=$(cat /proc/sys/kernel/tainted)"
cd /files
failed=0
run_step() {
  if [ "$failed" != 0 ] && [ ${keepGoing ? 1 : 0} = 0 ]; then return; fi
  mkfifo /tmp/watchdog.$1
  echo "KSPLICE-STEP-BEGIN $1"
  setsid sh /steps/$1.sh </dev/null 2>&1 &
  pid=$!
  # the mark is made before the kill, so it is there when wait returns (an echo after the kill
  # raced with the kill of the watchdog below and was sometimes lost)
  (read -t "$2" x <>/tmp/watchdog.$1; touch /tmp/killed.$1; kill -9 -$pid 2>/dev/null) &
  dog=$!
  wait $pid
  rc=$?
  kill $dog 2>/dev/null
  [ -e /tmp/killed.$1 ] && echo "KSPLICE-STEP-KILLED $1"
  echo "KSPLICE-STEP-END $1 rc=$rc"
  [ $rc = 0 ] || failed=1
}
${calls}
echo "KSPLICE-TAINT=$(cat /proc/sys/kernel/tainted)"
echo KSPLICE-DMESG-BEGIN
dmesg
echo KSPLICE-DMESG-END
poweroff -f
`;
}
async function buildInitramfs(dir, files, steps, keepGoing, modules) {
  const root = path.join(dir, "root");
  for (const sub of ["bin", "sbin", "proc", "sys", "dev", "tmp", "files", "steps"]) await mkdir(path.join(root, sub), { recursive: true });
  await copyFile("/bin/busybox", path.join(root, "bin/busybox"));
  await writeFile(path.join(root, "init"), initScript(steps, keepGoing), { mode: 493 });
  for (const [i, step] of steps.entries()) await writeFile(path.join(root, "steps", `${i}.sh`), step.run + "\n");
  for (const file of files) {
    if (!/^[\w+][\w.+-]*$/.test(file.guestName)) throw new Error(`guest file name must be a plain name: ${file.guestName}`);
    if (file.hostPath === void 0 === (file.content === void 0))
      throw new Error(`guest file ${file.guestName}: give hostPath or content (one of them)`);
    const dest = path.join(root, "files", file.guestName);
    if (file.hostPath !== void 0) await copyFile(file.hostPath, dest);
    else await writeFile(dest, file.content);
    await chmod(dest, file.mode ?? (file.executable ? 493 : 420));
  }
  if (modules) {
    const modulesRoot = path.join(root, "lib", "modules", modules.release);
    for (const m of modules.files) {
      const dest = path.join(modulesRoot, m.guestPath);
      if (!dest.startsWith(modulesRoot + path.sep)) throw new Error(`module path outside /lib/modules: ${m.guestPath}`);
      await mkdir(path.dirname(dest), { recursive: true });
      await copyFile(m.hostPath, dest);
    }
    await mkdir(modulesRoot, { recursive: true });
    for (const [name, content] of Object.entries(modules.metadata)) await writeFile(path.join(modulesRoot, name), content);
  }
  const image = path.join(dir, "initramfs.cpio.gz");
  await runShell('cd "$1" && find . | cpio -o -H newc --quiet | gzip -1 > "$2"', [root, image]);
  return image;
}

// src/qemu/guest-modules.ts
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile as copyFile2, mkdir as mkdir2, readFile, realpath, rename, rm, stat, symlink, writeFile as writeFile2 } from "node:fs/promises";
import path2 from "node:path";
var GUEST_INDEX_FILES = [
  "modules.dep",
  "modules.alias",
  "modules.softdep",
  "modules.symbols",
  "modules.builtin",
  "modules.order"
];
function moduleName(pathOrName) {
  return path2.basename(pathOrName).replace(/\.ko(\.(xz|zst|gz))?$/, "").replace(/-/g, "_");
}
function parseModulesDep(text) {
  const map = /* @__PURE__ */ new Map();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0 || line.startsWith("#")) continue;
    const file = line.slice(0, colon).trim();
    map.set(moduleName(file), {
      path: file,
      deps: line.slice(colon + 1).trim().split(/\s+/).filter(Boolean)
    });
  }
  return map;
}
function parseAliases(text) {
  const map = /* @__PURE__ */ new Map();
  for (const line of text.split("\n")) {
    const m = /^alias\s+(\S+)\s+(\S+)/.exec(line);
    if (!m || /[*?[]/.test(m[1])) continue;
    const key = m[1].replace(/-/g, "_");
    map.set(key, [...map.get(key) ?? [], moduleName(m[2])]);
  }
  return map;
}
function parseSoftdeps(text) {
  const map = /* @__PURE__ */ new Map();
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== "softdep" || words.length < 3) continue;
    const names = words.slice(2).filter((w) => w !== "pre:" && w !== "post:");
    map.set(moduleName(words[1]), [...map.get(moduleName(words[1])) ?? [], ...names]);
  }
  return map;
}
function resolveModules(wanted, index) {
  const dep = parseModulesDep(index.dep);
  const aliases = parseAliases(index.alias ?? "");
  const softdeps = parseSoftdeps(index.softdep ?? "");
  const builtinNames = new Set((index.builtin ?? "").split("\n").filter(Boolean).map(moduleName));
  const byPath = new Map([...dep.values()].map((e) => [e.path, e]));
  const load = [];
  const seen = /* @__PURE__ */ new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const entry = dep.get(name);
    for (const d of entry.deps) if (byPath.has(d)) visit(moduleName(d));
    load.push({ name, path: entry.path });
    for (const soft of softdeps.get(name) ?? []) {
      const key = moduleName(soft);
      for (const target of dep.has(key) ? [key] : aliases.get(key) ?? []) if (dep.has(target)) visit(target);
    }
  };
  const builtin = [];
  const unknown = [];
  for (const raw of wanted) {
    const name = moduleName(raw);
    if (dep.has(name)) visit(name);
    else if (builtinNames.has(name)) builtin.push(name);
    else unknown.push(raw);
  }
  return { load, builtin, unknown };
}
function filterIndex(file, text, names) {
  if (file === "modules.builtin") return text;
  const keep = (line) => {
    if (file === "modules.dep") return names.has(moduleName(line.slice(0, line.indexOf(":"))));
    if (file === "modules.order") return names.has(moduleName(line.trim()));
    const words = line.trim().split(/\s+/);
    if (file === "modules.softdep") return words[0] === "softdep" && names.has(moduleName(words[1] ?? ""));
    return words[0] === "alias" && names.has(moduleName(words[2] ?? ""));
  };
  const lines = text.split("\n").filter((l) => l.trim() !== "" && keep(l));
  return lines.length ? lines.join("\n") + "\n" : "";
}
function modulesDirFor(vmlinuz) {
  const base = path2.basename(vmlinuz);
  if (!base.startsWith("vmlinuz-"))
    throw new Error(`cannot tell the kernel release from ${vmlinuz} (expected vmlinuz-<release>): give modulesDir`);
  return path2.join(path2.dirname(path2.dirname(vmlinuz)), "lib", "modules", base.slice("vmlinuz-".length));
}
async function moduleIndexDir(modulesDir, log, cacheDir = defaultCacheDir()) {
  if (existsSync(path2.join(modulesDir, "modules.dep"))) return modulesDir;
  const release = path2.basename(modulesDir);
  const real = await realpath(modulesDir).catch(() => {
    throw new Error(`no modules folder ${modulesDir} (the target kernel's /lib/modules/<release>)`);
  });
  const order = await stat(path2.join(real, "modules.order")).catch(() => {
    throw new Error(`${modulesDir} has neither modules.dep nor modules.order: not a kernel's modules folder`);
  });
  const stamp = JSON.stringify({ modulesDir: real, orderSize: order.size, orderMtimeMs: order.mtimeMs });
  const home = path2.join(cacheDir, "module-index", `${release}-${createHash("sha256").update(real).digest("hex").slice(0, 12)}`);
  const indexDir = path2.join(home, "lib", "modules", release);
  const stampFile = path2.join(home, "stamp.json");
  const fresh = async () => await readFile(stampFile, "utf8").catch(() => "") === stamp;
  if (await fresh()) return indexDir;
  return withLock(
    home + ".lock",
    async () => {
      if (await fresh()) return indexDir;
      const started = Date.now();
      const base = `${home}.tmp`;
      await rm(base, { recursive: true, force: true });
      const work = path2.join(base, "lib", "modules", release);
      await mkdir2(work, { recursive: true });
      await symlink(path2.join(real, "kernel"), path2.join(work, "kernel"));
      for (const f of ["modules.order", "modules.builtin", "modules.builtin.modinfo"]) {
        if (existsSync(path2.join(real, f))) await copyFile2(path2.join(real, f), path2.join(work, f));
      }
      await run("depmod", ["-b", base, release]).catch((e) => {
        throw new Error(`depmod (host package kmod) could not index ${modulesDir}: ${e.message}`);
      });
      await rm(path2.join(work, "kernel"));
      await rm(home, { recursive: true, force: true });
      await rename(base, home);
      await writeFile2(stampFile, stamp);
      log?.(`[qemu] indexed the modules of ${release} with depmod in ${((Date.now() - started) / 1e3).toFixed(1)} s (${indexDir})`);
      return indexDir;
    },
    log
  );
}
async function guestModules(modulesDir, names, log) {
  const indexDir = await moduleIndexDir(modulesDir, log);
  const read = (f) => readFile(path2.join(indexDir, f), "utf8").catch(() => "");
  const text = Object.fromEntries(await Promise.all(GUEST_INDEX_FILES.map(async (f) => [f, await read(f)])));
  const resolved = resolveModules(names, {
    dep: text["modules.dep"],
    alias: text["modules.alias"],
    softdep: text["modules.softdep"],
    builtin: text["modules.builtin"]
  });
  if (resolved.unknown.length) {
    throw new Error(
      `module${resolved.unknown.length > 1 ? "s" : ""} not shipped with ${path2.basename(modulesDir)}: ${resolved.unknown.join(", ")} (no such module in ${path2.join(indexDir, "modules.dep")}, nor built in)`
    );
  }
  const keep = new Set(resolved.load.map((m) => m.name));
  const metadata = {};
  for (const f of GUEST_INDEX_FILES) metadata[f] = filterIndex(f, text[f], keep);
  const files = resolved.load.map((m) => ({ hostPath: path2.join(modulesDir, m.path), guestPath: m.path }));
  for (const f of files) {
    if (!existsSync(f.hostPath)) throw new Error(`module file missing: ${f.hostPath} (listed in ${path2.join(indexDir, "modules.dep")})`);
  }
  return {
    release: path2.basename(modulesDir),
    requested: names.map(moduleName),
    modules: [...keep],
    builtin: resolved.builtin,
    files,
    metadata
  };
}

// src/qemu/splat-patterns.ts
var SPLAT_PATTERNS = [
  // "BUG: kernel NULL pointer dereference, address: ...", "BUG: unable to handle page fault ...",
  // "BUG: scheduling while atomic: ...", "BUG: KASAN: ...", "watchdog: BUG: soft lockup - ..."
  /\bBUG: /,
  // __warn(): "WARNING: CPU: 1 PID: 77 at <file>:<line> <function>"
  /WARNING: CPU: /,
  // __die_header(): "Oops: 0002 [#1] PREEMPT SMP NOPTI"
  /\bOops\b/,
  // panic(): "Kernel panic - not syncing: ..."
  /Kernel panic/,
  // "general protection fault, probably for non-canonical address 0x...: 0000 [#1] ..."
  /general protection fault/,
  // BUG() / BUG_ON(): "kernel BUG at mm/slub.c:123!"
  /kernel BUG at/,
  // any stack dump: an oops, a WARN, a lockup, an RCU stall, dump_stack()
  /Call Trace:/,
  // the register dump of the same: "RIP: 0010:warn_init+0x5/0x1000 [warn]"
  /\bRIP: [0-9a-f]{4}:/,
  // watchdog: "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sh:123]"
  /soft lockup/,
  // watchdog_hld.c: "NMI watchdog: Watchdog detected hard LOCKUP on cpu 1"
  /hard LOCKUP/,
  // "rcu: INFO: rcu_preempt self-detected stall on CPU", "... detected stalls on CPUs/tasks:",
  // "... detected expedited stalls ...", "rcu: INFO: rcu_tasks detected stalls on tasks:"
  /rcu: INFO: rcu_.* stall/,
  // hung_task.c: "INFO: task sh:123 blocked for more than 120 seconds."
  /INFO: task .* blocked for more than \d+ seconds/,
  // __warn_thunk() of kernels that have it (6.1.176 has not): a return site left unpatched,
  // "Unpatched return thunk in use. This should not happen!"
  /Unpatched return thunk/,
  // "UBSAN: array-index-out-of-bounds in net/x.c:12:3" (kernels built with UBSAN)
  /UBSAN:/,
  // "BUG: KASAN: slab-out-of-bounds in f+0x1/0x2" (kernels built with KASAN)
  /KASAN:/
];
function findSplats(log, patterns = SPLAT_PATTERNS) {
  if (!Array.isArray(patterns) || patterns.length === 0) throw new Error("no splat patterns: refusing to judge a guest log");
  return log.split("\n").filter((line) => patterns.some((p) => p.test(line)));
}

// src/qemu/judge.ts
var TAINT_EXPECTED_FROM_MODULES = 1 << 12 | 1 << 13 | 1 << 15;
var TAINT_LETTERS = "PFSRMBUDAWCIOELKXT";
function describeTaint(bits) {
  const names = [];
  for (let bit = 0; bit < TAINT_LETTERS.length; bit++) if (bits & 1 << bit) names.push(`${TAINT_LETTERS[bit]}(${bit})`);
  return names.join(" ") || "none";
}
function between(log, begin, end) {
  const a = log.indexOf(begin);
  if (a === -1) return "";
  const b = log.indexOf(end, a + begin.length);
  return log.slice(a + begin.length, b === -1 ? void 0 : b).replace(/^\r?\n/, "");
}
function stepResults(protocol, steps, timings) {
  const text = protocol.replace(/\r/g, "");
  return steps.map((step, i) => {
    const begin = text.indexOf(`KSPLICE-STEP-BEGIN ${i}
`);
    if (begin === -1) return { name: step.name, status: "not-run", exitCode: null, output: "", durationMs: null };
    const bodyStart = begin + `KSPLICE-STEP-BEGIN ${i}
`.length;
    const end = /KSPLICE-STEP-END (\d+) rc=(\d+)/g;
    end.lastIndex = bodyStart;
    let m;
    while ((m = end.exec(text)) && m[1] !== String(i)) ;
    const killed = text.includes(`KSPLICE-STEP-KILLED ${i}
`);
    const output = text.slice(bodyStart, m ? m.index : void 0).replace(`KSPLICE-STEP-KILLED ${i}
`, "");
    const began = timings.stepBegun[i];
    const ended = timings.stepEnded[i];
    const durationMs = began !== void 0 && ended !== void 0 ? ended - began : null;
    if (!m)
      return {
        name: step.name,
        status: "failed",
        exitCode: null,
        output: output.trimEnd() + "\n(the guest stopped during this step)",
        durationMs
      };
    const exitCode = Number(m[2]);
    return { name: step.name, status: killed ? "timed-out" : exitCode === 0 ? "passed" : "failed", exitCode, output, durationMs };
  });
}
function kernelLogLines(kernelConsole, dmesg) {
  const seen = /* @__PURE__ */ new Set();
  const lines = [];
  for (const line of `${dmesg}
${kernelConsole}`.replace(/\r/g, "").split("\n")) {
    if (line.trim() === "" || seen.has(line)) continue;
    seen.add(line);
    lines.push(line);
  }
  return lines;
}
function judge(transcript, steps, policy = {}) {
  const splatPatterns = policy.splatPatterns ?? SPLAT_PATTERNS;
  const { protocol, timingsMs } = transcript;
  const booted = protocol.includes("KSPLICE-GUEST-START");
  const results = stepResults(protocol, steps, timingsMs);
  const taints = [...protocol.matchAll(/KSPLICE-TAINT=(\d+)/g)].map((m) => Number(m[1]));
  const before = taints.length > 0 ? taints[0] : null;
  const after = taints.length > 1 ? taints[taints.length - 1] : null;
  const allowed = policy.allowedTaint ?? TAINT_EXPECTED_FROM_MODULES;
  const unexpected = before !== null && after !== null ? after & ~before & ~allowed : 0;
  const dmesg = between(protocol, "KSPLICE-DMESG-BEGIN", "KSPLICE-DMESG-END");
  const splats = findSplats(kernelLogLines(transcript.console, dmesg).join("\n"), splatPatterns);
  const failures = [];
  if (!booted) failures.push("the guest never reached userspace");
  if (transcript.timedOut) failures.push(`the run was killed after ${transcript.timeoutSeconds} s`);
  for (const r of results)
    if (r.status !== "passed" && r.status !== "not-run")
      failures.push(`step ${r.name} ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ""}`);
  if (booted && !results.some((r) => r.status !== "not-run")) failures.push("no step ran");
  if (after !== null && results.some((r) => r.status !== "not-run")) {
    let stopped = false;
    for (const r of results) {
      if (r.status === "not-run" && (policy.keepGoing || !stopped)) failures.push(`step ${r.name} never ran`);
      if (r.status === "failed" || r.status === "timed-out") stopped = true;
    }
  }
  if (splats.length > 0) failures.push(`${splats.length} kernel splat line(s), first: ${splats[0].trim()}`);
  if (unexpected) failures.push(`the kernel gained taint ${describeTaint(unexpected)}`);
  if (booted && !transcript.timedOut && after === null && results.every((r) => r.status !== "failed"))
    failures.push("the guest did not finish its run");
  if (after !== null && dmesg.trim() === "") failures.push("the guest finished without its dmesg: no kernel log to judge");
  const first = results[0];
  return {
    ok: failures.length === 0,
    failures,
    accelerator: transcript.accelerator,
    kernel: transcript.kernel,
    booted,
    timedOut: transcript.timedOut,
    steps: results,
    scriptExitCode: first?.exitCode ?? null,
    scriptOutput: first?.output ?? "",
    dmesg,
    kernelConsole: transcript.console,
    splats,
    taint: { before, after, unexpected },
    serialLog: transcript.serialLog,
    serialLogPath: transcript.serialLogPath,
    timingsMs: { boot: timingsMs.userspace, steps: results.reduce((s, r) => s + (r.durationMs ?? 0), 0), total: timingsMs.total }
  };
}

// src/qemu/launch.ts
import { spawn } from "node:child_process";
import net from "node:net";
import { createWriteStream } from "node:fs";
import { access, mkdir as mkdir3, constants } from "node:fs/promises";
import path3 from "node:path";
var kvmProbe = null;
function kvmUsable() {
  kvmProbe ??= (async () => {
    if (process.env.KSPLICE_QEMU_ACCEL) return process.env.KSPLICE_QEMU_ACCEL === "kvm";
    if (!await access("/dev/kvm", constants.R_OK | constants.W_OK).then(
      () => true,
      () => false
    ))
      return false;
    return new Promise((resolve) => {
      const probe = spawn("qemu-system-x86_64", ["-accel", "kvm", "-cpu", "host", "-display", "none", "-S", "-no-reboot"], {
        stdio: "ignore"
      });
      const timer = setTimeout(() => {
        probe.kill("SIGKILL");
        resolve(true);
      }, 3e3);
      probe.on("exit", () => {
        clearTimeout(timer);
        resolve(false);
      });
      probe.on("error", () => resolve(false));
    });
  })();
  return kvmProbe;
}
var SerialStream = class {
  constructor(onLine) {
    this.onLine = onLine;
  }
  onLine;
  /** Everything received, as received. */
  text = "";
  pending = "";
  push(chunk) {
    this.text += chunk;
    const lines = (this.pending + chunk).split("\n");
    this.pending = lines.pop();
    for (const line of lines) this.onLine(line + "\n");
  }
  /** The unfinished last line, once the stream has ended. */
  flush() {
    if (this.pending) this.onLine(this.pending + "\n");
    this.pending = "";
  }
  get partialLine() {
    return this.pending;
  }
};
async function listenForProtocol(socketPath, onData) {
  const server = net.createServer();
  let ended = null;
  server.on("connection", (socket) => {
    if (ended) return void socket.destroy();
    socket.on("data", onData);
    ended = new Promise((resolve) => socket.on("close", () => resolve()));
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    // QEMU never connected (it failed to start): nothing to wait for
    ended: () => ended ?? Promise.resolve(),
    close: () => server.close()
  };
}
function displayLine(text) {
  const lines = text.replace(/\r/g, "").split("\n").filter((l) => l.trim() !== "");
  return (lines[lines.length - 1] ?? "").replace(/\x1b\[[0-9;?]*[a-zA-Z]|[\x00-\x1f]/g, "").trim();
}
async function launchQemu(options) {
  const log = options.log ?? stderrSink;
  const started = options.startedAt ?? Date.now();
  const stepName = (i) => options.stepNames?.[i] ?? String(i);
  let serialFile = null;
  let protocolChannel = null;
  try {
    if (options.serialLogPath) {
      await mkdir3(path3.dirname(path3.resolve(options.serialLogPath)), { recursive: true });
      serialFile = createWriteStream(options.serialLogPath);
    }
    let serial = "";
    const keepLine = (line) => {
      serial += line;
      serialFile?.write(Buffer.from(line, "latin1"));
    };
    let userspaceMs = null;
    let lastLine = "";
    const stepBegun = {};
    const stepEnded = {};
    const onProtocolLine = (line) => {
      keepLine(line);
      if (userspaceMs === null && line.includes("KSPLICE-GUEST-START")) {
        userspaceMs = Date.now() - started;
        log(`[qemu] userspace after ${seconds(userspaceMs)}`);
      }
      const m = /KSPLICE-STEP-(BEGIN|END) (\d+)(?: rc=(\d+))?\r?\n$/.exec(line);
      if (!m) return;
      const i = Number(m[2]);
      const marks = m[1] === "BEGIN" ? stepBegun : stepEnded;
      if (marks[i] !== void 0) return;
      marks[i] = Date.now() - started;
      log(
        m[1] === "BEGIN" ? `[qemu] step ${stepName(i)} ...` : `[qemu] step ${stepName(i)}: exit ${m[3]} (${seconds(marks[i] - (stepBegun[i] ?? marks[i]))})`
      );
    };
    const kernel = new SerialStream(keepLine);
    const protocol = new SerialStream(onProtocolLine);
    const qemuMessages = new SerialStream(keepLine);
    const feed = (stream) => (chunk) => {
      stream.push(chunk.toString("latin1"));
      lastLine = displayLine(stream.partialLine) || displayLine(stream.text.slice(-4096)) || lastLine;
    };
    protocolChannel = await listenForProtocol(options.protocolSocket, feed(protocol));
    const child = spawn("qemu-system-x86_64", options.args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", feed(kernel));
    child.stderr.on("data", feed(qemuMessages));
    const ticker = setInterval(() => log(`[qemu] ${seconds(Date.now() - started)}: ${lastLine.slice(0, 100)}`), 5e3);
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutSeconds * 1e3);
    const ended = await new Promise((resolve) => {
      child.on("error", (e) => resolve(e));
      child.on("close", (code, signal) => resolve({ code, signal }));
    });
    clearTimeout(killer);
    await protocolChannel.ended();
    clearInterval(ticker);
    for (const stream of [kernel, protocol, qemuMessages]) stream.flush();
    if (ended instanceof Error) throw new Error(`cannot run qemu-system-x86_64: ${ended.message}`);
    return {
      accelerator: options.accelerator,
      kernel: options.kernel,
      timeoutSeconds: options.timeoutSeconds,
      console: kernel.text,
      protocol: protocol.text,
      qemuMessages: qemuMessages.text,
      serialLog: serial,
      serialLogPath: options.serialLogPath ?? null,
      timedOut,
      exit: ended,
      timingsMs: { userspace: userspaceMs, stepBegun, stepEnded, total: Date.now() - started }
    };
  } finally {
    protocolChannel?.close();
    if (serialFile) await new Promise((resolve) => serialFile.end(() => resolve()));
  }
}

// src/qemu/qemu-args.ts
var DEFAULT_SMP = 2;
var DEFAULT_MEMORY_MIB = 1024;
var TCG_THREAD_DEFAULT = "single";
function kernelCmdline(options) {
  return [
    "console=ttyS0",
    "panic=-1",
    ...options.panicOnOops ?? true ? ["oops=panic", "softlockup_panic=1"] : [],
    ...options.quietBoot ?? true ? ["quiet", "loglevel=3"] : [],
    ...options.appendCmdline ? [options.appendCmdline] : []
  ].join(" ");
}
function qemuArgs(options) {
  const { accelerator } = options;
  const cpu = options.cpu ?? (accelerator === "kvm" ? "host" : void 0);
  const tcgThread = options.tcgThread ?? TCG_THREAD_DEFAULT;
  return [
    "-accel",
    accelerator === "tcg" ? `tcg,thread=${tcgThread}` : accelerator,
    ...cpu ? ["-cpu", cpu] : [],
    "-m",
    String(options.memoryMiB ?? DEFAULT_MEMORY_MIB),
    "-smp",
    String(options.smp ?? DEFAULT_SMP),
    // ttyS0: the kernel console on stdout; ttyS1: the protocol, on the socket
    "-nographic",
    "-serial",
    "mon:stdio",
    "-chardev",
    `socket,id=protocol,path=${options.protocolSocket}`,
    "-serial",
    "chardev:protocol",
    "-no-reboot",
    "-kernel",
    options.vmlinuz,
    "-initrd",
    options.initramfs,
    // a host file the guest writes and a later run reads again (what survives a "reboot")
    ...(options.disks ?? []).flatMap((file) => ["-drive", `file=${file.replace(/,/g, ",,")},format=raw,if=virtio`]),
    "-append",
    kernelCmdline(options)
  ];
}

// src/qemu/guest.ts
var BOOT_ALLOWANCE_SECONDS = 60;
function stepsOf(options) {
  const steps = [...options.steps ?? [], ...options.script !== void 0 ? [{ name: "script", run: options.script }] : []];
  if (steps.length === 0) throw new Error("runGuest: no steps to run (a guest run that checks nothing cannot pass)");
  const names = /* @__PURE__ */ new Set();
  for (const step of steps) {
    if (!/^[\w.-]+$/.test(step.name)) throw new Error(`runGuest: step name '${step.name}' must be a word (letters, digits, _ . -)`);
    if (names.has(step.name)) throw new Error(`runGuest: two steps named '${step.name}'`);
    names.add(step.name);
  }
  return steps;
}
async function guestTranscript(options) {
  const log = options.log ?? stderrSink;
  const steps = stepsOf(options);
  const policy = {
    keepGoing: options.keepGoing ?? false,
    allowedTaint: options.allowedTaint,
    splatPatterns: options.splatPatterns ?? SPLAT_PATTERNS
  };
  findSplats("", policy.splatPatterns);
  const modules = options.modules?.length ? await guestModules(options.modulesDir ?? modulesDirFor(options.vmlinuz), options.modules, log) : void 0;
  const startedAt = Date.now();
  const accelerator = await kvmUsable() ? "kvm" : "tcg";
  const dir = await mkdtemp(path4.join(os.tmpdir(), "ksplice-guest-"));
  try {
    const initramfs = await buildInitramfs(dir, options.files ?? [], steps, policy.keepGoing, modules);
    const protocolSocket = path4.join(dir, "protocol.sock");
    const args = qemuArgs({ ...options, accelerator, initramfs, protocolSocket });
    const timeoutSeconds = options.timeoutSeconds ?? BOOT_ALLOWANCE_SECONDS + steps.reduce((s, st) => s + (st.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT), 0);
    log(
      `[qemu] booting ${path4.basename(options.vmlinuz)} (${accelerator === "tcg" ? `TCG ${options.tcgThread ?? TCG_THREAD_DEFAULT}-threaded` : "KVM"}, ${options.smp ?? DEFAULT_SMP} vCPUs, ${steps.length} step(s)${modules ? `, ${modules.modules.length} module(s)` : ""}, ${timeoutSeconds} s at most)`
    );
    const transcript = await launchQemu({
      args,
      protocolSocket,
      accelerator,
      kernel: options.vmlinuz,
      timeoutSeconds,
      startedAt,
      log,
      stepNames: steps.map((s) => s.name),
      serialLogPath: options.serialLogPath
    });
    return { transcript, steps, policy };
  } finally {
    await rm2(dir, { recursive: true, force: true });
  }
}
async function runGuest(options) {
  const { transcript, steps, policy } = await guestTranscript(options);
  const verdict = judge(transcript, steps, policy);
  const passed = verdict.steps.filter((r) => r.status === "passed").length;
  const boot = verdict.timingsMs.boot;
  (options.log ?? stderrSink)(
    `[qemu] ${verdict.ok ? "passed" : "FAILED"}: booted in ${boot === null ? "never" : seconds(boot)}, ${passed}/${steps.length} step(s) passed, ${verdict.splats.length} splat(s), ${seconds(verdict.timingsMs.total)} in all${verdict.failures.length ? `; ${verdict.failures.join("; ")}` : ""}`
  );
  return verdict;
}
function verdictJson(v) {
  return {
    ok: v.ok,
    failures: v.failures,
    accelerator: v.accelerator,
    kernel: v.kernel,
    booted: v.booted,
    timedOut: v.timedOut,
    steps: v.steps,
    splats: v.splats,
    taint: v.taint,
    serialLogPath: v.serialLogPath,
    timingsMs: v.timingsMs
  };
}

// src/qemu/update-steps.ts
import path5 from "node:path";
var UPDATE_TOOLS = ["ksplice-apply", "ksplice-undo", "ksplice-view"];
function updateIdOf(tarball) {
  const m = /^ksplice-([a-z0-9_-]+)\.tar\.gz$/i.exec(path5.basename(tarball));
  if (!m) throw new Error(`${tarball}: an update tarball is named ksplice-<id>.tar.gz`);
  return m[1];
}
function updateSteps(options) {
  const id = updateIdOf(options.tarball);
  const tarName = path5.basename(options.tarball);
  const timeoutSeconds = options.stepTimeoutSeconds ?? 120;
  const checkName = `check-${id}.sh`;
  const files = [{ guestName: tarName, hostPath: options.tarball }];
  if (options.check !== void 0) files.push({ guestName: checkName, hostPath: options.check, executable: true });
  else if (options.checkContent !== void 0) files.push({ guestName: checkName, content: options.checkContent, executable: true });
  for (const program of options.checkPrograms ?? []) files.push({ guestName: path5.basename(program), hostPath: program, executable: true });
  const hasCheck = options.check !== void 0 || options.checkContent !== void 0;
  const check = (phase) => hasCheck ? [{ name: `check-${phase}`, run: `sh ./${checkName} ${phase}`, timeoutSeconds }] : [];
  const steps = [
    // the tools travel in the tarball: the guest runs the ones the update was built with
    {
      name: "tools",
      run: `tar -xzf ./${tarName} ${UPDATE_TOOLS.map((t) => `ksplice-${id}/${t}`).join(" ")} && mv ${UPDATE_TOOLS.map((t) => `ksplice-${id}/${t}`).join(" ")} . && chmod 755 ${UPDATE_TOOLS.join(" ")}`,
      timeoutSeconds
    },
    ...check("original"),
    { name: "apply", run: `ksplice-apply ./${tarName}`, timeoutSeconds },
    ...check("applied"),
    { name: "view", run: `ksplice-view --id=${id}`, timeoutSeconds },
    { name: "undo", run: `ksplice-undo ${id}`, timeoutSeconds },
    ...check("reverted")
  ];
  const prefix = options.stepPrefix ? `${options.stepPrefix}-` : "";
  return { id, files, steps: steps.map((step) => ({ ...step, name: prefix + step.name })) };
}

// src/qemu/cli.ts
function fileArg(spec) {
  const colon = spec.lastIndexOf(":");
  const [hostPath, guestName] = colon > 0 ? [spec.slice(0, colon), spec.slice(colon + 1)] : [spec, path6.basename(spec)];
  if (!existsSync2(hostPath)) throw new UsageError(`--file ${hostPath}: no such file`);
  return { guestName, hostPath, executable: true };
}
function stepArg(spec, timeoutSeconds) {
  const eq = spec.indexOf("=");
  if (eq <= 0) throw new UsageError(`--step ${spec}: expected NAME=COMMAND`);
  return { name: spec.slice(0, eq), run: spec.slice(eq + 1), timeoutSeconds };
}
function positiveNumber(value, name) {
  if (value === void 0) return void 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name}=${value}: expected a positive number`);
  return n;
}
function summary(verdict) {
  const lines = verdict.steps.map(
    (s) => `  ${s.status.padEnd(9)} ${s.name}${s.exitCode !== null && s.exitCode !== 0 ? ` (exit ${s.exitCode})` : ""}${s.durationMs !== null ? `  ${(s.durationMs / 1e3).toFixed(1)} s` : ""}`
  );
  lines.push(
    `${verdict.ok ? "PASSED" : "FAILED"}: ${verdict.accelerator.toUpperCase()} guest, userspace after ${verdict.timingsMs.boot === null ? "never" : `${(verdict.timingsMs.boot / 1e3).toFixed(1)} s`}, ${(verdict.timingsMs.total / 1e3).toFixed(1)} s in all; serial log ${verdict.serialLogPath}`
  );
  for (const f of verdict.failures) lines.push(`  - ${f}`);
  return lines.join("\n") + "\n";
}
runCli(QEMU_CLI, async ({ values }) => {
  const stepTimeout = positiveNumber(values["step-timeout"], "step-timeout") ?? 120;
  const files = values.file.map(fileArg);
  const steps = values.step.map((s) => stepArg(s, stepTimeout));
  if (values.script) {
    if (!existsSync2(values.script)) throw new UsageError(`--script ${values.script}: no such file`);
    files.push({ guestName: path6.basename(values.script), hostPath: values.script, executable: true });
    steps.push({
      name: path6.basename(values.script).replace(/[^\w.-]/g, "_"),
      run: `sh ./${path6.basename(values.script)}`,
      timeoutSeconds: stepTimeout
    });
  }
  if (values.check && !values.update) throw new UsageError("--check goes with --update");
  if (values.update) {
    if (!existsSync2(values.update)) throw new UsageError(`--update ${values.update}: no such file`);
    if (values.check && !existsSync2(values.check)) throw new UsageError(`--check ${values.check}: no such file`);
    const update = updateSteps({ tarball: values.update, check: values.check, stepTimeoutSeconds: stepTimeout });
    files.push(...update.files);
    steps.push(...update.steps);
  }
  if (steps.length === 0) throw new UsageError("nothing to run: give --step, --script or --update");
  const tcgThread = values["tcg-thread"];
  if (tcgThread !== void 0 && tcgThread !== "single" && tcgThread !== "multi")
    throw new UsageError(`--tcg-thread=${tcgThread}: expected single or multi`);
  const vmlinuz = values.kernel ?? (await ensureTarget({ release: values["kernel-release"] })).vmlinuz;
  if (!existsSync2(vmlinuz)) throw new UsageError(`--kernel ${vmlinuz}: no such file`);
  const verdict = await runGuest({
    vmlinuz,
    files,
    steps,
    keepGoing: values["keep-going"],
    timeoutSeconds: positiveNumber(values.timeout, "timeout"),
    smp: positiveNumber(values.smp, "smp"),
    memoryMiB: positiveNumber(values.memory, "memory"),
    cpu: values.cpu,
    appendCmdline: values.append,
    tcgThread,
    modules: values.modules.flatMap((m) => m.split(",")).filter(Boolean),
    serialLogPath: path6.resolve(values["serial-log"])
  });
  process.stderr.write(summary(verdict));
  if (values.json) process.stdout.write(JSON.stringify(verdictJson(verdict)) + "\n");
  return verdict.ok ? EXIT.ok : EXIT.guestFailed;
});
