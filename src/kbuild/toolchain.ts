/**
 * The toolchain fingerprint: the compiler, assembler and linker that built the target kernel,
 * compared with the ones on this machine before anything is built.
 *
 * Why it matters: run-pre matching compares the running code with code compiled here. Another
 * gcc emits other code, and every update would be refused at apply time, or worse, the
 * reproduction check would be the only thing standing between a miscompiled replica and a guest.
 * So, as the article says, "the Ksplice tools will notice and complain before trying".
 *
 * Usage:
 *   const fp = await checkToolchain(target);                       // throws ToolchainMismatchError
 *   const fp = await checkToolchain(target, { allowMismatch: true, log }); // warns loudly instead
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from '../util/exec.ts';
import { stderrSink, type LogSink } from '../util/progress.ts';

export interface ToolchainFingerprint {
  /** `CONFIG_CC_VERSION_TEXT`: the first line of `$CC --version`, e.g. `gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0`. */
  ccVersionText: string;
  /** `CONFIG_AS_VERSION`, as scripts/as-version.sh computes it: 2.40 → 24000. */
  asVersion: number;
  /** `CONFIG_LD_VERSION`, as scripts/ld-version.sh computes it. */
  ldVersion: number;
  /** The `.comment` strings gcc leaves in every object, e.g. `GCC: (Debian 12.2.0-14+deb12u1) 12.2.0`. */
  comment: string[];
}

export interface ToolchainCheck {
  target: ToolchainFingerprint;
  local: ToolchainFingerprint;
  mismatches: string[];
}

export class ToolchainMismatchError extends Error {
  constructor(readonly mismatches: string[]) {
    super(
      `toolchain mismatch: this machine's tools differ from those that built the target kernel:\n` +
        mismatches.map((m) => `  - ${m}`).join('\n') +
        `\nInstall the target's toolchain (or build in the pinned toolchain container); ` +
        `--allow-toolchain-mismatch overrides this at the cost of updates that will not match at apply time.`,
    );
    this.name = 'ToolchainMismatchError';
  }
}

/** Reads one `CONFIG_X=...` value from a .config text; strings lose their quotes. */
export function configValue(configText: string, option: string): string | undefined {
  const m = new RegExp(`^${option}=(.*)$`, 'm').exec(configText);
  if (!m) return undefined;
  const raw = m[1];
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/\\"/g, '"') : raw;
}

/** `GNU assembler (GNU Binutils for Debian) 2.40` → 24000, as the kernel's version scripts compute it. */
export function binutilsVersionNumber(versionLine: string): number {
  // Like scripts/as-version.sh: the last word is the version; only its first three numbers count
  // (a snapshot's `2.38.50.20220101` is 2.38.50).
  const lastWord = versionLine.trim().split(/\s+/).pop() ?? '';
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(lastWord);
  if (!m) throw new Error(`cannot read a version number from: ${versionLine}`);
  return Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3] ?? 0);
}

/** The `.comment` strings of an ELF file (one per producer), via readelf. */
export async function elfComment(file: string): Promise<string[]> {
  const dump = await run('readelf', ['-p', '.comment', file]);
  return [...dump.matchAll(/^\s*\[\s*[0-9a-f]+\]\s+(.*)$/gm)].map((m) => m[1].trim()).filter(Boolean);
}

/**
 * The target's fingerprint: from its .config and the .comment of its shipped vmlinux. Without a
 * shipped object (a config dir the user made without one) only the config's versions count.
 */
export async function targetFingerprint(configFile: string, shippedObject?: string): Promise<ToolchainFingerprint> {
  const text = await readFile(configFile, 'utf8');
  const need = (option: string) => {
    const v = configValue(text, option);
    if (v === undefined) throw new Error(`${configFile} has no ${option}: not a kernel config made by kbuild`);
    return v;
  };
  return {
    ccVersionText: need('CONFIG_CC_VERSION_TEXT'),
    asVersion: Number(need('CONFIG_AS_VERSION')),
    ldVersion: Number(need('CONFIG_LD_VERSION')),
    comment: shippedObject ? await elfComment(shippedObject) : [],
  };
}

/** The compiler a target names in `CONFIG_CC_VERSION_TEXT`, e.g. `gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0`. */
export interface TargetCompiler {
  /** The program kbuild called (Debian's .kernelvariables set CC, with CROSS_COMPILE on 6.12): `gcc-12`, `x86_64-linux-gnu-gcc-12`. */
  program: string;
  /** The Debian package holding it (the triplet-prefixed name is in the same package): `gcc-12`. */
  package: string;
  /** The Debian package version in the text, when there is one: `12.2.0-14+deb12u1`. */
  debianVersion?: string;
  versionText: string;
}

