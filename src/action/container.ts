/**
 * Builds in the pinned toolchain container: the `docker run` line that runs ksplice-create (the
 * Action's own bundle, `node dist/index.js create ...`) in an image named by digest, with the
 * workspace, the Action and the kernel cache bind-mounted at the same paths, so every path in the
 * JSON answer means the same on the host. Without an image the build runs on the host; either
 * way ksplice-create checks the toolchain fingerprint before building.
 *
 * Usage:
 *   const image = parseImageReference('ghcr.io/org/ksplice-toolchain@sha256:…');
 *   const argv = dockerCreateArgv({ image, actionPath, workspace, cacheDir, create: ['--patch=…', …] });
 *   await run('docker', argv);
 */
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
    throw new InputError(`toolchain-image ${reference}: pin the image by digest (name@sha256:<64 hex digits>); a tag can change under you. ` +
      'docker buildx imagetools inspect <name:tag> prints the digest.');
  }
  return { name: m[1], digest: m[2], reference: `${m[1]}@${m[2]}` };
}

export interface ContainerBuild {
  image: PinnedImage;
  /** The Action's folder (its dist/ bundle and kmod/). */
  actionPath: string;
  workspace: string;
  /** The prepared kernels (KSPLICE_CACHE_DIR). */
  cacheDir: string;
  /** ksplice-create's arguments. */
  create: string[];
}

export function dockerCreateArgv(build: ContainerBuild): string[] {
  const mounts = [...new Set([build.workspace, build.actionPath, build.cacheDir])].flatMap((dir) => ['-v', `${dir}:${dir}`]);
  return [
    'run', '--rm', '--network=none', ...mounts,
    '-w', build.workspace, '-e', `KSPLICE_CACHE_DIR=${build.cacheDir}`, '-e', 'HOME=/tmp',
    build.image.reference,
    'node', `${build.actionPath}/dist/index.js`, 'create', ...build.create,
  ];
}
