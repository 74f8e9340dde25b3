// The released updates the nightly workflow proves again (src/action/release-assets.ts), through
// the real octokit of @actions/github against a fake of GitHub's releases API on 127.0.0.1
// (test/helpers/fake-github-releases.ts; GitHub itself is not reachable here): every page of
// releases, drafts left out, tags with a slash, each tarball checked against its release's
// SHA256SUMS. The command the workflow runs (`node dist/index.js release-assets`) is run through
// the bundle's dispatcher (src/action/index.ts) with the workflow's environment.
//
// Run: bash scripts/test.sh test/action/release-assets.test.ts   (a few seconds)
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CHECKSUMS_ASSET, formatSha256Sums, sha256Hex } from '../../src/action/publish.ts';
import { checkAgainstSums, downloadReleasedTarballs, isUpdateTarball, tagFolder } from '../../src/action/release-assets.ts';
import { runUnchecked } from '../../src/util/exec.ts';
import { fakeReleasesApi, updateTarball, type FakeRelease } from '../helpers/fake-github-releases.ts';
import { REPO, scratchDir } from '../helpers/paths.ts';

let scratch: string;
before(async () => {
  scratch = await scratchDir('release-assets');
});
after(() => rm(scratch, { recursive: true, force: true }));

const sumsOf = (files: Record<string, string>) =>
  formatSha256Sums(new Map(Object.entries(files).map(([n, b]) => [n, sha256Hex(Buffer.from(b))])));

/** Five releases, oldest first: before SHA256SUMS, with it, none of ours, a draft, a tag with a slash. */
function releases(): FakeRelease[] {
  const v2 = { 'ksplice-2a.tar.gz': 'update 2a', 'ksplice-2b.tar.gz': 'update 2b' };
  const v4 = { 'ksplice-4.tar.gz': 'update 4' };
  return [
    { tag: 'v1.0', assets: { 'ksplice-1.tar.gz': 'update 1' } },
    { tag: 'v2.0', assets: { ...v2, [CHECKSUMS_ASSET]: sumsOf(v2), 'notes.txt': 'not an update' } },
    { tag: 'v3.0', assets: { 'source.zip': 'no update here' } },
    { tag: 'v3.1-draft', draft: true, assets: { 'ksplice-draft.tar.gz': 'unpublished' } },
    { tag: 'fixes/v4', assets: { ...v4, [CHECKSUMS_ASSET]: sumsOf(v4) } },
  ];
}

