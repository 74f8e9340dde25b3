/**
 * The Action's inputs (action.yml), read and checked before any work starts: one clear message
 * for the first bad one.
 *
 * Usage: const inputs = await readInputs(core.getInput);
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseImageReference, type PinnedImage } from './container.ts';
import { InputError } from './errors.ts';

export interface ActionInputs {
  kernelRelease: string;
  /** A kernel tree of your own instead of a Debian release, with its config dir (default <tree>/ksplice). */
  kernelSource?: string;
  kernelConfig?: string;
  /** The patches, in order: one update each. */
  patches: string[];
  id?: string;
  toolchainImage?: PinnedImage;
  qemuTest: boolean;
  checkScript?: string;
  uploadArtifact: boolean;
  releaseTag?: string;
  githubToken?: string;
}

type GetInput = (name: string) => string;

function flag(get: GetInput, name: string, fallback: boolean): boolean {
  const value = get(name).trim().toLowerCase();
  if (value === '') return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new InputError(`input ${name}: expected true or false, got '${value}'`);
}

/** `*` and `?` in the file name part only (`patches/*.patch`), sorted: a series in its order. */
export async function expandPatchPattern(pattern: string, cwd: string): Promise<string[]> {
  const full = path.resolve(cwd, pattern);
  const base = path.basename(full);
  if (/[*?]/.test(path.dirname(full))) throw new InputError(`patch ${pattern}: wildcards are allowed in the file name only`);
  if (!/[*?]/.test(base)) {
    if (!existsSync(full)) throw new InputError(`patch ${pattern}: no such file`);
    return [full];
  }
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  const names = await readdir(path.dirname(full)).catch(() => [] as string[]);
  const matches = names
    .filter((n) => re.test(n))
    .sort()
    .map((n) => path.join(path.dirname(full), n));
  if (matches.length === 0) throw new InputError(`patch ${pattern}: no file matches`);
  return matches;
}

export async function readInputs(get: GetInput, cwd = process.cwd()): Promise<ActionInputs> {
  const patch = get('patch').trim();
  if (!patch) throw new InputError('input patch is required: a patch file, or a pattern such as patches/*.patch');
  const kernelSource = get('kernel-source').trim() || undefined;
  const kernelConfig = get('kernel-config').trim() || undefined;
  if (kernelConfig && !kernelSource) throw new InputError('input kernel-config goes with kernel-source');
  if (kernelSource && !existsSync(kernelSource)) throw new InputError(`kernel-source ${kernelSource}: no such folder`);
  const image = get('toolchain-image').trim();
  const checkScript = get('check-script').trim() || undefined;
  if (checkScript && !existsSync(path.resolve(cwd, checkScript))) throw new InputError(`check-script ${checkScript}: no such file`);
  const id = get('id').trim() || undefined;
  const patches = await expandPatchPattern(patch, cwd);
  if (id && patches.length > 1) throw new InputError(`input id names one update, but patch ${patch} matches ${patches.length} files`);
  return {
    kernelRelease: get('kernel-release').trim() || '6.1.0-50-amd64',
    kernelSource: kernelSource && path.resolve(cwd, kernelSource),
    kernelConfig: kernelConfig && path.resolve(cwd, kernelConfig),
    patches,
    id,
    toolchainImage: image ? parseImageReference(image) : undefined,
    qemuTest: flag(get, 'qemu-test', true),
    checkScript: checkScript && path.resolve(cwd, checkScript),
    uploadArtifact: flag(get, 'upload-artifact', true),
    releaseTag: get('release-tag').trim() || undefined,
    githubToken: get('github-token').trim() || undefined,
  };
}
