// Release assets (src/action/publish.ts) through the real octokit of @actions/github against a fake
// of GitHub's releases API on 127.0.0.1 (test/helpers/fake-github-releases.ts): the SHA256SUMS
// beside the tarballs, checked with the real `sha256sum -c`; a same-named asset refused unless
// overwrite, kept when its bytes are the same; parallel jobs all recorded in SHA256SUMS.
//
// Run: bash scripts/test.sh test/action/publish.test.ts   (a few seconds)
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AssetExistsError,
  attachToRelease,
  CHECKSUMS_ASSET,
  formatSha256Sums,
  parseSha256Sums,
  sha256Hex,
} from '../../src/action/publish.ts';
import { run, runUnchecked } from '../../src/util/exec.ts';
import { fakeReleasesApi } from '../helpers/fake-github-releases.ts';
import { scratchDir } from '../helpers/paths.ts';

let scratch: string;
before(async () => {
  scratch = await scratchDir('publish');
});
after(() => rm(scratch, { recursive: true, force: true }));

async function tarball(name: string, content: string): Promise<string> {
  const dir = await mkdtemp(path.join(scratch, 'out-'));
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

/** `sha256sum -c` in a folder holding the release's SHA256SUMS and the given tarballs' bytes. */
async function sha256sumCheck(sums: Buffer, files: Record<string, Buffer | string>) {
  const dir = await mkdtemp(path.join(scratch, 'check-'));
  await writeFile(path.join(dir, CHECKSUMS_ASSET), sums);
  for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(dir, name), bytes);
  return runUnchecked('sha256sum', ['--strict', '-c', CHECKSUMS_ASSET], { cwd: dir });
}

const target = (base: string, file: string, overwrite = false) => ({
  token: 't',
  repository: 'org/kernel-fixes',
  tag: 'v1.0',
  tarball: file,
  apiUrl: base,
  overwrite,
});

describe('SHA256SUMS, the format', () => {
  test("what formatSha256Sums writes is sha256sum's own output, names sorted; parse reads it back", async () => {
    const a = await tarball('ksplice-bbbb.tar.gz', 'second');
    const b = path.join(path.dirname(a), 'ksplice-aaaa.tar.gz');
    await writeFile(b, 'first');
    const expected = await run('sha256sum', ['ksplice-aaaa.tar.gz', 'ksplice-bbbb.tar.gz'], { cwd: path.dirname(a) });
    const sums = new Map([
      ['ksplice-bbbb.tar.gz', sha256Hex(Buffer.from('second'))],
      ['ksplice-aaaa.tar.gz', sha256Hex(Buffer.from('first'))],
    ]);
    assert.equal(formatSha256Sums(sums), expected);
    assert.deepEqual(parseSha256Sums(expected), new Map([...sums].reverse()));
  });

  test('a malformed line is an error naming the line', () => {
    assert.throws(() => parseSha256Sums(`${'a'.repeat(64)}  x.tar.gz\nnot a checksum\n`), /SHA256SUMS line 2: not "<sha256> {2}<name>"/);
    assert.throws(() => parseSha256Sums(`${'a'.repeat(63)}  x.tar.gz\n`), /line 1/);
  });
});

