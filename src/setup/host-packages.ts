/**
 * The Debian packages this project needs on the build host, installed with apt when missing.
 *
 * Usage: `await ensureHostPackages(HOST_PACKAGES, log)`. As root it runs `apt-get update` once and
 * `apt-get install`; as any other user it stops with the exact install command to run.
 */
import { runUnchecked, run } from '../util/exec.ts';
import type { LogSink } from '../util/progress.ts';

/** Everything the pipeline runs: Debian's tools, kbuild's needs, the QEMU guest. */
export const HOST_PACKAGES = [
  'apt-utils',
  'dpkg-dev',
  'xz-utils',
  'zstd',
  'cpio',
  'rsync',
  'patch',
  'kmod',
  'make',
  'gcc-12',
  'gcc', // kbuild's HOSTCC (fixdep and the other host programs); bookworm's gcc is gcc-12
  'binutils',
  'flex',
  'bison',
  'bc',
  'libelf-dev',
  'libssl-dev',
  'dwarves',
  'python3',
  'qemu-system-x86',
  'busybox-static',
  'libc6-dev', // libc6-dev: static test programs for the guest (gcc-12 -static)
] as const;

/**
 * What the test suite needs beyond the pipeline (scripts/bootstrap.sh installs them too): a real
 * container engine for test/container (podman run by runc, `docker` through podman-docker) and
 * debootstrap for the local base image (src/container/base-image.ts).
 */
export const TEST_HOST_PACKAGES = ['podman', 'runc', 'podman-docker', 'debootstrap'] as const;

/** The packages from `names` that dpkg does not report as installed. */
export async function missingPackages(names: readonly string[]): Promise<string[]> {
  const result = await runUnchecked('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...names]);
  const installed = new Set(
    result.stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]),
  );
  return names.filter((n) => !installed.has(n));
}

export async function ensureHostPackages(names: readonly string[], log: LogSink): Promise<void> {
  const missing = await missingPackages(names);
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing host packages: ${missing.join(', ')}; run as root: ${command}`);
  }
  log(`installing host packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update'], { env });
  await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', ...missing], { env });
}
