// ksplice.yml, the project file (src/manifest/project-file.ts): the fixtures under
// test/fixtures/manifest/ read as a pipeline would; every bad one refused with errors that name
// file:line:column of the key or value at fault. No process runs (about 1 s).
//
// Run: bash scripts/test.sh test/manifest/project-file.test.ts
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { RULE_CODES } from '../../src/diff/findings.ts';
import {
  acceptedBeyondRules,
  acceptedSymbols,
  parseProjectFile,
  ProjectFileError,
  readProjectFile,
  type AcceptEntry,
} from '../../src/manifest/project-file.ts';
import { matchPatchPattern } from '../../src/manifest/patch-glob.ts';
import { fixture } from '../helpers/paths.ts';

const dir = fixture('manifest');
const at = (name: string) => path.join(dir, name);

/** The problems of a refused file, as `line:column: message`. */
async function problemsOf(name: string): Promise<string[]> {
  const error = await readProjectFile(at(name)).then(
    () => assert.fail(`${name} was accepted`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ProjectFileError, String(error));
  for (const p of error.problems) assert.equal(p.at.file, at(name));
  assert.equal(error.message.split('\n').length, error.problems.length, 'one line per problem');
  for (const line of error.message.split('\n')) assert.ok(line.startsWith(`${at(name)}:`), `names the file: ${line}`);
  return error.problems.map((p) => `${p.at.line}:${p.at.column}: ${p.message}`);
}

describe('ksplice.yml read', () => {
  test('two patches × two releases, hooks, checks and accepts: file-wide defaults, each entry its own on top', async () => {
    const project = await readProjectFile(at('ksplice.yml'));
    assert.deepEqual(project.kernelReleases, ['6.1.0-50-amd64', '6.1.0-47-amd64']);
    assert.equal(project.kernelReleasesAt?.line, 2);
    assert.deepEqual(
      project.patches.map((p) => path.relative(dir, p.patch)),
      ['patches/0001-first.patch', 'patches/0002-second.patch'],
    );
    assert.deepEqual(
      project.patches.map((p) => p.at.line),
      [12, 13],
    );
    assert.deepEqual(
      project.patches.map((p) => [p.hooks, p.check].map((f) => f && path.relative(dir, f))),
      [
        ['hooks.c', 'checks/smoke.sh'],
        ['hooks.c', 'checks/second.sh'],
      ],
    );
    const [first, second] = project.patches;
    assert.deepEqual(
      first.accept.map((a) => [a.symbol, a.rule, a.at.line]),
      [['free_uid', 'export-change', 8]],
    );
    assert.equal(first.accept[0].reason, 'the export is only added; the hooks need it');
    assert.deepEqual(
      second.accept.map((a) => [a.symbol, a.rule, a.at.line]),
      [
        ['free_uid', 'export-change', 8],
        ['cmdline_reads', null, 15],
      ],
    );
    assert.deepEqual(acceptedSymbols(second.accept), ['free_uid', 'cmdline_reads']);
    assert.ok(project.patches.every((p) => p.id === null));
  });

  test('a pattern is a series in name order; a file-wide id goes to a single update', async () => {
    const series = await readProjectFile(at('series.yml'));
    assert.deepEqual(
      series.patches.map((p) => path.basename(p.patch)),
      ['0001-first.patch', '0002-second.patch'],
    );
    assert.deepEqual(series.kernelReleases, [], 'none named: the caller default applies');
    const single = await readProjectFile(at('single.yml'));
    assert.deepEqual(
      single.patches.map((p) => p.id),
      ['first-fix'],
    );
  });

  test('an unknown key names its line and the keys known there', async () => {
    assert.deepEqual(await problemsOf('unknown-key.yml'), [
      "3:5: unknown key 'hook' in patches[0] (known: patch, id, hooks, check, accept)",
    ]);
  });

  test('a wrong type names the key: a release that is not a list, accept that is a mapping', async () => {
    assert.deepEqual(await problemsOf('wrong-type.yml'), [
      '1:1: kernel-releases: expected a list of Debian kernel releases (6.1.0-50-amd64), got a string ("6.1.0-50-amd64")',
      '4:5: patches[0].accept: expected a list of findings ({symbol, rule}), got a mapping',
    ]);
  });

  test("rules are the table's: an unknown one is refused, so is one no custom code makes safe", async () => {
    const problems = await problemsOf('unknown-rule.yml');
    assert.equal(problems.length, 2);
    assert.equal(problems[0], `5:5: accept[0].rule: unknown rule 'export-changed' (rules: ${RULE_CODES.join(', ')})`);
    assert.match(problems[1], /^7:5: accept\[1\]\.rule: rule notrace cannot be accepted \(.*\); change the patch instead$/);
  });

  test('a missing patch, a pattern matching nothing, a missing check script: each at its line', async () => {
    const problems = await problemsOf('missing-patch.yml');
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0], /^3:5: patches\[1\]: patches\/0003-third\.patch: no such file/);
    assert.match(problems[1], /^4:5: patches\[2\]\.patch: patches\/\*\.diff: no file matches/);
    assert.match(problems[2], /^6:5: patches\[3\]\.check: checks\/missing\.sh: no such file/);
  });

  test('not YAML: the parser position; an id that would name two updates (one per release) refused', async () => {
    assert.match((await problemsOf('bad-yaml.yml'))[0], /^4:1: not YAML: /);
    assert.deepEqual(await problemsOf('id-several.yml'), [
      '1:1: id names one update, but the file builds 1 patch(es) × 2 release(s); give each patch its own id',
    ]);
  });

  test('inline text: bad releases, twice the same patch, an empty file, a list at the top', () => {
    const problems = (text: string) => {
      try {
        parseProjectFile(text, at('inline.yml'));
      } catch (e) {
        assert.ok(e instanceof ProjectFileError);
        return e.problems.map((p) => `${p.at.line}:${p.at.column}: ${p.message}`);
      }
      return assert.fail('accepted');
    };
    const releases = problems(
      'kernel-releases:\n  - linux-6.1\n  - 6.1\n  - 6.1.0-50-amd64\n  - 6.1.0-50-amd64\npatches: [patches/0001-first.patch]\n',
    );
    assert.equal(releases.length, 3);
    assert.match(releases[0], /^2:5: kernel-releases\[0\]: not a Debian kernel release name: 'linux-6\.1'/);
    assert.equal(releases[1], '3:5: kernel-releases[1]: expected a Debian kernel release (6.1.0-50-amd64), got a number (6.1)');
    assert.equal(releases[2], '5:5: kernel-releases[3]: 6.1.0-50-amd64 is listed twice');
    assert.deepEqual(problems('patches:\n  - patches/0001-first.patch\n  - patches/0001-*.patch\n'), [
      '3:5: patches[1]: patches/0001-first.patch is already built by patches[0]',
    ]);
    assert.deepEqual(problems('\n'), ['1:1: the file is empty: it needs patches']);
    assert.match(problems('- patches/0001-first.patch\n')[0], /^1:1: expected a mapping with .*, got a list$/);
    assert.deepEqual(problems('id: x\n'), ['1:1: patches is required: a list of patch files or patterns (patches/*.patch)']);
  });

  test('an accept entry with a rule accepts that rule only (checked after the build, as createUpdate accepts by symbol)', () => {
    const entry = (symbol: string, rule: AcceptEntry['rule']): AcceptEntry => ({
      symbol,
      rule,
      reason: null,
      at: { file: 'k', line: 1, column: 1 },
    });
    const accepted = [
      { symbol: 'free_uid', rule: 'export-change' },
      { symbol: 'free_uid', rule: 'data-change' },
      { symbol: 'cmdline_reads', rule: 'new-data' },
    ];
    assert.deepEqual(acceptedBeyondRules(accepted, [entry('free_uid', 'export-change'), entry('cmdline_reads', null)]), [
      { symbol: 'free_uid', rule: 'data-change' },
    ]);
    assert.deepEqual(acceptedBeyondRules(accepted, [entry('free_uid', 'export-change'), entry('free_uid', 'data-change')]), []);
  });

  test('patch patterns: wildcards in the file name only', () => {
    assert.deepEqual(matchPatchPattern('*/0001-first.patch', dir), { error: 'wildcards are allowed in the file name only' });
    assert.deepEqual(matchPatchPattern('patches/000?-*.patch', dir), {
      files: [path.join(dir, 'patches/0001-first.patch'), path.join(dir, 'patches/0002-second.patch')],
    });
  });
});
