/**
 * ksplice-setup: prepare (or find in the cache) the replica of a Debian target kernel and check
 * that this machine's toolchain is the one that built it (options: cli-spec.ts, --help).
 *
 * Usage: ksplice-setup --release=6.1.0-50-amd64 [--cache-dir=DIR] [--json] [--allow-toolchain-mismatch]
 *        ksplice-setup --host-packages-only      (install the host's apt packages, nothing else)
 * (installed: the `ksplice-setup` bin, dist/bin/ksplice-setup.js; in the repository: `tsx src/setup/cli.ts ...`)
 * The release is never implied: a setup downloads about 1 GB, so with neither option the tool
 * does nothing and exits 64 (usage) with a one-line reason.
 * Exit 0: ready (paths printed, or one JSON object with --json); 64: usage; 1: any error, with its reason.
 */
import { checkToolchain } from '../kbuild/toolchain.ts';
import { runCli, UsageError } from '../util/cli.ts';
import { stderrSink } from '../util/progress.ts';
import { SETUP_CLI } from './cli-spec.ts';
import { ensureHostPackages, HOST_PACKAGES } from './host-packages.ts';
import { DEFAULT_RELEASE, ensureTarget } from './target-kernel.ts';

runCli(SETUP_CLI, async ({ values }) => {
  if (values['host-packages-only']) {
    await ensureHostPackages(HOST_PACKAGES, stderrSink);
    return;
  }
  if (!values.release)
    throw new UsageError(
      `nothing to do: give --release=RELEASE (the default target is ${DEFAULT_RELEASE}; about 1 GB to download) or --host-packages-only`,
    );
  const target = await ensureTarget({ release: values.release, cacheDir: values['cache-dir'] });
  const toolchain = await checkToolchain(target, { allowMismatch: values['allow-toolchain-mismatch'] });
  if (values.json) {
    process.stdout.write(JSON.stringify({ ...target, toolchain }, null, 2) + '\n');
  } else {
    for (const [key, value] of Object.entries(target)) process.stdout.write(`${key.padEnd(16)} ${value}\n`);
    process.stdout.write(`${'toolchain'.padEnd(16)} ${toolchain.local.ccVersionText} (matches the target)\n`);
  }
});
