/**
 * The toolchain image built locally, with no image registry: a stand-in for node:24-bookworm-slim
 * (a debootstrap'd Debian bookworm minbase root, Debian's apt sources as the official image has
 * them, the pinned Node binary in /usr/local/bin), imported with `podman import`, and
 * docker/toolchain.Dockerfile built on it (`--build-arg BASE=`). Each image is tagged with a hash of
 * what made it (the recipe below, the Dockerfile's bytes, the base's tag), so a changed input builds
 * a new image and an unchanged one is reused from the engine's store (src/container/engine.ts).
 *
 * Measured here (2 cores): debootstrap 45 s, import 6 s, the Dockerfile's apt-get install 2 min 30 s;
 * a warm call (both images stored) takes about a second.
 *
 * Usage:
 *   const engine = await containerEngine();
 *   const image = await ensureToolchainImage(engine, log);   // { name, digest, reference: 'localhost/ksplice-toolchain@sha256:…' }
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PinnedImage } from '../action/container.ts';
import { run, runShell, runUnchecked } from '../util/exec.ts';
import { withLock } from '../util/lock.ts';
import type { LogSink } from '../util/progress.ts';
import { projectPath } from '../util/repo-root.ts';
import type { ContainerEngine } from './engine.ts';
import { PINNED_NODE, pinnedNodeBinary } from './node-binary.ts';

/** What the base root is made of; part of its tag's hash. */
export const BASE_RECIPE = {
  suite: 'bookworm',
  variant: 'minbase',
  mirror: 'http://deb.debian.org/debian',
  securityMirror: 'http://deb.debian.org/debian-security',
  node: PINNED_NODE,
  /** Bump when the steps of buildBaseImage change what the image holds. */
  steps: 1,
} as const;

export const BASE_IMAGE_NAME = 'localhost/ksplice-bookworm-node';
export const TOOLCHAIN_IMAGE_NAME = 'localhost/ksplice-toolchain';

/** Debian's sources as the official bookworm images list them (deb822, main, with updates and security). */
export function debianSources(recipe = BASE_RECIPE): string {
  const keyring = 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg';
  return [
    'Types: deb',
    `URIs: ${recipe.mirror}`,
    `Suites: ${recipe.suite} ${recipe.suite}-updates`,
    'Components: main',
    keyring,
    '',
    'Types: deb',
    `URIs: ${recipe.securityMirror}`,
    `Suites: ${recipe.suite}-security`,
    'Components: main',
    keyring,
    '',
  ].join('\n');
}

/** The first 16 hex digits of the sha256 of `inputs`, in order: an image tag that changes with any input. */
export function contentTag(inputs: readonly (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const input of inputs) {
    const bytes = typeof input === 'string' ? Buffer.from(input) : input;
    hash.update(`${bytes.length}:`).update(bytes); // length-prefixed: ['ab','c'] and ['a','bc'] differ
  }
  return hash.digest('hex').slice(0, 16);
}

export function baseImageTag(recipe = BASE_RECIPE): string {
  return `${BASE_IMAGE_NAME}:${contentTag([JSON.stringify(recipe), debianSources(recipe)])}`;
}

export function toolchainImageTag(baseTag: string, dockerfile: Buffer): string {
  return `${TOOLCHAIN_IMAGE_NAME}:${contentTag([baseTag, dockerfile])}`;
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(0)} s`;
}

async function imageExists(engine: ContainerEngine, tag: string): Promise<boolean> {
  return (await runUnchecked('podman', ['image', 'exists', tag], { env: engine.env })).exitCode === 0;
}

/** Older builds of `name` (other tags): removed once a new one is stored, so the cache holds one of each. */
async function removeOtherTags(engine: ContainerEngine, name: string, keep: string): Promise<void> {
  const list = await run('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${name}`], {
    env: engine.env,
  });
  const stale = list.split('\n').filter((t) => t.startsWith(`${name}:`) && t !== keep);
  if (stale.length > 0) await runUnchecked('podman', ['rmi', '--force', ...stale], { env: engine.env });
}

