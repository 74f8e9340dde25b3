/**
 * The Action's bundle entry (dist/index.js). `node dist/index.js` runs the Action (main.ts);
 * `node dist/index.js create ARGS` is ksplice-create itself, which the pinned toolchain
 * container runs (container.ts).
 */
if (process.argv[2] === 'create') {
  process.argv.splice(2, 1);
  await import('../create/cli.ts');
} else {
  const { run } = await import('./main.ts');
  await run();
}
