/**
 * Builds in the pinned toolchain container: the `docker run` lines that run ksplice-setup and
 * ksplice-create (the Action's own bundle, `node dist/index.js setup|create ...`) in an image named
 * by digest. Every folder
 * the build reads or writes is bind-mounted at its own path (the workspace, the Action, the
 * prepared kernel cache, the output folder, a patch or tree outside the workspace), so every path
 * in the JSON answer means the same on the runner. The setup run prepares the target kernel in the
 * mounted cache (it downloads Debian's packages and runs kbuild's prepare with the image's gcc-12,
 * so it has the network); the build run that follows has none, and only reads that cache. Both run as
 * the runner's user, so the objects it leaves in the cached tree stay the runner's to rebuild.
 * Without an image the build runs on the host; either way ksplice-create checks the toolchain
 * fingerprint before building.
 *
 * Usage:
 *   const image = parseImageReference('ghcr.io/org/ksplice-toolchain@sha256:…');
 *   const common = { image, actionPath, workspace, cacheDir, user: '1001:1001' };
 *   await run('docker', dockerArgv({ ...common, tool: 'setup', network: true, mounts: [], args: ['--release=6.1.0-50-amd64', '--json'] }));
 *   await run('docker', dockerArgv({ ...common, tool: 'create', network: false, mounts: [outputDir, patch], args: ['--patch=…', …] }));
 */
import path from 'node:path';
import { InputError } from './errors.ts';

export interface PinnedImage {
  name: string;
  digest: string;
  /** `name@sha256:…`, what docker runs. */
  reference: string;
}

/** Only a digest pins an image: a tag can be moved to other bytes under the same name. */
export function parseImageReference(reference: string): PinnedImage {
  const m = /^([a-z0-9][a-z0-9._\-/:]*?)(?::[\w][\w.-]{0,127})?@(sha256:[0-9a-f]{64})$/.exec(reference.trim());
  if (!m) {
    throw new InputError(
      `toolchain-image ${reference}: pin the image by digest (name@sha256:<64 hex digits>); a tag can change under you. ` +
        'docker buildx imagetools inspect <name:tag> prints the digest.',
    );
  }
  return { name: m[1], digest: m[2], reference: `${m[1]}@${m[2]}` };
}

export interface ContainerRun {
  image: PinnedImage;
  /** The Action's folder (its dist/ bundle and kmod/). */
  actionPath: string;
  workspace: string;
  /** The prepared kernels (KSPLICE_CACHE_DIR). */
  cacheDir: string;
  /** Further files or folders the build reads or writes: the output folder, the patch, a tree of your own. */
  mounts: string[];
  /** `uid:gid` the build runs as (the runner's). */
  user: string;
  /** Which of the bundle's tools runs: ksplice-setup (prepares the target) or ksplice-create. */
  tool: 'setup' | 'create';
  /** Only the setup downloads (Debian's archive); the build must not need anything but its mounts. */
  network: boolean;
  /** The tool's arguments. */
  args: string[];
}

function isInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The folders to mount, outermost only: a path inside another mounted one is already there.
 * Example: ['/w', '/w/patches/a.patch', '/c', '/tmp/out'] → ['/w', '/c', '/tmp/out'].
 */
export function outermostPaths(paths: readonly string[]): string[] {
  const resolved = [...new Set(paths.map((p) => path.resolve(p)))];
  return resolved.filter((p) => !resolved.some((q) => q !== p && isInside(q, p)));
}

export function dockerArgv(run: ContainerRun): string[] {
  const mounts = outermostPaths([run.workspace, run.actionPath, run.cacheDir, ...run.mounts]).flatMap((dir) => ['-v', `${dir}:${dir}`]);
  return [
    'run',
    '--rm',
    ...(run.network ? [] : ['--network=none']),
    '--user',
    run.user,
    ...mounts,
    '-w',
    run.workspace,
    '-e',
    `KSPLICE_CACHE_DIR=${run.cacheDir}`,
    '-e',
    'HOME=/tmp',
    run.image.reference,
    'node',
    `${run.actionPath}/dist/index.js`,
    run.tool,
    ...run.args,
  ];
}