describe('the judgement', () => {
  test('update tarball names, tag folders, checksum verdicts', () => {
    assert.ok(isUpdateTarball('ksplice-0123abcd.tar.gz'));
    for (const name of ['SHA256SUMS', 'ksplice-.tar.gz', 'ksplice-a.tar', 'x-ksplice-a.tar.gz', 'ksplice-a/b.tar.gz'])
      assert.ok(!isUpdateTarball(name), name);
    assert.equal(tagFolder('v1.0'), 'v1.0');
    assert.equal(tagFolder('fixes/v4'), 'fixes_v4');
    assert.equal(tagFolder('..'), '_..');
    const sums = new Map([['a.tar.gz', 'aa']]);
    assert.equal(checkAgainstSums(null, 'a.tar.gz', 'aa'), 'unverified');
    assert.equal(checkAgainstSums(sums, 'a.tar.gz', 'aa'), 'verified');
    assert.match(checkAgainstSums(sums, 'a.tar.gz', 'bb'), /a\.tar\.gz: sha256 bb differs from the release's SHA256SUMS \(aa\)/);
    assert.match(checkAgainstSums(sums, 'b.tar.gz', 'bb'), /b\.tar\.gz is not listed in the release's SHA256SUMS/);
  });
});

describe('downloading the released updates (fake API)', () => {
  test('every page of releases; drafts and other assets left out; SHA256SUMS checked where there is one', async () => {
    const gh = await fakeReleasesApi({ releases: releases(), pageSize: 2 });
    try {
      const dir = path.join(scratch, 'all');
      const lines: string[] = [];
      const got = await downloadReleasedTarballs({
        token: 't',
        repository: 'org/kernel-fixes',
        dir,
        apiUrl: gh.base,
        log: (l) => lines.push(l),
      });
      assert.deepEqual(
        got.map((t) => [t.tag, t.name, path.relative(dir, t.path), t.verified]),
        [
          ['fixes/v4', 'ksplice-4.tar.gz', 'fixes_v4/ksplice-4.tar.gz', true],
          ['v2.0', 'ksplice-2a.tar.gz', 'v2.0/ksplice-2a.tar.gz', true],
          ['v2.0', 'ksplice-2b.tar.gz', 'v2.0/ksplice-2b.tar.gz', true],
          ['v1.0', 'ksplice-1.tar.gz', 'v1.0/ksplice-1.tar.gz', false],
        ],
      );
      assert.equal(await readFile(path.join(dir, 'v2.0/ksplice-2b.tar.gz'), 'utf8'), 'update 2b');
      assert.ok(gh.calls.filter((c) => c === 'GET /repos/org/kernel-fixes/releases').length >= 3, 'three pages of two');
      assert.ok(lines.includes('v3.0: no update tarball'), lines.join('\n'));
      assert.ok(lines.some((l) => /^v1\.0: no SHA256SUMS/.test(l)));
    } finally {
      await gh.close();
    }
  });

  test('a tarball that differs from its SHA256SUMS line, or is missing from it, fails the run and is not written', async () => {
    const gh = await fakeReleasesApi({ releases: releases() });
    try {
      gh.put('v2.0', 'ksplice-2b.tar.gz', 'replaced behind our back');
      gh.put('fixes/v4', 'ksplice-4extra.tar.gz', 'never listed');
      const dir = path.join(scratch, 'bad');
      await assert.rejects(downloadReleasedTarballs({ token: 't', repository: 'org/kernel-fixes', dir, apiUrl: gh.base }), (e: Error) => {
        assert.match(e.message, /fixes\/v4: ksplice-4extra\.tar\.gz is not listed in the release's SHA256SUMS/);
        assert.match(e.message, /v2\.0: ksplice-2b\.tar\.gz: sha256 [0-9a-f]{64} differs from the release's SHA256SUMS/);
        return true;
      });
      await assert.rejects(readFile(path.join(dir, 'v2.0/ksplice-2b.tar.gz')), /ENOENT/);
    } finally {
      await gh.close();
    }
  });
});

describe('a kernel matrix: only the updates built for the kernel asked for', () => {
  test("each tarball's manifest says its kernel; others left out, a tarball that is no update an error", async () => {
    const files = {
      'ksplice-a50.tar.gz': updateTarball('a50', '6.1.0-50-amd64'),
      'ksplice-b57.tar.gz': updateTarball('b57', '6.1.0-57-amd64'),
    };
    const sums = formatSha256Sums(new Map(Object.entries(files).map(([n, b]) => [n, sha256Hex(b)])));
    const gh = await fakeReleasesApi({ releases: [{ tag: 'v5.0', assets: { ...files, [CHECKSUMS_ASSET]: sums } }] });
    try {
      const lines: string[] = [];
      const options = { token: 't', repository: 'org/kernel-fixes', apiUrl: gh.base, log: (l: string) => lines.push(l) };
      const for50 = await downloadReleasedTarballs({ ...options, dir: path.join(scratch, 'k50'), kernelRelease: '6.1.0-50-amd64' });
      assert.deepEqual(
        for50.map((t) => t.name),
        ['ksplice-a50.tar.gz'],
      );
      assert.ok(lines.includes('v5.0: ksplice-b57.tar.gz is for 6.1.0-57-amd64, not 6.1.0-50-amd64: left out'), lines.join('\n'));
      await assert.rejects(readFile(path.join(scratch, 'k50/v5.0/ksplice-b57.tar.gz')), /ENOENT/);
      const all = await downloadReleasedTarballs({ ...options, dir: path.join(scratch, 'kall') });
      assert.equal(all.length, 2, 'without a kernel release: every update');

      gh.put('v5.0', 'ksplice-junk.tar.gz', 'not a tarball');
      gh.put('v5.0', CHECKSUMS_ASSET, sums + `${sha256Hex(Buffer.from('not a tarball'))}  ksplice-junk.tar.gz\n`);
      await assert.rejects(
        downloadReleasedTarballs({ ...options, dir: path.join(scratch, 'kjunk'), kernelRelease: '6.1.0-50-amd64' }),
        /v5\.0: ksplice-junk\.tar\.gz: not a readable update tarball/,
      );
    } finally {
      await gh.close();
    }
  });
});

describe('node dist/index.js release-assets (through the dispatcher, as the nightly workflow runs it)', () => {
  const dispatcher = ['--import', 'tsx', path.join(REPO, 'src/action/index.ts'), 'release-assets'];

  test("the paths on stdout, one per line; the token and repository from the workflow's environment", async () => {
    const gh = await fakeReleasesApi({ releases: releases() });
    try {
      const dir = path.join(scratch, 'cli');
      const env = { ...process.env, GITHUB_TOKEN: 'fake', GITHUB_REPOSITORY: 'org/kernel-fixes', GITHUB_API_URL: gh.base };
      const result = await runUnchecked('node', [...dispatcher, `--dir=${dir}`], { cwd: REPO, env });
      assert.equal(result.exitCode, 0, result.stderr);
      assert.deepEqual(
        result.stdout
          .trim()
          .split('\n')
          .map((p) => path.relative(dir, p))
          .sort(),
        ['fixes_v4/ksplice-4.tar.gz', 'v1.0/ksplice-1.tar.gz', 'v2.0/ksplice-2a.tar.gz', 'v2.0/ksplice-2b.tar.gz'],
      );
      assert.match(result.stderr, /4 released update\(s\), 3 verified against SHA256SUMS/);
    } finally {
      await gh.close();
    }
  });

  test('no token: exit 1 naming it; no --dir: usage, exit 64; --help: exit 0', async () => {
    const env = { ...process.env, GITHUB_TOKEN: '', GH_TOKEN: '', GITHUB_REPOSITORY: 'org/kernel-fixes' };
    const noToken = await runUnchecked('node', [...dispatcher, `--dir=${scratch}`], { cwd: REPO, env });
    assert.equal(noToken.exitCode, 1);
    assert.match(noToken.stderr, /no token: set GITHUB_TOKEN/);
    const noDir = await runUnchecked('node', dispatcher, { cwd: REPO, env });
    assert.equal(noDir.exitCode, 64);
    assert.match(noDir.stderr, /--dir is required/);
    const help = await runUnchecked('node', [...dispatcher, '--help'], { cwd: REPO, env });
    assert.equal(help.exitCode, 0);
    assert.match(help.stdout, /^release-assets: download every released update tarball/);
  });
});
