/**
 * Signed modules for Secure Boot hosts (src/kbuild/sign-module.ts): a real update made by
 * `ksplice-create --sign-key --sign-cert` with a throwaway key and certificate (openssl), whose
 * ksplice.ko and update module carry the kernel's appended signature (PKCS#7, then struct
 * module_signature, then "~Module signature appended~\n"), checked here with `openssl cms -verify`
 * against the certificate over the module's content; the manifest's certificate fingerprint; the
 * key's bytes nowhere in the tarball nor in what the tool printed. And the refusals, before any
 * build: key without certificate, unreadable key, key of another certificate, a target without
 * CONFIG_MODULE_SIG. The pure parts alone: the trailer reader, where sign-file is found.
 *
 * Run: bash scripts/test.sh test/create/signing.test.ts   (one create, about 1-2 min)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { buildCore } from '../../src/kbuild/core-module.ts';
import { findSignFile, moduleSigHash, prepareSigner, readModuleSignature, SigningError } from '../../src/kbuild/sign-module.ts';
import { configValue } from '../../src/kbuild/toolchain.ts';
import { readUpdateTarball } from '../../src/package/update-tarball.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { run, runUnchecked } from '../../src/util/exec.ts';
import { createUpdate } from '../helpers/create-cli.ts';
import { corpusPatch, scratchDir } from '../helpers/paths.ts';
import { makeKeyPair } from '../helpers/throwaway-key.ts';

const PROC_CMDLINE = corpusPatch('examples/proc_cmdline.patch');
const MAGIC = Buffer.from('~Module signature appended~\n');

/** The appended signature, parsed here independently of sign-module.ts: content, PKCS#7, struct. */
function splitSigned(ko: Buffer): { content: Buffer; pkcs7: Buffer; struct: Buffer } {
  assert.ok(ko.subarray(ko.length - MAGIC.length).equals(MAGIC), 'ends with "~Module signature appended~\\n"');
  const struct = ko.subarray(ko.length - MAGIC.length - 12, ko.length - MAGIC.length);
  const sigLen = struct.readUInt32BE(8);
  const pkcs7 = ko.subarray(ko.length - MAGIC.length - 12 - sigLen, ko.length - MAGIC.length - 12);
  return { content: ko.subarray(0, ko.length - MAGIC.length - 12 - sigLen), pkcs7, struct };
}

/** `openssl cms -verify` of a detached PKCS#7 over `content`, trusting only `cert`. */
async function cmsVerify(dir: string, pkcs7: Buffer, content: Buffer, cert: string) {
  const sig = path.join(dir, 'sig.p7');
  const data = path.join(dir, 'content.bin');
  await writeFile(sig, pkcs7);
  await writeFile(data, content);
  return runUnchecked('openssl', [
    'cms',
    '-verify',
    '-binary',
    '-inform',
    'DER',
    '-in',
    sig,
    '-content',
    data,
    '-certfile',
    cert,
    '-nointern',
    '-CAfile',
    cert,
    '-purpose',
    'any',
    '-out',
    '/dev/null',
  ]);
}

