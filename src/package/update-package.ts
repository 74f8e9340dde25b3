/**
 * Step 8 of ksplice-create: the tarball `ksplice-<id>.tar.gz` (update-tarball.ts, beside this file)
 * holding the core, the update module, the target tools, the patch and the objects.
 *
 * Layout of `ksplice-<id>/` (update-tarball.ts): the modules, the tools, the patch, the
 * description and manifest.json at the top; the objects under their tree paths:
 *   objects/pre/fs/proc/cmdline.o, objects/post/fs/proc/cmdline.o.
 *
 * Usage:
 *   const tarball = await writeUpdatePackage({ id, release, ..., outputDir });
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeUpdateTarball, type FunctionEntry, type PackedFile } from './update-tarball.ts';
import { configValue } from '../kbuild/toolchain.ts';
import type { SigningIdentity } from '../kbuild/sign-module.ts';

export interface PackageInput {
  id: string;
  release: string;
  sourceDir: string;
  config: string;
  patchPath: string;
  coreKo: string;
  updateKo: string;
  toolsDir: string;
  changed: FunctionEntry[];
  new: FunctionEntry[];
  /** Object path in the tree → pre and post object files. */
  objects: { object: string; pre: string; post: string }[];
  outputDir: string;
  /** The shipped kernel's linux_banner (`Linux version ... Debian 6.1.176-1 (...)`), when known. */
  banner?: string;
  /** The signature both modules carry (src/kbuild/sign-module.ts); absent: unsigned. */
  moduleSignature?: SigningIdentity;
}

const TOOLS = ['ksplice-apply', 'ksplice-undo', 'ksplice-view'];

/** Where an object of the tree goes in the package: `objects/pre/fs/proc/cmdline.o`. */
export function packagedObjectPath(stage: 'pre' | 'post', object: string): string {
  return `objects/${stage}/${object}`;
}

/**
 * The distribution's source package version, which names the kernel's source exactly (Debian's
 * 6.1.176-1 is upstream 6.1.176 plus Debian's patches), as the shipped kernel's banner says it.
 *
 * Example: `Linux version 6.1.0-50-amd64 (...) #1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2026-07-02)` → `6.1.176-1`.
 */
export function bannerSourceVersion(banner: string): string | null {
  return / (?:Debian|Ubuntu) (\d[A-Za-z0-9.+~:-]*) \(/.exec(banner)?.[1] ?? null;
}

/** Debian's source version from the banner where known, else `6.1.176` from the tree's top Makefile. */
async function sourceVersion(sourceDir: string, banner?: string): Promise<string> {
  const distro = banner ? bannerSourceVersion(banner) : null;
  if (distro) return distro;
  const text = await readFile(path.join(sourceDir, 'Makefile'), 'utf8');
  const field = (name: string) => new RegExp(`^${name} = (\\S*)`, 'm').exec(text)?.[1] ?? '';
  return [field('VERSION'), field('PATCHLEVEL'), field('SUBLEVEL')].filter(Boolean).join('.');
}

export async function writeUpdatePackage(input: PackageInput): Promise<string> {
  const configText = await readFile(input.config, 'utf8');
  const patchName = path.basename(input.patchPath).replace(/[^A-Za-z0-9._-]/g, '_');
  const files: PackedFile[] = [
    { path: 'ksplice.ko', data: await readFile(input.coreKo) },
    { path: path.basename(input.updateKo), data: await readFile(input.updateKo) },
    { path: patchName, data: await readFile(input.patchPath) },
  ];
  for (const tool of TOOLS) files.push({ path: tool, data: await readFile(path.join(input.toolsDir, tool)), executable: true });
  for (const o of input.objects) {
    files.push({ path: packagedObjectPath('pre', o.object), data: await readFile(o.pre) });
    files.push({ path: packagedObjectPath('post', o.object), data: await readFile(o.post) });
  }
  const description = `Ksplice update ${input.id} for ${input.release}: replaces ${input.changed.map((c) => c.function).join(', ')} (from ${patchName})`;
  files.push({ path: 'description.txt', data: Buffer.from(description + '\n') });
  const gz = writeUpdateTarball(
    {
      id: input.id,
      kernelRelease: input.release,
      sourceVersion: await sourceVersion(input.sourceDir, input.banner),
      toolchain: {
        cc: configValue(configText, 'CONFIG_CC_VERSION_TEXT') ?? '',
        as: Number(configValue(configText, 'CONFIG_AS_VERSION') ?? 0),
        ld: Number(configValue(configText, 'CONFIG_LD_VERSION') ?? 0),
      },
      description,
      patch: patchName,
      coreModule: 'ksplice.ko',
      updateModule: path.basename(input.updateKo),
      ...(input.moduleSignature ? { moduleSignature: input.moduleSignature } : {}),
      changed: input.changed,
      new: input.new,
    },
    files,
  );
  await mkdir(input.outputDir, { recursive: true });
  const tarball = path.resolve(input.outputDir, `ksplice-${input.id}.tar.gz`);
  await writeFile(tarball, gz);
  return tarball;
}
