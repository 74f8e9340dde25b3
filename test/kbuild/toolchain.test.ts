// The toolchain fingerprint: this machine against the default target, and forged mismatches
// (a fake gcc-12 earlier on PATH; a config claiming another assembler).
import assert from 'node:assert/strict';
import { chmod, copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import {
  binutilsVerdict,
  binutilsVersionNumber,
  checkToolchain,
  compilerOf,
  compilerVerdict,
  configValue,
  ToolchainMismatchError,
} from '../../src/kbuild/toolchain.ts';
import { scratchDir } from '../helpers/paths.ts';

let target: TargetKernel;
let scratch: string;

before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('toolchain');
});
after(() => rm(scratch, { recursive: true, force: true }));

test('binutils version lines convert as the kernel scripts do', () => {
  assert.equal(binutilsVersionNumber('GNU assembler (GNU Binutils for Debian) 2.40'), 24000);
  assert.equal(binutilsVersionNumber('GNU ld (GNU Binutils) 2.38.50.20220101'), 23850);
  assert.equal(configValue('CONFIG_CC_VERSION_TEXT="gcc-12 (Debian) 12.2.0"\n', 'CONFIG_CC_VERSION_TEXT'), 'gcc-12 (Debian) 12.2.0');
});

test("the compiler comes from the target's CONFIG_CC_VERSION_TEXT, not from a name in the code", () => {
  const gcc12 = compilerOf('gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0');
  assert.deepEqual(gcc12, {
    program: 'gcc-12',
    package: 'gcc-12',
    debianVersion: '12.2.0-14+deb12u1',
    versionText: 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0',
  });
  // 6.12's config names the triplet-prefixed program (CROSS_COMPILE=x86_64-linux-gnu-), which gcc-12 also ships.
  const cross = compilerOf('x86_64-linux-gnu-gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0');
  assert.deepEqual([cross.program, cross.package, cross.debianVersion], ['x86_64-linux-gnu-gcc-12', 'gcc-12', '12.2.0-14+deb12u1']);
  assert.equal(compilerOf('gcc-14 (Debian 14.2.0-19) 14.2.0').program, 'gcc-14');
  assert.equal(compilerOf('gcc (GCC) 13.1.1 20230614').debianVersion, undefined);
  assert.throws(
    () => compilerOf('Debian clang version 14.0.6'),
    /target built with 'Debian clang version 14\.0\.6': only gcc-built kernels/,
  );
});

test('compiler verdict: use the same, install the exact Debian version, else refuse naming both', () => {
  const target = compilerOf('gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0');
  assert.deepEqual(compilerVerdict(target, target.versionText, []), { action: 'use' });
  assert.deepEqual(compilerVerdict(target, null, ['12.2.0-14+deb12u1', '12.2.0-14']), {
    action: 'install',
    spec: 'gcc-12=12.2.0-14+deb12u1',
  });
  const newer = compilerOf('gcc-14 (Debian 14.2.0-19) 14.2.0');
  const refused = compilerVerdict(newer, null, []);
  assert.equal(refused.action, 'refuse');
  assert.match(
    refused.action === 'refuse' ? refused.reason : '',
    /target built with 'gcc-14 \(Debian 14\.2\.0-19\) 14\.2\.0'; this machine has no gcc-14 and apt offers no gcc-14/,
  );
  const other = compilerVerdict(target, 'gcc-12 (Debian 12.3.0-1) 12.3.0', ['12.3.0-1']);
  assert.match(
    other.action === 'refuse' ? other.reason : '',
    /this machine has 'gcc-12 \(Debian 12\.3\.0-1\) 12\.3\.0' and apt offers gcc-12 12\.3\.0-1/,
  );
  assert.deepEqual(binutilsVerdict({ asVersion: 24000, ldVersion: 24000 }, { asVersion: 24000, ldVersion: 24000 }), []);
  assert.deepEqual(binutilsVerdict({ asVersion: 24200, ldVersion: 24000 }, { asVersion: 24000, ldVersion: 24000 }), [
    "assembler: target CONFIG_AS_VERSION=24200, this machine's as is 24000",
  ]);
});

test("this machine's toolchain matches the one that built Debian's 6.1.0-50", async () => {
  const check = await checkToolchain(target);
  assert.deepEqual(check.mismatches, []);
  assert.equal(check.target.ccVersionText, 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0');
  assert.equal(check.local.asVersion, 24000);
  assert.ok(check.target.comment.includes('GCC: (Debian 12.2.0-14+deb12u1) 12.2.0'));
});

test('a different compiler is refused with both versions named', async () => {
  // A gcc-12 that claims to be another build, and compiles with the real one so .comment differs too.
  const bin = path.join(scratch, 'bin');
  await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
  const fake = path.join(bin, 'gcc-12');
  await writeFile(
    fake,
    [
      '#!/bin/sh',
      'if [ "$1" = "--version" ]; then echo "gcc-12 (Debian 12.3.0-1) 12.3.0"; exit 0; fi',
      'exec /usr/bin/gcc-12 "$@"',
      '',
    ].join('\n'),
  );
  await chmod(fake, 0o755);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  await assert.rejects(checkToolchain(target, { env }), (e: Error) => {
    assert.ok(e instanceof ToolchainMismatchError);
    assert.match(e.message, /target built with 'gcc-12 \(Debian 12\.2\.0-14\+deb12u1\) 12\.2\.0'/);
    assert.match(e.message, /this machine has 'gcc-12 \(Debian 12\.3\.0-1\) 12\.3\.0'/);
    return true;
  });
});

test('a config built with another assembler is refused; the override only warns', async () => {
  const forgedConfig = path.join(scratch, 'config');
  await copyFile(target.config, forgedConfig);
  const text = await readFile(forgedConfig, 'utf8');
  await writeFile(forgedConfig, text.replace(/^CONFIG_AS_VERSION=\d+$/m, 'CONFIG_AS_VERSION=23900'));
  const forgedTarget = { config: forgedConfig, vmlinux: target.vmlinux };
  await assert.rejects(checkToolchain(forgedTarget), /target CONFIG_AS_VERSION=23900, this machine's as is 24000/);

  const warnings: string[] = [];
  const check = await checkToolchain(forgedTarget, { allowMismatch: true, log: (l) => warnings.push(l) });
  assert.equal(check.mismatches.length, 1);
  assert.ok(warnings.some((w) => /WARNING: toolchain mismatch overridden/.test(w)));
});
