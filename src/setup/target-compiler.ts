/**
 * The target's compiler on this host, checked from the target's own config before the big
 * downloads: the program and Debian version `CONFIG_CC_VERSION_TEXT` names, and the binutils of
 * `CONFIG_AS_VERSION` / `CONFIG_LD_VERSION`. Installed at that exact version when apt has it and
 * we are root; otherwise refused with both versions named (the judgement: src/kbuild/toolchain.ts).
 *
 * Usage: `await ensureTargetCompiler(await readFile(headersConfig, 'utf8'), log)`.
 */
import { binutilsVerdict, binutilsVersionNumber, compilerOf, compilerVerdict, configValue } from '../kbuild/toolchain.ts';
import { hasProgram, run, runUnchecked } from '../util/exec.ts';
import type { LogSink } from '../util/progress.ts';
import { availableVersions } from './debian-archive.ts';
import { ReleaseRefusedError } from './kernel-release.ts';

async function firstLine(program: string): Promise<string | null> {
  if (!(await hasProgram(program))) return null;
  const result = await runUnchecked(program, ['--version']);
  return result.exitCode === 0 ? result.stdout.split('\n')[0].trim() : null;
}

export async function ensureTargetCompiler(configText: string, log: LogSink): Promise<void> {
  const need = (option: string) => {
    const v = configValue(configText, option);
    if (v === undefined) throw new ReleaseRefusedError(`the target's config has no ${option}: not a kernel config made by kbuild`);
    return v;
  };
  const compiler = compilerOf(need('CONFIG_CC_VERSION_TEXT'));
  const localAs = await firstLine('as');
  const localLd = await firstLine('ld');
  const binutils = binutilsVerdict(
    { asVersion: Number(need('CONFIG_AS_VERSION')), ldVersion: Number(need('CONFIG_LD_VERSION')) },
    { asVersion: localAs ? binutilsVersionNumber(localAs) : 0, ldVersion: localLd ? binutilsVersionNumber(localLd) : 0 },
  );
  if (binutils.length > 0) throw new ReleaseRefusedError(`the target's binutils cannot be had here: ${binutils.join('; ')}`);

  const local = await firstLine(compiler.program);
  const verdict = compilerVerdict(compiler, local, local === compiler.versionText ? [] : await availableVersions(compiler.package));
  if (verdict.action === 'use') return;
  if (verdict.action === 'refuse') throw new ReleaseRefusedError(verdict.reason);
  const command = `apt-get install -y --no-install-recommends ${verdict.spec}`;
  if (process.getuid?.() !== 0)
    throw new ReleaseRefusedError(`the target's compiler '${compiler.versionText}' is missing; run as root: ${command}`);
  log(`installing the target's compiler: ${verdict.spec}`);
  await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', verdict.spec], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}
