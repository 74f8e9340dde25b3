/**
 * The toolchain image in a local podman (no registry needed): builds docker/toolchain.Dockerfile on
 * a debootstrap'd bookworm base, once per change of its inputs (src/container/base-image.ts), and
 * prints the pinned reference and the environment that reaches the engine as `docker`.
 *
 * Run: node --import tsx scripts/container-image.ts                    (as root: debootstrap)
 *      node --import tsx scripts/container-image.ts --host-packages-only   (apt: podman, runc, podman-docker, debootstrap)
 * Then, e.g.:
 *   eval "$(node --import tsx scripts/container-image.ts)"   # sets CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, PATH, IMAGE
 *   docker run --rm --user 1000:1000 "$IMAGE" gcc-12 --version
 */
import { parseArgs } from 'node:util';
import { ensureToolchainImage } from '../src/container/base-image.ts';
import { containerEngine } from '../src/container/engine.ts';
import { ensureHostPackages, TEST_HOST_PACKAGES } from '../src/setup/host-packages.ts';
import { stderrSink } from '../src/util/progress.ts';

const { values } = parseArgs({ options: { 'host-packages-only': { type: 'boolean', default: false } } });
if (values['host-packages-only']) {
  await ensureHostPackages(TEST_HOST_PACKAGES, stderrSink);
} else {
  const started = Date.now();
  const engine = await containerEngine();
  const image = await ensureToolchainImage(engine, stderrSink);
  stderrSink(`toolchain image ${image.reference} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  for (const name of ['CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'PATH'])
    process.stdout.write(`export ${name}=${quote(engine.env[name] ?? '')}\n`);
  process.stdout.write(`export IMAGE=${quote(image.reference)}\n`);
}
