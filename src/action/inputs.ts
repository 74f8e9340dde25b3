/**
 * The Action's inputs (action.yml), read and checked before any work starts: one clear message
 * for the first bad one (a project file's problems: one per problem, each naming its line).
 *
 * What to build comes from the project file (`manifest`: ksplice.yml, src/manifest/project-file.ts)
 * or from the shortcuts `patch`, `id`, `hooks`, `accept` and `check-script`, which make the same
 * list of updates; giving both is refused. Also decided here, from the inputs alone: the host
 * packages a run needs (hostPackagesFor) and whether an update is proven in QEMU (proofPlan).
 *
 * Usage: const inputs = await readInputs(core.getInput);
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { acceptedSymbols, formatPosition, readProjectFile, type AcceptEntry, type ProjectPatch } from '../manifest/project-file.ts';
import { matchPatchPattern } from '../manifest/patch-glob.ts';
import { HOST_PACKAGES } from '../setup/host-packages.ts';
import { parseImageReference, type PinnedImage } from './container.ts';
import { InputError } from './errors.ts';

export const DEFAULT_KERNEL_RELEASE = '6.1.0-50-amd64';

/** One update to build per target kernel: a patch and what goes with it (ProjectPatch, from either source). */
export type ActionUpdate = Pick<ProjectPatch, 'patch' | 'id' | 'hooks' | 'check' | 'accept'>;

export interface ActionInputs {
  /** Debian releases, one build of every update each (unused with kernelSource). */
  kernelReleases: string[];
  /** A kernel tree of your own instead of a Debian release, with its config dir (default <tree>/ksplice). */
  kernelSource?: string;
  kernelConfig?: string;
  /** The project file, when the updates come from it. */
  manifest?: string;
  /** The updates, in order. */
  updates: ActionUpdate[];
  toolchainImage?: PinnedImage;
  qemuTest: boolean;
  uploadArtifact: boolean;
  releaseTag?: string;
  /** Replace a same-named release asset with other bytes (default: refuse). */
  overwrite: boolean;
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
  const match = matchPatchPattern(pattern, cwd);
  if ('error' in match) throw new InputError(`patch ${pattern}: ${match.error}`);
  return match.files;
}

/** The accept input: symbols separated by commas or lines (as ksplice-create --accept), any rule. */
export function parseAcceptInput(text: string): AcceptEntry[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((symbol) => ({ symbol, rule: null, reason: null, at: { file: 'input accept', line: 1, column: 1 } }));
}

/** The inputs that describe what to build; with a project file they must be empty. */
const SHORTCUTS = ['patch', 'id', 'hooks', 'accept', 'check-script'] as const;

async function updatesFromShortcuts(get: GetInput, cwd: string): Promise<ActionUpdate[]> {
  const patch = get('patch').trim();
  if (!patch)
    throw new InputError('input patch is required: a patch file, a pattern such as patches/*.patch, or a project file in manifest');
  const file = (name: string, given: string): string | null => {
    const value = given.trim();
    if (!value) return null;
    if (!existsSync(path.resolve(cwd, value))) throw new InputError(`${name} ${value}: no such file`);
    return path.resolve(cwd, value);
  };
  const check = file('check-script', get('check-script'));
  const hooks = file('hooks', get('hooks'));
  const id = get('id').trim() || null;
  const accept = parseAcceptInput(get('accept'));
  const patches = await expandPatchPattern(patch, cwd);
  if (id && patches.length > 1) throw new InputError(`input id names one update, but patch ${patch} matches ${patches.length} files`);
  return patches.map((p) => ({ patch: p, id, hooks, check, accept }));
}

