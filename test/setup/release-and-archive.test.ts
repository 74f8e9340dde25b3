// Release names and their refusals (pure), Debian's archive and the same-source rule against the real archive,
// and archive queries as a non-root user with empty package lists.
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { archiveControl, availableVersions, readControl } from '../../src/setup/debian-archive.ts';
import { ensureTarget, kernelVariablesForTree, releaseInArchive } from '../../src/setup/target-kernel.ts';
import {
  checkFlavour,
  chooseSourceVersion,
  packagesFor,
  parseRelease,
  ReleaseRefusedError,
  releasesInArchive,
  resolveRelease,
  sourceMismatches,
} from '../../src/setup/kernel-release.ts';
import { REPO, scratchDir } from '../helpers/paths.ts';
import { runUnchecked } from '../../src/util/exec.ts';

test('a Debian release name splits into series, ABI and flavour, on both kernel lines', () => {
  assert.deepEqual(parseRelease('6.1.0-50-amd64'), { release: '6.1.0-50-amd64', series: '6.1', abi: '6.1.0-50', flavour: 'amd64' });
  assert.equal(parseRelease('6.1.0-50-cloud-amd64').flavour, 'cloud-amd64');
  assert.deepEqual(parseRelease('6.12.115+deb12-amd64'), {
    release: '6.12.115+deb12-amd64',
    series: '6.12',
    abi: '6.12.115+deb12',
    flavour: 'amd64',
  });
  assert.throws(() => parseRelease('6.1.176'), /not a Debian kernel release name/);
  assert.equal(packagesFor(parseRelease('6.1.0-50-amd64')).headersCommon, 'linux-headers-6.1.0-50-common');
  assert.equal(packagesFor(parseRelease('6.12.115+deb12-cloud-amd64')).source, 'linux-source-6.12');
  assert.ok(!Object.values(packagesFor(parseRelease('6.1.0-47-amd64'))).some((p) => p.startsWith('linux-kbuild')));
});

