/**
 * Test helper: a throwaway RSA key and its self-signed code-signing certificate, as the kernel's
 * x509.genkey makes them, for signing tests (the key never leaves the test's scratch folder).
 *
 * Usage:
 *   const { key, cert } = await makeKeyPair(scratch, 'a');   // a.key.pem, a.cert.pem
 */
import path from 'node:path';
import { run } from '../../src/util/exec.ts';

export async function makeKeyPair(dir: string, name: string): Promise<{ key: string; cert: string }> {
  const key = path.join(dir, `${name}.key.pem`);
  const cert = path.join(dir, `${name}.cert.pem`);
  await run('openssl', [
    'req',
    '-new',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=ksplice test ${name}`,
    '-addext',
    'keyUsage=digitalSignature',
    '-addext',
    'extendedKeyUsage=codeSigning',
  ]);
  return { key, cert };
}
