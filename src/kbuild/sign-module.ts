/**
 * Module signing for Secure Boot hosts: `ksplice.ko` and the update module signed with the
 * kernel's own `scripts/sign-file`, as `make modules_install` signs the target's modules, so a
 * kernel that enforces signatures (Secure Boot lockdown, `module.sig_enforce=1`) loads them when
 * it trusts the certificate (built in, or enrolled with mokutil).
 *
 * The signature sign-file appends (include/linux/module_signature.h):
 *   <module content> <PKCS#7 SignedData, DER, detached> <struct module_signature, 12 bytes>
 *   "~Module signature appended~\n"
 * with id_type 2 (PKCS#7) and the PKCS#7's length as a big-endian u32 at the struct's end.
 *
 * The private key is only ever a path handed to sign-file (and read here once, in memory, to check
 * it belongs to the certificate): never printed, never copied into a work folder, an artifact or
 * the tarball. The manifest records the certificate's sha256 fingerprint instead.
 * An encrypted key's passphrase comes from KBUILD_SIGN_PIN, as for the kernel's own build.
 *
 * Usage:
 *   const signer = await prepareSigner({ keyPath, certPath, configText, sourceDir, headersDir });
 *   await signer.sign(unsignedKo, signedKo);   // signedKo may be unsignedKo (in place)
 *   signer.identity   // { hashAlgorithm: 'sha256', certificateSha256, certificateSubject }
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { access, constants, readFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../util/exec.ts';
import { configValue } from './toolchain.ts';

export const MODULE_SIG_MAGIC = '~Module signature appended~\n';
/** struct module_signature: algo, hash, id_type, signer_len, key_id_len, __pad[3], __be32 sig_len. */
const MODULE_SIGNATURE_SIZE = 12;
/** id_type of a PKCS#7 signature (PKEY_ID_PKCS7). */
export const PKEY_ID_PKCS7 = 2;

/** A refusal to sign: the user's key, certificate or target is not fit (exit 1, message says why). */
export class SigningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningError';
  }
}

/** What the manifest says about the signature: which hash, which certificate (sha256 of its DER). */
export interface SigningIdentity {
  hashAlgorithm: string;
  certificateSha256: string;
  certificateSubject: string;
}

export interface SigningRequest {
  /** The private key, PEM (sign-file's format). */
  keyPath: string;
  /** The X.509 certificate, PEM or DER. */
  certPath: string;
}

/**
 * The hash the target verifies module signatures with (CONFIG_MODULE_SIG_HASH), or a SigningError
 * when the target kernel does not check module signatures at all (no CONFIG_MODULE_SIG).
 *
 * Example: Debian 6.1's config (CONFIG_MODULE_SIG=y, CONFIG_MODULE_SIG_HASH="sha256") → 'sha256'.
 */
export function moduleSigHash(configText: string): string {
  if (configValue(configText, 'CONFIG_MODULE_SIG') !== 'y')
    throw new SigningError(
      'the target kernel is built without CONFIG_MODULE_SIG: it does not check module signatures, so signed modules would mean nothing; build without --sign-key',
    );
  const hash = configValue(configText, 'CONFIG_MODULE_SIG_HASH');
  if (!hash) throw new SigningError("the target's config has CONFIG_MODULE_SIG=y but no CONFIG_MODULE_SIG_HASH");
  return hash;
}

export interface ModuleSignature {
  /** The module as it was before signing: what the signature covers. */
  content: Buffer;
  /** The PKCS#7 SignedData (DER). */
  pkcs7: Buffer;
  /** id_type of struct module_signature (2: PKCS#7). */
  idType: number;
}

/** The signature appended to a module, or null for an unsigned one. Throws on a malformed trailer. */
export function readModuleSignature(ko: Buffer): ModuleSignature | null {
  const magic = Buffer.from(MODULE_SIG_MAGIC);
  if (ko.length < magic.length || !ko.subarray(ko.length - magic.length).equals(magic)) return null;
  const structEnd = ko.length - magic.length;
  const structStart = structEnd - MODULE_SIGNATURE_SIZE;
  if (structStart < 0) throw new SigningError('module signature trailer without its module_signature struct');
  const sigLen = ko.readUInt32BE(structEnd - 4);
  const sigStart = structStart - sigLen;
  if (sigStart < 0) throw new SigningError(`module signature length ${sigLen} exceeds the module`);
  return { content: ko.subarray(0, sigStart), pkcs7: ko.subarray(sigStart, structStart), idType: ko[structStart + 2]! };
}