test('rt and other architectures are refused by flavour name; amd64 and cloud-amd64 pass', () => {
  checkFlavour(parseRelease('6.1.0-47-cloud-amd64'));
  assert.throws(() => checkFlavour(parseRelease('6.1.0-50-rt-amd64')), /6\.1\.0-50-rt-amd64: flavour 'rt-amd64' refused \(PREEMPT_RT/);
  assert.throws(() => checkFlavour(parseRelease('6.1.0-50-arm64')), /flavour 'arm64' refused \(only x86-64/);
  assert.throws(() => checkFlavour(parseRelease('6.12.115+deb12-amd64-dbg')), /flavour 'amd64-dbg' refused/);
});

const archiveNames = [
  'linux-image-6.1.0-47-amd64-unsigned',
  'linux-image-6.1.0-57-amd64-unsigned',
  'linux-image-6.1.0-9-amd64-unsigned',
  'linux-image-6.1.0-57-cloud-amd64-unsigned',
  'linux-image-6.1.0-57-rt-amd64-unsigned',
  'linux-image-6.12.107+deb12-amd64-unsigned',
  'linux-image-6.12.118+deb12-amd64-unsigned',
  'linux-image-6.12.118+deb12-amd64-dbg',
  'linux-image-amd64',
];

test('aliases pick the newest amd64 ABI of their line by number, not by spelling', () => {
  const releases = releasesInArchive(archiveNames);
  assert.equal(releases.length, 7);
  assert.equal(resolveRelease('latest', releases).release, '6.1.0-57-amd64');
  assert.equal(resolveRelease('latest-6.12', releases).release, '6.12.118+deb12-amd64');
  assert.equal(resolveRelease('6.1.0-9-amd64', releases).abi, '6.1.0-9');
  assert.throws(() => resolveRelease('latest-6.12', releasesInArchive(archiveNames.slice(0, 5))), /holds no 6\.12 kernel/);
});

test('an unknown release is refused with the ones the archive holds (supported flavours only)', () => {
  const releases = releasesInArchive(archiveNames);
  assert.throws(
    () => resolveRelease('6.1.0-999-amd64', releases),
    (e: Error) => {
      assert.ok(e instanceof ReleaseRefusedError);
      assert.match(e.message, /unknown release 6\.1\.0-999-amd64: .*no linux-image-6\.1\.0-999-amd64-unsigned/);
      assert.match(e.message, /holds: 6\.1\.0-9-amd64, 6\.1\.0-47-amd64, 6\.1\.0-57-amd64, 6\.1\.0-57-cloud-amd64, 6\.12\.107/);
      assert.doesNotMatch(e.message, /rt-amd64/);
      return true;
    },
  );
  assert.throws(() => resolveRelease('6.1.0-57-rt-amd64', releases), /flavour 'rt-amd64' refused/);
});

test('the source version: the newest where every package exists, else each missing one named', () => {
  const versions = {
    'linux-image-6.1.0-57-amd64-unsigned': ['6.1.192-3', '6.1.192-2'],
    'linux-headers-6.1.0-57-amd64': ['6.1.192-3', '6.1.192-2'],
    'linux-source-6.1': ['6.1.192-2', '6.1.176-1'],
  };
  assert.equal(chooseSourceVersion('6.1.0-57-amd64', versions, 'linux-image-6.1.0-57-amd64-unsigned'), '6.1.192-2');
  assert.throws(
    () => chooseSourceVersion('6.1.0-57-amd64', { ...versions, 'linux-source-6.1': ['6.1.176-1'] }, 'linux-image-6.1.0-57-amd64-unsigned'),
    /lacks packages for 6\.1\.0-57-amd64: missing linux-source-6\.1 6\.1\.192-2 \(archive has: 6\.1\.176-1\)/,
  );
  assert.deepEqual(
    sourceMismatches(
      [{ package: 'linux-source-6.12', source: 'linux-6.12', sourceVersion: '6.12.115-2~deb12u1' }],
      'linux-6.12',
      '6.12.115-2~deb12u1',
    ),
    [],
  );
});

test('the archive offers every package of 6.1.0-47 at 6.1.170-3 (no kbuild package there) and the records agree on it', async () => {
  const wanted = packagesFor(parseRelease('6.1.0-47-amd64'));
  for (const pkg of Object.values(wanted)) {
    assert.ok((await availableVersions(pkg)).includes('6.1.170-3'), `${pkg} 6.1.170-3 should be in the archive`);
    const record = await archiveControl(pkg, '6.1.170-3');
    assert.deepEqual([record?.source, record?.sourceVersion], ['linux', '6.1.170-3'], pkg);
  }
  assert.ok(!(await availableVersions('linux-kbuild-6.1')).includes('6.1.170-3'));
  assert.equal((await releaseInArchive('latest')).series, '6.1');
});

test('refusals come before any download: unknown release, rt flavour, another architecture', async () => {
  const cacheDir = await scratchDir('nope');
  const emptyDebDir = path.join(cacheDir, 'debs');
  try {
    const attempt = (release: string) => ensureTarget({ release, cacheDir, debDir: emptyDebDir, skipHostPackages: true, log: () => {} });
    await assert.rejects(attempt('6.1.0-999-amd64'), /unknown release 6\.1\.0-999-amd64: .*holds: .*6\.1\.0-47-amd64/);
    await assert.rejects(attempt('6.1.0-50-rt-amd64'), /flavour 'rt-amd64' refused/);
    await assert.rejects(attempt('6.1.0-50-arm64'), /flavour 'arm64' refused/);
    assert.deepEqual(await readdir(cacheDir), []);
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
});

test('packages from two source versions are caught by the same-source check', async () => {
  const good = await archiveControl('linux-source-6.1', '6.1.176-1');
  // Whichever other version the archive holds today (the security suite moves on: 6.1.192-2, then -3, ...).
  const other = (await availableVersions('linux-source-6.1')).find((v) => v !== '6.1.176-1');
  assert.ok(good && other, "Debian's archive holds linux-source-6.1 at a version besides 6.1.176-1");
  const newer = await archiveControl('linux-source-6.1', other);
  assert.ok(newer);
  assert.deepEqual(sourceMismatches([good], 'linux', '6.1.176-1'), []);
  const mismatches = sourceMismatches([good, newer], 'linux', '6.1.176-1');
  assert.deepEqual(mismatches, [`linux-source-6.1 is from linux ${other}, expected linux 6.1.176-1`]);
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

test('a kernel Debian built without rustc gets a RUSTC that does not exist in its tree; a 6.1 one is left as is', () => {
  const vars = 'override KERNELRELEASE = 6.12.118+deb12-amd64\nCC = $(CROSS_COMPILE)gcc-12\n';
  assert.equal(kernelVariablesForTree(vars, 'CONFIG_CC_VERSION_TEXT="gcc-12"\n'), vars);
  const tree = kernelVariablesForTree(vars, 'CONFIG_RUSTC_VERSION=0\nCONFIG_RUSTC_LLVM_VERSION=0\n');
  assert.ok(tree.startsWith(vars));
  assert.match(tree, /^RUSTC = ksplice-no-rustc$/m);
  assert.equal(kernelVariablesForTree(vars, 'CONFIG_RUSTC_VERSION=108500\n'), vars);
});