describe('signed modules (ksplice-create --sign-key/--sign-cert)', () => {
  let target: TargetKernel;
  let dir = '';
  let pair: { key: string; cert: string };
  let other: { key: string; cert: string };
  let configText = '';

  before(async () => {
    target = await ensureTarget();
    dir = await scratchDir('signing');
    pair = await makeKeyPair(dir, 'signer');
    other = await makeKeyPair(dir, 'other');
    configText = await readFile(path.join(target.sourceDir, '.config'), 'utf8');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the target hash comes from CONFIG_MODULE_SIG_HASH; a kernel without CONFIG_MODULE_SIG is refused', async () => {
    assert.equal(moduleSigHash(configText), 'sha256');
    assert.equal(moduleSigHash('CONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_HASH="sha512"\n'), 'sha512');
    const unsigning = configText.replace(/^CONFIG_MODULE_SIG=y$/m, '# CONFIG_MODULE_SIG is not set');
    assert.notEqual(unsigning, configText);
    await assert.rejects(
      prepareSigner({ keyPath: pair.key, certPath: pair.cert, configText: unsigning, sourceDir: target.sourceDir }),
      (e: Error) => e instanceof SigningError && /without CONFIG_MODULE_SIG: it does not check module signatures/.test(e.message),
    );
    // the kernel's own signing_key.pem holds key and certificate in one file: accepted as both
    const both = path.join(dir, 'both.pem');
    await writeFile(both, Buffer.concat([await readFile(pair.key), await readFile(pair.cert)]));
    const signer = await prepareSigner({ keyPath: both, certPath: both, configText, sourceDir: target.sourceDir });
    assert.equal(signer.identity.hashAlgorithm, 'sha256');
  });

  test('readModuleSignature: null for an unsigned module, the parts of a signed one, an error for a cut trailer', () => {
    const content = Buffer.from('\x7fELF module bytes', 'latin1');
    const pkcs7 = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x07]);
    const struct = Buffer.from([0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, pkcs7.length]);
    assert.equal(readModuleSignature(content), null);
    const signed = readModuleSignature(Buffer.concat([content, pkcs7, struct, MAGIC]))!;
    assert.ok(signed.content.equals(content) && signed.pkcs7.equals(pkcs7));
    assert.equal(signed.idType, 2);
    const tooLong = Buffer.from(struct);
    tooLong.writeUInt32BE(1000, 8);
    assert.throws(() => readModuleSignature(Buffer.concat([content, pkcs7, tooLong, MAGIC])), /exceeds the module/);
  });

  test("sign-file: the prepared tree's, else the headers' (Debian's linux-kbuild)", async () => {
    assert.equal(await findSignFile(target.sourceDir, target.headersDir), path.join(target.sourceDir, 'scripts/sign-file'));
    const tree = path.join(dir, 'tree');
    const headers = path.join(dir, 'headers');
    await mkdir(path.join(headers, 'scripts'), { recursive: true });
    await mkdir(tree, { recursive: true });
    await writeFile(path.join(headers, 'scripts/sign-file'), '#!/bin/sh\n');
    await chmod(path.join(headers, 'scripts/sign-file'), 0o755);
    assert.equal(await findSignFile(tree, headers), path.join(headers, 'scripts/sign-file'));
  });

  test('refused before any build: key without certificate, unreadable key, the key of another certificate', async () => {
    const refuse = async (extra: string[]) => {
      const r = await createUpdate({ patch: PROC_CMDLINE, sourceDir: target.sourceDir, outputDir: dir, extra });
      assert.doesNotMatch(r.stderr, /double build/, 'refused before the build');
      return r;
    };
    const noCert = await refuse([`--sign-key=${pair.key}`]);
    assert.equal(noCert.exitCode, 64, noCert.stderr);
    assert.match(noCert.stderr, /--sign-key needs --sign-cert=FILE/);

    const missing = await refuse([`--sign-key=${path.join(dir, 'absent.pem')}`, `--sign-cert=${pair.cert}`]);
    assert.equal(missing.exitCode, 1, missing.stderr);
    assert.match(missing.stderr, /cannot read the signing key .*absent\.pem: ENOENT/);

    const notAKey = await refuse([`--sign-key=${pair.cert}`, `--sign-cert=${pair.cert}`]);
    assert.equal(notAKey.exitCode, 1, notAKey.stderr);
    assert.match(notAKey.stderr, /cannot use the signing key .*: not a PEM private key/);

    const mismatch = await refuse([`--sign-key=${other.key}`, `--sign-cert=${pair.cert}`]);
    assert.equal(mismatch.exitCode, 1, mismatch.stderr);
    assert.match(mismatch.stderr, /the signing key .*other\.key\.pem does not belong to the certificate .*signer\.cert\.pem/);
  });

  test('both modules carry a PKCS#7 signature openssl verifies against the certificate; the key is nowhere', async () => {
    const made = await createUpdate({
      patch: PROC_CMDLINE,
      sourceDir: target.sourceDir,
      outputDir: dir,
      extra: ['--id=signed1', `--sign-key=${pair.key}`, `--sign-cert=${pair.cert}`],
    });
    assert.equal(made.exitCode, 0, made.stderr);
    const gz = await readFile(made.json.tarball);
    const { manifest, files } = readUpdateTarball(gz, { kernelRelease: target.release });

    const certDer = Buffer.from(await run('openssl', ['x509', '-in', pair.cert, '-outform', 'DER', '-out', path.join(dir, 'cert.der')]));
    assert.equal(certDer.length, 0);
    const fingerprint = createHash('sha256')
      .update(await readFile(path.join(dir, 'cert.der')))
      .digest('hex');
    assert.deepEqual(manifest.moduleSignature, {
      hashAlgorithm: configValue(configText, 'CONFIG_MODULE_SIG_HASH'),
      certificateSha256: fingerprint,
      certificateSubject: 'CN=ksplice test signer',
    });

    const cachedCore = await readFile((await buildCore(path.join(target.configDir, 'build'), target.release)).ko);
    assert.equal(readModuleSignature(cachedCore), null, 'the cached core stays unsigned');
    for (const name of [manifest.coreModule, manifest.updateModule]) {
      const ko = files.find((f) => f.path === name)!.data;
      const { content, pkcs7, struct } = splitSigned(ko);
      // struct module_signature: algo 0, hash 0, id_type PKEY_ID_PKCS7 (2), signer_len 0, key_id_len 0, pad
      assert.deepEqual([...struct.subarray(0, 8)], [0, 0, 2, 0, 0, 0, 0, 0], `${name}: module_signature`);
      assert.ok(content.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')), `${name}: the signed content is the ELF module`);
      if (name === manifest.coreModule) assert.ok(content.equals(cachedCore), 'the signed core is the built core');

      const verified = await cmsVerify(dir, pkcs7, content, pair.cert);
      assert.equal(verified.exitCode, 0, `${name}: ${verified.stderr}`);
      assert.match(verified.stderr, /Verification successful/);
      const printed = await run('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', path.join(dir, 'sig.p7')]);
      assert.match(printed, /digestAlgorithm:\s*\n\s*algorithm: sha256/, `${name}: signed with the target's hash`);

      // the check can fail: one flipped byte of the module, or another certificate, and openssl refuses
      const tampered = Buffer.from(content);
      tampered[content.length >> 1] ^= 0xff;
      assert.notEqual((await cmsVerify(dir, pkcs7, tampered, pair.cert)).exitCode, 0, `${name}: tampered content refused`);
      assert.notEqual((await cmsVerify(dir, pkcs7, content, other.cert)).exitCode, 0, `${name}: another certificate refused`);
    }

    // The key: its PEM body lines, and its DER, appear in none of the tarball (compressed or not)
    // nor in anything ksplice-create printed.
    const keyPem = await readFile(pair.key, 'utf8');
    const keyDer = Buffer.from(
      keyPem
        .split('\n')
        .filter((l) => l && !l.startsWith('-----'))
        .join(''),
      'base64',
    );
    const pemLines = keyPem.split('\n').filter((l) => l.length >= 60 && !l.startsWith('-----'));
    assert.ok(keyDer.length > 1000 && pemLines.length > 10);
    const tar = gunzipSync(gz);
    const printed = made.stdout + made.stderr;
    for (const haystack of [gz, tar, ...files.map((f) => f.data)]) {
      assert.equal(haystack.indexOf(keyDer), -1, 'no key DER in the tarball');
      assert.equal(haystack.indexOf(keyDer.subarray(100, 164)), -1, 'no part of the key DER in the tarball');
      for (const line of pemLines) assert.equal(haystack.indexOf(line), -1, 'no key PEM line in the tarball');
    }
    for (const line of pemLines) assert.ok(!printed.includes(line), 'no key PEM line in the output');
    assert.ok(!files.some((f) => /\.(pem|key|der|x509)$/.test(f.path)), 'no key or certificate file in the tarball');
    assert.match(made.stderr, new RegExp(`signed ksplice\\.ko and ksplice_signed1\\.ko \\(sha256, certificate sha256 ${fingerprint}\\)`));
  });
});
