/**
 * The Action's bundle entry (dist/index.js). `node dist/index.js` runs the Action (main.ts); the
 * bundle also carries the tools, by name as the first argument:
 *   node dist/index.js setup ARGS    ksplice-setup   (the pinned toolchain container runs it: container.ts)
 *   node dist/index.js create ARGS   ksplice-create  (likewise)
 *   node dist/index.js qemu ARGS     ksplice-qemu    (workflows/nightly-qemu.yml proves released tarballs with it)
 *   node dist/index.js diff ARGS     ksplice-diff
 *   node dist/index.js release-assets --dir=DIR   the released tarballs, downloaded and checked (release-assets-cli.ts;
 *                                    the nightly workflow's `released` job; not an installed tool)
 * The installed tools (package.json `bin`) are their own bundles, dist/bin/ksplice-*.js (npm run build:cli).
 * The tools are one table, tools.ts.
 */
import { isToolName, TOOLS } from './tools.ts';

const name = process.argv[2] ?? '';
if (isToolName(name)) {
  process.argv.splice(2, 1);
  await TOOLS[name].load();
} else if (name === 'release-assets') {
  process.argv.splice(2, 1);
  await import('./release-assets-cli.ts');
} else {
  const { run } = await import('./main.ts');
  await run();
}
