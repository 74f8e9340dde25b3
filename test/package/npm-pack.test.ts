// The tools install like tools: dist/bin/ is what `npm run build:cli` makes from the sources;
// `npm pack` makes a package holding the bundles and what they read at run time (kmod/: the
// engine's sources and the target tools), nothing else; installed offline into an empty folder,
// its bins run with plain node (no tsx there): --help of each, and ksplice-diff on two real
// objects (test/fixtures/elf), its JSON and its exit codes.
//
// Run: bash scripts/test.sh test/package/npm-pack.test.ts   (about 10 s)
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CREATE_CLI } from '../../src/create/cli-spec.ts';
import { QEMU_CLI } from '../../src/qemu/cli-spec.ts';
import { SETUP_CLI } from '../../src/setup/cli-spec.ts';
import { helpText } from '../../src/util/cli.ts';
import { EXIT } from '../../src/util/exit-codes.ts';
import { run, runUnchecked } from '../../src/util/exec.ts';
import { compilePair } from '../fixtures/elf/build.ts';
import { REPO, scratchDir } from '../helpers/paths.ts';

const BINS = ['ksplice-create', 'ksplice-diff', 'ksplice-qemu', 'ksplice-setup'];

let scratch: string;
let clean: string;
/** The environment of a user's shell: no npm script variables, no repository node_modules/.bin. */
let env: NodeJS.ProcessEnv;

before(async () => {
  scratch = await scratchDir('npm-pack');
  clean = path.join(scratch, 'clean');
  env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE_OPTIONS' && k !== 'INIT_CWD'));
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((p) => !p.includes('node_modules'))
    .join(':');
});
after(() => rm(scratch, { recursive: true, force: true }));

/** Every file under dir, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

test('dist/bin/ is what npm run build:cli makes from the sources', async () => {
  const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
    bin: Record<string, string>;
  };
  const fresh = path.join(scratch, 'bin');
  const result = await runUnchecked('sh', ['-c', `PATH="${REPO}/node_modules/.bin:$PATH" ${pkg.scripts['build:cli']} "${fresh}"`], {
    cwd: REPO,
  });
  assert.equal(result.exitCode, 0, result.stderr);
  const files = await tree(fresh);
  assert.deepEqual(await tree(path.join(REPO, 'dist/bin')), files, 'dist/bin is stale: run npm run build:cli and commit dist/bin');
  for (const f of files)
    assert.ok(
      (await readFile(path.join(fresh, f))).equals(await readFile(path.join(REPO, 'dist/bin', f))),
      `dist/bin/${f} is stale: run npm run build:cli and commit dist/bin`,
    );
  assert.deepEqual(pkg.bin, Object.fromEntries(BINS.map((b) => [b, `dist/bin/${b}.js`])));
  for (const b of BINS) assert.match(await readFile(path.join(fresh, `${b}.js`), 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

test('npm pack: the bundles and kmod/ (sources, tools), no build outputs, no sources of the tools; installed offline into an empty folder, the bins run without tsx', async () => {
  const pack = path.join(scratch, 'pack');
  await mkdir(pack);
  const packed = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', pack], { cwd: REPO, env })) as [
    { filename: string; files: { path: string }[] },
  ];
  const files = packed[0].files.map((f) => f.path).sort();
  for (const b of BINS) assert.ok(files.includes(`dist/bin/${b}.js`), b);
  for (const f of [
    'kmod/Kbuild',
    'kmod/Makefile',
    'kmod/core.c',
    'kmod/ksplice_update.h',
    'kmod/ksplice_hooks.h',
    'kmod/tools/ksplice-apply',
    'kmod/tools/ksplice-undo',
    'kmod/tools/ksplice-view',
    'package.json',
    'README.md',
  ]) {
    assert.ok(files.includes(f), f);
  }
  assert.deepEqual(
    files.filter((f) =>
      /\.(o|ko|mod|mod\.c|cmd|ts)$|^(src|test|corpus|node_modules|dist\/index\.js)\b|Module\.symvers|modules\.order/.test(f),
    ),
    [],
  );

  await mkdir(clean);
  await writeFile(path.join(clean, 'package.json'), '{ "name": "clean", "private": true }\n');
  const install = await runUnchecked('npm', ['install', '--offline', '--no-audit', '--no-fund', path.join(pack, packed[0].filename)], {
    cwd: clean,
    env,
  });
  assert.equal(install.exitCode, 0, install.stderr);
  assert.deepEqual(
    (await readdir(path.join(clean, 'node_modules'))).filter((n) => !n.startsWith('.')),
    ['ksplice-action'],
    'nothing but the package: no runtime dependencies, no tsx',
  );
  assert.deepEqual((await readdir(path.join(clean, 'node_modules/.bin'))).sort(), BINS);

  for (const [bin, spec] of [
    ['ksplice-create', CREATE_CLI],
    ['ksplice-qemu', QEMU_CLI],
    ['ksplice-setup', SETUP_CLI],
  ] as const) {
    const help = await runUnchecked('npx', ['--offline', bin, '--help'], { cwd: clean, env });
    assert.equal(help.exitCode, 0, `${bin}: ${help.stderr}`);
    assert.equal(help.stdout, helpText(spec), bin);
  }
  const setup = await runUnchecked(path.join(clean, 'node_modules/.bin/ksplice-setup'), [], { cwd: clean, env });
  assert.equal(setup.exitCode, EXIT.usage, setup.stderr);
});

// Uses the package the test above installed.
test('the installed ksplice-diff on two objects gcc built from test/fixtures/elf: its JSON and exit codes (0 changed, 2 unsafe, 64 usage)', async () => {
  const diff = (...args: string[]) => runUnchecked(path.join(clean, 'node_modules/.bin/ksplice-diff'), args, { cwd: clean, env });
  const objects = path.join(scratch, 'objects');
  await mkdir(objects);
  const [basic, unsafe] = await Promise.all([compilePair('basic', objects), compilePair('unsafe', objects)]);
  const changed = await diff(basic.prePath, basic.postPath, '--json');
  assert.equal(changed.exitCode, EXIT.ok, changed.stderr);
  assert.deepEqual(JSON.parse(changed.stdout), {
    changed: ['changed_body'],
    new: ['added_function'],
    removed: ['removed_function'],
    unsafe: [],
  });
  const refused = await diff('--json', unsafe.prePath, unsafe.postPath);
  assert.equal(refused.exitCode, EXIT.unsafe, refused.stderr);
  assert.ok((JSON.parse(refused.stdout) as { unsafe: { rule: string }[] }).unsafe.some((u) => u.rule === 'export-change'));
  const usage = await diff(basic.prePath);
  assert.equal(usage.exitCode, EXIT.usage);
  assert.match(usage.stderr, /^ksplice-diff: expected two objects/);
});