/** Reads the compiler out of `CONFIG_CC_VERSION_TEXT`; only gcc builds are understood. */
export function compilerOf(ccVersionText: string): TargetCompiler {
  const m = /^((?:[a-z0-9_]+-linux-gnu-)?(gcc(?:-\d+)?)) \((?:Debian ([^)\s]+))?[^)]*\) \S+/.exec(ccVersionText);
  if (!m) throw new Error(`target built with '${ccVersionText}': only gcc-built kernels are supported`);
  return { program: m[1], package: m[2], debianVersion: m[3], versionText: ccVersionText };
}

/** What to do about the target's compiler on this host. */
export type CompilerVerdict = { action: 'use' } | { action: 'install'; spec: string } | { action: 'refuse'; reason: string };

/**
 * Pure decision: `local` is the first line of `<program> --version` here (null: not installed),
 * `installable` the versions of package `<program>` apt offers.
 */
export function compilerVerdict(target: TargetCompiler, local: string | null, installable: readonly string[]): CompilerVerdict {
  if (local === target.versionText) return { action: 'use' };
  if (target.debianVersion && installable.includes(target.debianVersion)) {
    return { action: 'install', spec: `${target.package}=${target.debianVersion}` };
  }
  const here = local ? `this machine has '${local}'` : `this machine has no ${target.program}`;
  const offered = installable.length > 0 ? `apt offers ${target.package} ${installable.join(', ')}` : `apt offers no ${target.package}`;
  return {
    action: 'refuse',
    reason: `target built with '${target.versionText}'; ${here} and ${offered}: build in a container with the target's compiler`,
  };
}

/** Assembler and linker versions: binutils cannot sit side by side, so a difference is a refusal. */
export function binutilsVerdict(
  target: { asVersion: number; ldVersion: number },
  local: { asVersion: number; ldVersion: number },
): string[] {
  const problems: string[] = [];
  if (target.asVersion !== local.asVersion)
    problems.push(`assembler: target CONFIG_AS_VERSION=${target.asVersion}, this machine's as is ${local.asVersion}`);
  if (target.ldVersion !== local.ldVersion)
    problems.push(`linker: target CONFIG_LD_VERSION=${target.ldVersion}, this machine's ld is ${local.ldVersion}`);
  return problems;
}

export interface LocalToolOptions {
  /** The compiler kbuild will call; default: the program the target's CONFIG_CC_VERSION_TEXT names. */
  cc?: string;
  /** Environment (PATH) the tools are looked up in. */
  env?: NodeJS.ProcessEnv;
}

/** This machine's fingerprint, measured the way kbuild measures it. */
export async function localFingerprint(options: LocalToolOptions & { cc: string }): Promise<ToolchainFingerprint> {
  const cc = options.cc;
  const env = options.env ?? process.env;
  const firstLine = async (program: string) => (await run(program, ['--version'], { env })).split('\n')[0].trim();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ksplice-cc-'));
  try {
    await writeFile(path.join(dir, 'probe.c'), 'int ksplice_probe;\n');
    await run(cc, ['-c', '-o', path.join(dir, 'probe.o'), path.join(dir, 'probe.c')], { env });
    return {
      ccVersionText: await firstLine(cc),
      asVersion: binutilsVersionNumber(await firstLine('as')),
      ldVersion: binutilsVersionNumber(await firstLine('ld')),
      comment: await elfComment(path.join(dir, 'probe.o')),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Human descriptions of every way `local` differs from `target`; empty when they match. */
export function compareFingerprints(target: ToolchainFingerprint, local: ToolchainFingerprint): string[] {
  const mismatches: string[] = [];
  if (target.ccVersionText !== local.ccVersionText) {
    mismatches.push(`compiler: target built with '${target.ccVersionText}', this machine has '${local.ccVersionText}'`);
  }
  mismatches.push(...binutilsVerdict(target, local));
  const missing = target.comment.filter((c) => c.startsWith('GCC:') && !local.comment.includes(c));
  if (missing.length > 0) {
    mismatches.push(`object .comment: target objects say '${missing.join("', '")}', this machine's say '${local.comment.join("', '")}'`);
  }
  return mismatches;
}

export interface CheckOptions extends LocalToolOptions {
  /** Go on despite a mismatch, with a loud warning. */
  allowMismatch?: boolean;
  log?: LogSink;
}

/** Compares the target's toolchain (config + shipped vmlinux) with this machine's. */
export async function checkToolchain(target: { config: string; vmlinux?: string }, options: CheckOptions = {}): Promise<ToolchainCheck> {
  const targetFp = await targetFingerprint(target.config, target.vmlinux);
  const localFp = await localFingerprint({ ...options, cc: options.cc ?? compilerOf(targetFp.ccVersionText).program });
  const mismatches = compareFingerprints(targetFp, localFp);
  if (mismatches.length > 0) {
    if (!options.allowMismatch) throw new ToolchainMismatchError(mismatches);
    const log = options.log ?? stderrSink;
    log('WARNING: toolchain mismatch overridden (--allow-toolchain-mismatch); updates built now will likely fail run-pre matching:');
    for (const m of mismatches) log(`WARNING:   ${m}`);
  }
  return { target: targetFp, local: localFp, mismatches };
}
