// The tools' one front (src/util/cli.ts): each tool's --help is made from the option table that
// parses its arguments and lists every option of it; an unknown option is a usage error (exit 64)
// with one line naming it, then the usage, in every tool; errors map to the one exit-code table
// (src/util/exit-codes.ts), which is README's table, row for row.
//
// Run: bash scripts/test.sh test/util/cli.test.ts   (a few seconds: each tool started twice from the sources)
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { TOOLS as ALL_TOOLS } from '../../src/action/tools.ts';
import { failure, helpText, optionSyntax, parseCli, UsageError, type CliSpec } from '../../src/util/cli.ts';
import { EXIT, exitCodeTable } from '../../src/util/exit-codes.ts';
import { runUnchecked } from '../../src/util/exec.ts';
import { REPO } from '../helpers/paths.ts';

const TOOLS: [string, CliSpec][] = Object.values(ALL_TOOLS).map((t) => [t.source, t.spec]);
const [CREATE_CLI, DIFF_CLI, QEMU_CLI, SETUP_CLI] = [ALL_TOOLS.create.spec, ALL_TOOLS.diff.spec, ALL_TOOLS.qemu.spec, ALL_TOOLS.setup.spec];

test('--help of each tool lists every option of its table (and nothing else), the usage and its exit codes', () => {
  for (const [, spec] of TOOLS) {
    const help = helpText(spec);
    const listed = [...help.matchAll(/^ {2}(--\S+)/gm)].map((m) => m[1]);
    const table = Object.entries(spec.options).map(([name, o]) => optionSyntax(name, o));
    assert.deepEqual(listed, [...table, '--help'], spec.name);
    for (const [name, option] of Object.entries(spec.options)) {
      assert.ok(help.includes(option.description.split(' ').slice(0, 4).join(' ')), `${spec.name} --${name}: its description`);
    }
    assert.match(help, new RegExp(`^usage: ${spec.name} `, 'm'));
    const codes = [...help.slice(help.indexOf('Exit codes:')).matchAll(/^ {2}(\d+) /gm)].map((m) => Number(m[1]));
    assert.deepEqual(
      codes,
      exitCodeTable(spec.exitCodes).map(([code]) => code),
      spec.name,
    );
    assert.ok(codes.includes(EXIT.usage) && codes.includes(EXIT.ok) && codes.includes(EXIT.error), `${spec.name}: ok, error and usage`);
  }
  // Each option the table declares is one the parser takes: a value for strings, none for flags.
  const { values } = parseCli(CREATE_CLI, ['--patch=p', '--json', '--accept=a', '--accept=b,c', 'tree']);
  assert.deepEqual([values.patch, values.json, values.accept, values['analyze-only']], ['p', true, ['a', 'b,c'], false]);
  assert.deepEqual(parseCli(QEMU_CLI, []).values.file, []);
});

test('an unknown option, a missing value or a stray argument is a usage error: exit 64, one line, then the usage', () => {
  assert.throws(
    () => parseCli(DIFF_CLI, ['--frobnicate', 'a.o', 'b.o']),
    (e: Error) => e instanceof UsageError && e.message === "Unknown option '--frobnicate'",
  );
  assert.throws(() => parseCli(CREATE_CLI, ['--patch']), UsageError);
  assert.throws(() => parseCli(SETUP_CLI, ['6.1.0-50-amd64']), UsageError);
  const { code, stderr } = failure(DIFF_CLI, new UsageError('expected two objects'));
  assert.equal(code, EXIT.usage);
  assert.deepEqual(stderr.split('\n'), ['ksplice-diff: expected two objects', 'usage: ksplice-diff PRE.o POST.o [--json]', '']);
  // Other errors: their message, exit 1; an error carrying its exit code (an interrupt) keeps it.
  assert.deepEqual(failure(DIFF_CLI, new Error('no such file')), { code: EXIT.error, stderr: 'ksplice-diff: no such file\n' });
  assert.equal(failure(CREATE_CLI, Object.assign(new Error('interrupted by SIGTERM'), { exitCode: EXIT.sigterm })).code, 143);
});

test('every tool, run: --help on stdout with exit 0; an unknown option exits 64 with its one line and the usage', async () => {
  await Promise.all(
    TOOLS.map(async ([source, spec]) => {
      const run = (...args: string[]) => runUnchecked('node', ['--import', 'tsx', path.join(REPO, source), ...args], { cwd: REPO });
      const [help, unknown] = await Promise.all([run('--help'), run('--frobnicate')]);
      assert.equal(help.exitCode, 0, help.stderr);
      assert.equal(help.stdout, helpText(spec));
      assert.equal(unknown.exitCode, EXIT.usage, unknown.stderr);
      const lines = unknown.stderr.trimEnd().split('\n');
      assert.equal(lines[0], `${spec.name}: Unknown option '--frobnicate'`);
      assert.match(lines[1], new RegExp(`^usage: ${spec.name} `));
      assert.equal(lines.length, 1 + spec.usage.length, unknown.stderr);
      assert.equal(unknown.stdout, '');
    }),
  );
});

test('ksplice-setup without --release or --host-packages-only starts nothing: a usage error naming both', async () => {
  const run = await runUnchecked('node', ['--import', 'tsx', path.join(REPO, 'src/setup/cli.ts')], { cwd: REPO });
  assert.equal(run.exitCode, EXIT.usage);
  assert.match(run.stderr.split('\n')[0], /^ksplice-setup: nothing to do: give --release=RELEASE .* or --host-packages-only$/);
  assert.doesNotMatch(run.stderr, /\[setup\]/, 'no setup step started');
});

test("README's exit-code table is the code's table, row for row, and no other part of README gives exit numbers", async () => {
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('### Exit codes (every tool)');
  assert.ok(start >= 0 && readme.indexOf('### Exit codes', start + 1) < 0, 'one exit-code section');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const rows = [...section.matchAll(/^\| (\d+) \| `(\w+)` \| (.+) \|$/gm)].map((m) => [Number(m[1]), m[2], m[3]]);
  assert.deepEqual(rows, exitCodeTable());
  const elsewhere = readme.slice(0, start) + readme.slice(start + section.length);
  assert.deepEqual(elsewhere.match(/\bexits? (?:code )?\d+|\bExit \d+|\b\d+: "No changes/g) ?? [], []);
});

test("every tool of the one table (src/action/tools.ts) is a bin of package.json, loaded by the bundle's dispatcher under its short name", async () => {
  const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.deepEqual(Object.keys(pkg.bin).sort(), TOOLS.map(([, spec]) => spec.name).sort());
  for (const [short, tool] of Object.entries(ALL_TOOLS)) {
    assert.equal(tool.spec.name, `ksplice-${short}`);
    assert.equal(pkg.bin[tool.spec.name], `dist/bin/${tool.spec.name}.js`);
    assert.match(tool.load.toString(), new RegExp(`import\\(['"]\\.\\./${short}/cli\\.ts['"]\\)`), `${short} loads its own cli.ts`);
    assert.equal(tool.source, `src/${short}/cli.ts`);
  }
});
