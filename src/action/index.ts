/**
 * The Action's bundle entry (dist/index.js). `node dist/index.js` runs the Action (main.ts); the
 * bundle also carries the tools, by name as the first argument:
 *   node dist/index.js setup ARGS    ksplice-setup   (the pinned toolchain container runs it: container.ts)
 *   node dist/index.js create ARGS   ksplice-create  (likewise)
 *   node dist/index.js qemu ARGS     ksplice-qemu    (workflows/nightly-qemu.yml proves released tarballs with it)
 *   node dist/index.js diff ARGS     ksplice-diff
 * The installed tools (package.json `bin`) are their own bundles, dist/bin/ksplice-*.js (npm run build:cli).
 * The tools are one table, tools.ts.
 */
import { isToolName, TOOLS } from './tools.ts';

const name = process.argv[2] ?? '';
if (isToolName(name)) {
  process.argv.splice(2, 1);
  await TOOLS[name].load();
} else {
  const { run } = await import('./main.ts');
  await run();
}
