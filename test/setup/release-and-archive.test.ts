// Release names, Debian's archive and the same-source rule, against the real archive.
import assert from 'node:assert/strict';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { availableVersions, downloadPackage, readControl } from '../../src/setup/debian-archive.ts';
import { defaultCacheDir, ensureTarget, packagesFor, parseRelease, sourceMismatches } from '../../src/setup/target-kernel.ts';
import { REPO, scratchDir } from '../helpers/paths.ts';
import { runUnchecked } from '../../src/util/exec.ts';

const debDir = path.join(defaultCacheDir(), 'debs');

test('a Debian release name splits into series, ABI and flavour', () => {
  assert.deepEqual(parseRelease('6.1.0-50-amd64'), { release: '6.1.0-50-amd64', series: '6.1', abi: '6.1.0-50', flavour: 'amd64' });
  assert.equal(parseRelease('6.1.0-50-cloud-amd64').flavour, 'cloud-amd64');
  assert.throws(() => parseRelease('6.1.176'), /not a Debian kernel release name/);
  assert.equal(packagesFor(parseRelease('6.1.0-50-amd64')).headersCommon, 'linux-headers-6.1.0-50-common');
});

test("the archive offers the default target's packages at 6.1.176-1", async () => {
  const wanted = packagesFor(parseRelease('6.1.0-50-amd64'));
  for (const pkg of Object.values(wanted)) {
    assert.ok((await availableVersions(pkg)).includes('6.1.176-1'), `${pkg} 6.1.176-1 should be in the archive`);
  }
});

test('a release that does not exist fails with the package named', async () => {
  const cacheDir = await scratchDir('nope');
  try {
    await assert.rejects(
      ensureTarget({ release: '6.1.0-999-amd64', cacheDir, debDir, skipHostPackages: true, log: () => {} }),
      /archive has no linux-image-6\.1\.0-999-amd64-unsigned/,
    );
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
});

test('a release whose kbuild package is missing at its version names exactly what is missing', async () => {
  // 6.1.0-47 is 6.1.170-3; Debian's archive keeps linux-kbuild-6.1 only at 6.1.176-1 and the newest security update.
  const cacheDir = await scratchDir('47');
  try {
    await assert.rejects(
      ensureTarget({ release: '6.1.0-47-amd64', cacheDir, debDir, skipHostPackages: true, log: () => {} }),
      (e: Error) => {
        assert.match(e.message, /missing .*linux-kbuild-6\.1 6\.1\.170-3/);
        assert.doesNotMatch(e.message, /linux-image-6\.1\.0-47-amd64-unsigned 6\.1\.170-3/);
        return true;
      },
    );
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
});

test('packages from two source versions are caught by the same-source check', async () => {
  const good = await readControl(await downloadPackage('linux-kbuild-6.1', '6.1.176-1', debDir));
  // Whichever other version the archive holds today (the security suite moves on: 6.1.192-2, then -3, ...).
  const other = (await availableVersions('linux-kbuild-6.1')).find((v) => v !== '6.1.176-1');
  assert.ok(other, "Debian's archive holds linux-kbuild-6.1 at a version besides 6.1.176-1");
  const newer = await readControl(await downloadPackage('linux-kbuild-6.1', other, debDir));
  assert.deepEqual(sourceMismatches([good], '6.1.176-1'), []);
  const mismatches = sourceMismatches([good, newer], '6.1.176-1');
  assert.equal(mismatches.length, 1);
  assert.equal(mismatches[0].includes(`linux-kbuild-6.1 is from linux ${other}, expected linux 6.1.176-1`), true, mismatches[0]);
});

test('a non-root user with empty package lists (the toolchain container) still finds and downloads packages', async () => {
  // The container's image deletes /var/lib/apt/lists and runs as another uid: APT_CONFIG points
  // apt at an empty lists folder, setpriv drops to nobody; the archive must answer all the same.
  const scratch = await scratchDir('nonroot-apt');
  try {
    await mkdir(path.join(scratch, 'empty-lists', 'partial'), { recursive: true });
    await writeFile(path.join(scratch, 'apt.conf'), `Dir::State::Lists "${scratch}/empty-lists";\nDir::Cache "${scratch}/empty-cache";\n`);
    await writeFile(
      path.join(scratch, 'probe.mts'),
      [
        `import { availableVersions, downloadPackage, currentAptOptions } from '${REPO}/src/setup/debian-archive.ts';`,
        `const versions = await availableVersions('linux-image-6.1.0-50-amd64-unsigned');`,
        `const deb = await downloadPackage('linux-headers-6.1.0-50-amd64', '6.1.176-1', '${scratch}/debs');`,
        `console.log(JSON.stringify({ versions, deb, options: currentAptOptions() }));`,
        '',
      ].join('\n'),
    );
    await chmod(scratch, 0o777);
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: scratch,
      APT_CONFIG: path.join(scratch, 'apt.conf'),
      KSPLICE_CACHE_DIR: path.join(scratch, 'cache'),
    };
    // Plain apt sees nothing through those lists: the situation of the bug.
    const plain = await runUnchecked('apt-cache', ['madison', 'linux-image-6.1.0-50-amd64-unsigned'], { env });
    assert.equal(plain.stdout.trim(), '');
    const probe = await runUnchecked(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', path.join(REPO, 'node_modules/.bin/tsx'), path.join(scratch, 'probe.mts')],
      { env, cwd: scratch },
    );
    assert.equal(probe.exitCode, 0, probe.stderr);
    const answer = JSON.parse(probe.stdout.trim().split('\n').pop() ?? '{}') as { versions: string[]; deb: string; options: string[] };
    assert.ok(answer.versions.includes('6.1.176-1'), answer.versions.join(', '));
    assert.ok(answer.options.includes(`Dir::State::Lists=${scratch}/cache/apt/lists`), answer.options.join(' '));
    assert.equal(path.basename(answer.deb), 'linux-headers-6.1.0-50-amd64_6.1.176-1_amd64.deb');
    const control = await readControl(answer.deb);
    assert.equal(control.sourceVersion, '6.1.176-1');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
