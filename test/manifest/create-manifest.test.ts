// ksplice-create --manifest=ksplice.yml (src/create/cli.ts) as a user runs it: the project file's
// problems and contradictions with the command line are usage errors (exit 64) naming
// file:line:column, before anything is built; then one real analysis of two patches of the
// corpus on the prepared Debian tree (about 2 min): one line of --json per update, an accept
// entry whose rule is not the finding's refuses it all the same, the exit code is the worst.
//
// Run: bash scripts/test.sh test/manifest/create-manifest.test.ts
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { EXIT } from '../../src/util/exit-codes.ts';
import { runUnchecked } from '../../src/util/exec.ts';
import { worstExitCode } from '../../src/manifest/updates.ts';
import { corpusPatch, REPO, scratchDir } from '../helpers/paths.ts';

let scratch: string;
before(async () => {
  scratch = await scratchDir('create-manifest');
});
after(() => rm(scratch, { recursive: true, force: true }));

async function manifest(text: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(scratch, 'project-')), 'ksplice.yml');
  await writeFile(file, text);
  return file;
}

function create(args: string[]) {
  return runUnchecked('node', ['--import', 'tsx', path.join(REPO, 'src/create/cli.ts'), ...args], { cwd: REPO });
}

describe('ksplice-create --manifest', () => {
  test('usage errors name the line: the file, kernel-releases against KERNEL_SOURCE or --kernel-release, flags the file holds', async () => {
    const broken = await manifest(
      `patches:\n  - ${corpusPatch('examples/proc_cmdline.patch')}\n  - no-such.patch\naccept: [{ symbol: x, rule: nope }]\n`,
    );
    const bad = await create([`--manifest=${broken}`, '/tmp']);
    assert.equal(bad.exitCode, EXIT.usage);
    assert.match(bad.stderr, new RegExp(`^ksplice-create: ${broken}:3:5: patches\\[1\\]: no-such\\.patch: no such file`, 'm'));
    assert.match(bad.stderr, new RegExp(`^ksplice-create: ${broken}:4:23: accept\\[0\\]\\.rule: unknown rule 'nope'`, 'm'));
    assert.match(bad.stderr, /^usage: ksplice-create /m);

    const releases = await manifest(
      `kernel-releases: [6.1.0-50-amd64, 6.1.0-47-amd64]\npatches: [${corpusPatch('examples/proc_cmdline.patch')}]\n`,
    );
    const withTree = await create([`--manifest=${releases}`, '/tmp']);
    assert.equal(withTree.exitCode, EXIT.usage);
    assert.match(
      withTree.stderr,
      new RegExp(`^ksplice-create: ${releases}:1:1: kernel-releases names Debian releases.*KERNEL_SOURCE /tmp`, 'm'),
    );
    const withFlag = await create([`--manifest=${releases}`, '--kernel-release=6.1.0-50-amd64']);
    assert.equal(withFlag.exitCode, EXIT.usage);
    assert.match(
      withFlag.stderr,
      new RegExp(`${releases}:1:1: kernel-releases is given in the project file; --kernel-release=6\\.1\\.0-50-amd64`),
    );
    const withConfig = await create([`--manifest=${releases}`, '--config=/tmp']);
    assert.match(withConfig.stderr, /--config=\/tmp is one tree's config dir, but kernel-releases lists 2 releases/);

    const withPatch = await create([`--manifest=${releases}`, '--patch=x.patch']);
    assert.equal(withPatch.exitCode, EXIT.usage);
    assert.match(withPatch.stderr, /--patch goes in the project file with --manifest/);
    const withAccept = await create([`--manifest=${releases}`, '--accept=free_uid']);
    assert.match(withAccept.stderr, /--accept goes in the project file/);
  });

  test('the exit code of several updates is the worst outcome', () => {
    assert.equal(worstExitCode([EXIT.ok, EXIT.noChanges, EXIT.unsafe]), EXIT.unsafe);
    assert.equal(worstExitCode([EXIT.ok, EXIT.noChanges]), EXIT.noChanges);
    assert.equal(worstExitCode([EXIT.ok, EXIT.ok]), EXIT.ok);
  });

  test('two patches analysed on the Debian tree: one JSON line each; an accept for another rule refuses; exit 2', async () => {
    const target = await ensureTarget();
    const file = await manifest(
      [
        '# proc_cmdline changes code only; kernel_user adds an export (export-change)',
        'patches:',
        `  - ${corpusPatch('examples/proc_cmdline.patch')}`,
        `  - patch: ${corpusPatch('6.1.176-to-6.1.190/kernel_user.patch')}`,
        '    accept:',
        '      - { symbol: free_uid, rule: data-change }',
        '',
      ].join('\n'),
    );
    const run = await create([`--manifest=${file}`, '--analyze-only', '--json', target.sourceDir]);
    assert.equal(run.exitCode, EXIT.unsafe, run.stderr.slice(-2000));
    const lines = run.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map(
        (l) =>
          JSON.parse(l) as {
            outcome: string;
            changed: { function: string }[];
            unsafe: { symbol: string; rule: string }[];
            accepted: unknown[];
            notes: string[];
          },
      );
    assert.equal(lines.length, 2, run.stdout);
    assert.equal(lines[0].outcome, 'analyzed');
    assert.deepEqual(
      lines[0].changed.map((c) => c.function),
      ['cmdline_proc_show'],
    );
    assert.equal(lines[1].outcome, 'unsafe');
    assert.deepEqual(
      lines[1].unsafe.map((f) => [f.symbol, f.rule]),
      [['free_uid', 'export-change']],
    );
    assert.deepEqual(lines[1].accepted, []);
    assert.ok(
      lines[1].notes.some((n) => /free_uid \[export-change\]: the project file accepts free_uid for data-change only/.test(n)),
      lines[1].notes.join('\n'),
    );
  });
});