export interface Signer {
  identity: SigningIdentity;
  /** Signs `ko` into `dest` (the same path: in place). */
  sign(ko: string, dest: string): Promise<void>;
}

async function readable(file: string, what: string): Promise<Buffer> {
  try {
    await access(file, constants.R_OK);
    return await readFile(file);
  } catch (e) {
    throw new SigningError(`cannot read the signing ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The key as OpenSSL reads it; the error names the file, never its bytes. */
function privateKeyOf(keyText: Buffer, keyPath: string): KeyObject {
  try {
    return createPrivateKey({ key: keyText, format: 'pem', passphrase: process.env.KBUILD_SIGN_PIN });
  } catch (e) {
    const reason =
      (e as { code?: string }).code === 'ERR_MISSING_PASSPHRASE' ? 'it is encrypted: set KBUILD_SIGN_PIN' : 'not a PEM private key';
    throw new SigningError(`cannot use the signing key ${keyPath}: ${reason}`);
  }
}

function certificateOf(certText: Buffer, certPath: string): X509Certificate {
  try {
    return new X509Certificate(certText);
  } catch {
    throw new SigningError(`cannot use the signing certificate ${certPath}: not an X.509 certificate (PEM or DER)`);
  }
}

/**
 * The target tree's sign-file: built by `make prepare` in the prepared tree (scripts/ when
 * CONFIG_MODULE_SIG_FORMAT), else the headers' (Debian's linux-kbuild package ships one), else
 * built now with `make scripts`, as the setup's `prepare` would have.
 */
export async function findSignFile(sourceDir: string, headersDir?: string): Promise<string> {
  const executable = (file: string) =>
    access(file, constants.X_OK).then(
      () => true,
      () => false,
    );
  const candidates = [path.join(sourceDir, 'scripts', 'sign-file'), ...(headersDir ? [path.join(headersDir, 'scripts', 'sign-file')] : [])];
  for (const file of candidates) if (await executable(file)) return file;
  await run('make', ['-C', sourceDir, 'scripts']);
  if (await executable(candidates[0]!)) return candidates[0]!;
  throw new SigningError(
    `no scripts/sign-file in ${sourceDir} after make scripts (is CONFIG_MODULE_SIG_FORMAT set, libssl-dev installed?)`,
  );
}

/**
 * Checks the key and certificate (readable, a pair: X509_check_private_key) and the target (it
 * checks signatures; its hash), finds sign-file, and returns the signer.
 */
export async function prepareSigner(
  options: SigningRequest & { configText: string; sourceDir: string; headersDir?: string },
): Promise<Signer> {
  const hashAlgorithm = moduleSigHash(options.configText);
  const cert = certificateOf(await readable(options.certPath, 'certificate'), options.certPath);
  const key = privateKeyOf(await readable(options.keyPath, 'key'), options.keyPath);
  if (!cert.checkPrivateKey(key))
    throw new SigningError(
      `the signing key ${options.keyPath} does not belong to the certificate ${options.certPath} (${cert.subject.replace(/\n/g, ', ')})`,
    );
  const signFile = await findSignFile(options.sourceDir, options.headersDir);
  const identity: SigningIdentity = {
    hashAlgorithm,
    certificateSha256: createHash('sha256').update(cert.raw).digest('hex'),
    certificateSubject: cert.subject.replace(/\n/g, ', '),
  };
  return {
    identity,
    async sign(ko, dest) {
      // sign-file prints OpenSSL's errors, never the key: its message is safe to pass on.
      await run(signFile, [hashAlgorithm, options.keyPath, options.certPath, ko, ...(dest === ko ? [] : [dest])]);
      const signature = readModuleSignature(await readFile(dest));
      if (!signature || signature.idType !== PKEY_ID_PKCS7) throw new SigningError(`${signFile} left ${dest} without a PKCS#7 signature`);
    },
  };
}