export async function readInputs(get: GetInput, cwd = process.cwd()): Promise<ActionInputs> {
  const kernelSource = get('kernel-source').trim() || undefined;
  const kernelConfig = get('kernel-config').trim() || undefined;
  if (kernelConfig && !kernelSource) throw new InputError('input kernel-config goes with kernel-source');
  if (kernelSource && !existsSync(kernelSource)) throw new InputError(`kernel-source ${kernelSource}: no such folder`);
  const image = get('toolchain-image').trim();
  const release = get('kernel-release').trim();
  const manifest = get('manifest').trim() || undefined;

  let updates: ActionUpdate[];
  let kernelReleases = [release || DEFAULT_KERNEL_RELEASE];
  if (manifest) {
    const given = SHORTCUTS.filter((name) => get(name).trim() !== '');
    if (given.length > 0) {
      throw new InputError(`input ${given.join(', ')}: the project file ${manifest} says what to build; give one or the other`);
    }
    // ProjectFileError (every problem with its line) goes up as it is: main.ts annotates each.
    const project = await readProjectFile(path.resolve(cwd, manifest));
    const where = project.kernelReleasesAt && formatPosition(project.kernelReleasesAt);
    if (where && kernelSource)
      throw new InputError(`${where}: kernel-releases names Debian releases; input kernel-source is another tree: give one`);
    if (where && release)
      throw new InputError(`${where}: kernel-releases is given in the project file; input kernel-release would contradict it`);
    if (project.kernelReleases.length > 0) kernelReleases = project.kernelReleases;
    updates = project.patches;
  } else updates = await updatesFromShortcuts(get, cwd);
  if (kernelSource && release) throw new InputError('input kernel-release names a Debian tree; kernel-source is another: give one');

  return {
    kernelReleases,
    kernelSource: kernelSource && path.resolve(cwd, kernelSource),
    kernelConfig: kernelConfig && path.resolve(cwd, kernelConfig),
    manifest: manifest && path.resolve(cwd, manifest),
    updates,
    toolchainImage: image ? parseImageReference(image) : undefined,
    qemuTest: flag(get, 'qemu-test', true),
    uploadArtifact: flag(get, 'upload-artifact', true),
    releaseTag: get('release-tag').trim() || undefined,
    overwrite: flag(get, 'overwrite', false),
    githubToken: get('github-token').trim() || undefined,
  };
}

/** What the QEMU proof needs on the runner (the guest is booted there, even when the build runs in the container). */
export const GUEST_PACKAGES = ['qemu-system-x86', 'busybox-static', 'cpio', 'kmod'] as const;

/**
 * The Debian packages the runner needs for these inputs, ensured on every run whatever the cache
 * holds: building on the runner (a Debian release or a kernel-source tree) needs them all; with
 * toolchain-image the container has the toolchain and the runner only boots the guest.
 */
export function hostPackagesFor(inputs: Pick<ActionInputs, 'toolchainImage' | 'qemuTest'>): string[] {
  if (!inputs.toolchainImage) return [...HOST_PACKAGES];
  return inputs.qemuTest ? [...GUEST_PACKAGES] : [];
}

/** Whether an update is proven in QEMU, and on which kernel image; a skip the user did not ask for says why. */
export type ProofPlan = { prove: true; vmlinuz: string } | { prove: false; notice: string | null };

/**
 * qemu-test off: no proof, nothing to say. A kernel-source tree whose config dir has no vmlinuz:
 * skipped with a notice (action.yml: "a vmlinuz there enables the QEMU proof"), never another
 * kernel booted in its place.
 */
export function proofPlan(inputs: Pick<ActionInputs, 'qemuTest'>, target: { vmlinuz: string | null; configDir?: string }): ProofPlan {
  if (!inputs.qemuTest) return { prove: false, notice: null };
  if (!target.vmlinuz) {
    return {
      prove: false,
      notice: `no vmlinuz in ${target.configDir ?? 'the kernel config folder'}: the QEMU proof is skipped (put the target's vmlinuz there to prove the updates)`,
    };
  }
  return { prove: true, vmlinuz: target.vmlinuz };
}

/** The accept list createUpdate takes (symbols). */
export function acceptOf(update: ActionUpdate): string[] {
  return acceptedSymbols(update.accept);
}