describe('attaching to a release (fake API)', () => {
  test('a new release: created, the tarball attached, SHA256SUMS beside it passes sha256sum -c', async () => {
    const gh = await fakeReleasesApi();
    try {
      const file = await tarball('ksplice-0123abcd.tar.gz', 'an update');
      const asset = await attachToRelease(target(gh.base, file));
      assert.equal(asset.replaced, false);
      assert.equal(asset.unchanged, false);
      assert.match(asset.url, /\/ksplice-0123abcd\.tar\.gz$/);
      assert.match(asset.checksumsUrl, /\/SHA256SUMS$/);
      assert.deepEqual(gh.assetNames('v1.0'), ['SHA256SUMS', 'ksplice-0123abcd.tar.gz']);
      const check = await sha256sumCheck(gh.asset('v1.0', CHECKSUMS_ASSET)!, {
        'ksplice-0123abcd.tar.gz': gh.asset('v1.0', 'ksplice-0123abcd.tar.gz')!,
      });
      assert.equal(check.exitCode, 0, check.stdout + check.stderr);
      assert.equal(check.stdout, 'ksplice-0123abcd.tar.gz: OK\n');
    } finally {
      await gh.close();
    }
  });

  test('a series: SHA256SUMS lists every tarball of the release, and a tampered one fails sha256sum -c', async () => {
    const gh = await fakeReleasesApi({ releases: [{ tag: 'v1.0', assets: { 'README.txt': 'hello' } }] });
    try {
      const files = { 'ksplice-1111.tar.gz': 'one', 'ksplice-2222.tar.gz': 'two', 'ksplice-3333.tar.gz': 'three' };
      for (const [name, content] of Object.entries(files)) await attachToRelease(target(gh.base, await tarball(name, content)));
      assert.ok(!gh.calls.includes('POST /repos/org/kernel-fixes/releases'), 'the existing release is reused');
      const sums = gh.asset('v1.0', CHECKSUMS_ASSET)!;
      assert.deepEqual([...parseSha256Sums(sums.toString()).keys()], Object.keys(files), 'every tarball, in name order; README.txt not');
      assert.equal((await sha256sumCheck(sums, files)).exitCode, 0);
      const tampered = await sha256sumCheck(sums, { ...files, 'ksplice-2222.tar.gz': 'TWO' });
      assert.notEqual(tampered.exitCode, 0);
      assert.match(tampered.stdout, /ksplice-2222\.tar\.gz: FAILED/);
    } finally {
      await gh.close();
    }
  });

  test('a same-named asset with other bytes is refused without overwrite: nothing deleted, nothing uploaded', async () => {
    const gh = await fakeReleasesApi({ releases: [{ tag: 'v1.0', assets: { 'ksplice-0123abcd.tar.gz': 'an older build' } }] });
    try {
      const file = await tarball('ksplice-0123abcd.tar.gz', 'this build');
      await assert.rejects(attachToRelease(target(gh.base, file)), (e: unknown) => {
        assert.ok(e instanceof AssetExistsError);
        assert.match(
          e.message,
          /ksplice-0123abcd\.tar\.gz is already on release v1\.0 with other bytes: not replaced \(set overwrite: true/,
        );
        return true;
      });
      assert.equal(gh.asset('v1.0', 'ksplice-0123abcd.tar.gz')?.toString(), 'an older build');
      assert.ok(!gh.calls.some((c) => c.startsWith('DELETE') || c.startsWith('POST')), gh.calls.join(', '));
    } finally {
      await gh.close();
    }
  });

  test('with overwrite: the old asset replaced, its SHA256SUMS line too', async () => {
    const old = 'an older build';
    const gh = await fakeReleasesApi({
      releases: [
        {
          tag: 'v1.0',
          assets: {
            'ksplice-0123abcd.tar.gz': old,
            'ksplice-9999.tar.gz': 'neighbour',
            SHA256SUMS: formatSha256Sums(
              new Map([
                ['ksplice-0123abcd.tar.gz', sha256Hex(Buffer.from(old))],
                ['ksplice-9999.tar.gz', sha256Hex(Buffer.from('neighbour'))],
              ]),
            ),
          },
        },
      ],
    });
    try {
      const file = await tarball('ksplice-0123abcd.tar.gz', 'this build');
      const asset = await attachToRelease(target(gh.base, file, true));
      assert.equal(asset.replaced, true);
      assert.equal(gh.asset('v1.0', 'ksplice-0123abcd.tar.gz')?.toString(), 'this build');
      const sums = parseSha256Sums(gh.asset('v1.0', CHECKSUMS_ASSET)!.toString());
      assert.equal(sums.get('ksplice-0123abcd.tar.gz'), sha256Hex(Buffer.from('this build')));
      assert.equal(sums.get('ksplice-9999.tar.gz'), sha256Hex(Buffer.from('neighbour')), "the neighbour's line kept");
    } finally {
      await gh.close();
    }
  });

  test('a re-run with the same bytes uploads nothing and deletes nothing (reproducible builds re-run cleanly)', async () => {
    const gh = await fakeReleasesApi({ releases: [{ tag: 'v1.0' }] });
    try {
      const file = await tarball('ksplice-0123abcd.tar.gz', 'the same build');
      await attachToRelease(target(gh.base, file));
      const before = gh.calls.length;
      const again = await attachToRelease(target(gh.base, file));
      assert.equal(again.unchanged, true);
      assert.equal(again.replaced, false);
      const rerun = gh.calls.slice(before);
      assert.ok(!rerun.some((c) => c.startsWith('DELETE') || c.startsWith('POST')), rerun.join(', '));
    } finally {
      await gh.close();
    }
  });

  test('parallel jobs (a matrix) attaching to one release: every tarball ends up in SHA256SUMS', async () => {
    // each upload waits a little, so the jobs' read-merge-upload of SHA256SUMS interleave
    const gh = await fakeReleasesApi({ beforeUpload: () => new Promise((r) => setTimeout(r, 20)) });
    try {
      const names = ['ksplice-a1.tar.gz', 'ksplice-b2.tar.gz', 'ksplice-c3.tar.gz', 'ksplice-d4.tar.gz'];
      const files = await Promise.all(names.map((n) => tarball(n, `bytes of ${n}`)));
      await Promise.all(files.map((f) => attachToRelease(target(gh.base, f))));
      const sums = parseSha256Sums(gh.asset('v1.0', CHECKSUMS_ASSET)!.toString());
      assert.deepEqual([...sums.keys()], names);
      for (const n of names) assert.equal(sums.get(n), sha256Hex(Buffer.from(`bytes of ${n}`)), n);
      assert.deepEqual(gh.assetNames('v1.0'), ['SHA256SUMS', ...names]);
    } finally {
      await gh.close();
    }
  });
});