/** debootstrap (needs root), Debian's sources, the Node binary, then `podman import`. */
async function buildBaseImage(engine: ContainerEngine, tag: string, log: LogSink): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error(`building ${tag} runs debootstrap, which needs root`);
  const node = await pinnedNodeBinary();
  // On the cache's file system, not a tmpfs: the root is about 200 MB.
  const work = await mkdtemp(path.join(engine.layout.graphRoot, '..', 'debootstrap-'));
  try {
    const root = path.join(work, 'root');
    const started = Date.now();
    log(`${tag}: debootstrap --variant=${BASE_RECIPE.variant} ${BASE_RECIPE.suite} from ${BASE_RECIPE.mirror}`);
    await run('debootstrap', [`--variant=${BASE_RECIPE.variant}`, BASE_RECIPE.suite, root, BASE_RECIPE.mirror]);
    await rm(path.join(root, 'etc/apt/sources.list'), { force: true });
    await writeFile(path.join(root, 'etc/apt/sources.list.d/debian.sources'), debianSources());
    // As in the official image: no package lists, no downloaded .debs.
    await runShell('rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb', [root]);
    await copyFile(node, path.join(root, 'usr/local/bin/node'));
    await run('chmod', ['0755', path.join(root, 'usr/local/bin/node')]);
    log(`${tag}: podman import (debootstrap took ${seconds(started)})`);
    await runShell('tar --numeric-owner -C "$1" -c . | podman import --change \'CMD ["bash"]\' - "$2" >/dev/null', [root, tag], {
      env: engine.env,
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The base image's tag, built first if missing (one builder at a time across processes). */
export function ensureBaseImage(engine: ContainerEngine, log: LogSink): Promise<string> {
  return withLock(buildLock(engine), () => baseImage(engine, log), log);
}

function buildLock(engine: ContainerEngine): string {
  return path.join(engine.layout.graphRoot, '..', 'build.lock');
}

async function baseImage(engine: ContainerEngine, log: LogSink): Promise<string> {
  const tag = baseImageTag();
  if (await imageExists(engine, tag)) return tag;
  await buildBaseImage(engine, tag, log);
  await removeOtherTags(engine, BASE_IMAGE_NAME, tag);
  return tag;
}

/** The digest podman gives the stored image: `name@digest` runs it (the Action wants a pinned reference). */
async function pinned(engine: ContainerEngine, tag: string): Promise<PinnedImage> {
  const digest = (await run('podman', ['image', 'inspect', '--format', '{{.Digest}}', tag], { env: engine.env })).trim();
  const name = tag.slice(0, tag.lastIndexOf(':'));
  return { name, digest, reference: `${name}@${digest}` };
}

/** The toolchain image of docker/toolchain.Dockerfile on the local base, built once per input change. */
export async function ensureToolchainImage(engine: ContainerEngine, log: LogSink): Promise<PinnedImage> {
  return withLock(
    buildLock(engine),
    async () => {
      const base = await baseImage(engine, log);
      const dockerfilePath = projectPath('docker/toolchain.Dockerfile');
      const tag = toolchainImageTag(base, await readFile(dockerfilePath));
      if (!(await imageExists(engine, tag))) {
        const started = Date.now();
        log(`${tag}: podman build -f docker/toolchain.Dockerfile --build-arg BASE=${base}`);
        // An empty context: the Dockerfile copies nothing in.
        const context = await mkdtemp(path.join(engine.layout.runRoot, 'context-'));
        try {
          await run('podman', ['build', '--quiet', '-f', dockerfilePath, '--build-arg', `BASE=${base}`, '-t', tag, context], {
            env: engine.env,
          });
        } finally {
          await rm(context, { recursive: true, force: true });
        }
        await removeOtherTags(engine, TOOLCHAIN_IMAGE_NAME, tag);
        log(`${tag}: built in ${seconds(started)}`);
      }
      return pinned(engine, tag);
    },
    log,
  );
}
