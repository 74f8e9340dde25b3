/**
 * ksplice-setup: prepare (or find in the cache) the replica of a Debian target kernel and check
 * that this machine's toolchain is the one that built it.
 *
 * Usage: tsx src/setup/cli.ts [--release=6.1.0-50-amd64] [--cache-dir=DIR] [--json] [--allow-toolchain-mismatch]
 *        tsx src/setup/cli.ts --host-packages-only      (install the host's apt packages, nothing else)
 * Exit 0: ready (paths printed, or one JSON object with --json); 1: any error, with its reason.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_RELEASE, ensureTarget } from './target-kernel.ts';
import { checkToolchain } from '../kbuild/toolchain.ts';
import { ensureHostPackages, HOST_PACKAGES } from './host-packages.ts';
import { stderrSink } from '../util/progress.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      release: { type: 'string', default: DEFAULT_RELEASE },
      'cache-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      'allow-toolchain-mismatch': { type: 'boolean', default: false },
      'host-packages-only': { type: 'boolean', default: false },
    },
  });
  if (values['host-packages-only']) {
    await ensureHostPackages(HOST_PACKAGES, stderrSink);
    return;
  }
  const target = await ensureTarget({ release: values.release, cacheDir: values['cache-dir'] });
  const toolchain = await checkToolchain(target, { allowMismatch: values['allow-toolchain-mismatch'] });
  if (values.json) {
    process.stdout.write(JSON.stringify({ ...target, toolchain }, null, 2) + '\n');
  } else {
    for (const [key, value] of Object.entries(target)) process.stdout.write(`${key.padEnd(16)} ${value}\n`);
    process.stdout.write(`${'toolchain'.padEnd(16)} ${toolchain.local.ccVersionText} (matches the target)\n`);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`ksplice-setup: ${e.message}\n`);
  process.exit(1);
});
