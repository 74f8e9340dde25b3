/**
 * A real container engine for the tests and scripts that run the toolchain image: Debian's podman
 * with a private configuration (no file under /etc is touched), reached as `docker` through
 * podman-docker, as the Action calls it.
 *
 * Why each setting (measured on a Debian bookworm host with a hybrid cgroup layout):
 *   - runtime runc: crun fails there to set up the container's cgroups;
 *   - default_ulimits = []: podman's default nofile limit is refused by setrlimit in a nested container;
 *   - a private graphroot under the cache folder: the images survive between runs and do not mix with
 *     the machine's own podman store; the runroot (locks, mounts) lives in the temp folder.
 *
 * Usage:
 *   const engine = await containerEngine();      // writes the config once, checks podman is there
 *   await run('docker', ['run', '--rm', image, 'true'], { env: engine.env });
 */
import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile, readlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TEST_HOST_PACKAGES } from '../setup/host-packages.ts';
import { defaultCacheDir } from '../util/cache-dir.ts';
import { hasProgram } from '../util/exec.ts';

/** podman-docker's `docker`: a script that runs podman (a Docker CLI elsewhere on PATH may shadow it). */
export const PODMAN_DOCKER = '/usr/bin/docker';

export interface EngineLayout {
  /** containers.conf, storage.conf and bin/docker live here. */
  configDir: string;
  /** The image store (podman's graphroot). */
  graphRoot: string;
  /** Locks and mounts of running containers (podman's runroot and tmp_dir). */
  runRoot: string;
}

export function defaultEngineLayout(cacheDir = defaultCacheDir()): EngineLayout {
  const images = path.join(cacheDir, 'images');
  const runRoot = path.join(os.tmpdir(), `ksplice-action-podman-${process.getuid?.() ?? 0}`);
  return { configDir: path.join(runRoot, 'config'), graphRoot: path.join(images, 'storage'), runRoot };
}

/** containers.conf: the runtime and limits this host needs. */
export function containersConf(layout: EngineLayout): string {
  return [
    '[containers]',
    '# podman sets RLIMIT_NOFILE by default; the host refuses it (setrlimit: operation not permitted)',
    'default_ulimits = []',
    '',
    '[engine]',
    '# crun cannot set up cgroups on a hybrid v1/v2 layout; runc can',
    'runtime = "runc"',
    `tmp_dir = ${tomlString(path.join(layout.runRoot, 'libpod'))}`,
    '',
  ].join('\n');
}

/** storage.conf: a private image store. */
export function storageConf(layout: EngineLayout): string {
  return [
    '[storage]',
    'driver = "overlay"',
    `graphroot = ${tomlString(layout.graphRoot)}`,
    `runroot = ${tomlString(path.join(layout.runRoot, 'storage'))}`,
    '',
  ].join('\n');
}

function tomlString(s: string): string {
  return JSON.stringify(s);
}

/** The environment that points podman (and podman-docker's `docker`) at the private configuration. */
export function engineEnv(layout: EngineLayout, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    CONTAINERS_CONF: path.join(layout.configDir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(layout.configDir, 'storage.conf'),
    PATH: `${path.join(layout.configDir, 'bin')}:${base.PATH ?? '/usr/bin:/bin'}`,
  };
}

export interface ContainerEngine {
  layout: EngineLayout;
  env: NodeJS.ProcessEnv;
}

/** Writes the private configuration and returns the environment to run podman or docker with. */
export async function containerEngine(layout = defaultEngineLayout()): Promise<ContainerEngine> {
  const missing: string[] = [];
  for (const program of ['podman', 'runc', 'debootstrap']) if (!(await hasProgram(program))) missing.push(program);
  if (!existsSync(PODMAN_DOCKER)) missing.push(`${PODMAN_DOCKER} (podman-docker)`);
  if (missing.length > 0) {
    throw new Error(`no container engine: ${missing.join(', ')} missing; run: apt-get install -y ${TEST_HOST_PACKAGES.join(' ')}`);
  }
  await mkdir(path.join(layout.configDir, 'bin'), { recursive: true });
  await mkdir(layout.graphRoot, { recursive: true });
  await writeFile(path.join(layout.configDir, 'containers.conf'), containersConf(layout));
  await writeFile(path.join(layout.configDir, 'storage.conf'), storageConf(layout));
  const docker = path.join(layout.configDir, 'bin', 'docker');
  if ((await readlink(docker).catch(() => null)) !== PODMAN_DOCKER) {
    await symlink(PODMAN_DOCKER, docker).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
  return { layout, env: engineEnv(layout) };
}
