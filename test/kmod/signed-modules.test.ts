/**
 * Signed modules in a real guest (Debian's 6.1.0-50-amd64 under QEMU/TCG) booted with
 * module.sig_enforce=1, as under Secure Boot: the kernel refuses the unsigned core and the
 * unsigned update module, and modules signed by a key its keyring lacks (ksplice-create
 * --sign-key with a throwaway key), and ksplice-apply says why (the kernel enforces module
 * signatures; the module is unsigned or signed by a key it does not trust). No module loads, no
 * splat. The signature itself is checked with openssl in test/create/signing.test.ts.
 *
 * Run: flock /tmp/ksa-guest.lock bash scripts/test.sh test/kmod/signed-modules.test.ts   (one create, one boot)
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createUpdate } from '../../src/create/create.ts';
import { readModuleSignature } from '../../src/kbuild/sign-module.ts';
import { readUpdateTarball, writeUpdateTarball, type ManifestFields } from '../../src/package/update-tarball.ts';
import { ensureTarget } from '../../src/setup/target-kernel.ts';
import { runScenario } from '../helpers/guest-scenario.ts';
import { corpusPatch, fixture, REPO, scratchDir } from '../helpers/paths.ts';
import { makeKeyPair } from '../helpers/throwaway-key.ts';

const REFUSAL =
  /^ksplice-apply: cannot load (the ksplice core \(ksplice\.ko\)|update module ksplice_sigkey\.ko): the kernel enforces module signatures \(Secure Boot or module\.sig_enforce=1\) and (ksplice\.ko|ksplice_sigkey\.ko) is unsigned or signed by a key the kernel does not trust; build the update with ksplice-create --sign-key=KEY --sign-cert=CERT/;

/** The same update with its modules' signatures cut off (what an unsigned build makes), checksums recomputed. */
async function withoutSignatures(tarball: string, out: string): Promise<void> {
  const { manifest, files } = readUpdateTarball(await readFile(tarball));
  const fields: Partial<typeof manifest> = { ...manifest };
  delete fields.formatVersion;
  delete fields.files;
  delete fields.moduleSignature;
  const unsigned = files.map((f) => {
    const signature = f.path.endsWith('.ko') ? readModuleSignature(f.data) : null;
    return signature ? { ...f, data: Buffer.from(signature.content) } : f;
  });
  // another id for another package folder; the module inside keeps its name and id
  await writeFile(out, writeUpdateTarball({ ...(fields as ManifestFields), id: 'sigplain' }, unsigned));
}

describe('module.sig_enforce=1 guest: unsigned and untrusted modules refused, with a clear message', () => {
  let dir = '';
  let vmlinuz = '';
  const tarballs: string[] = [];

  before(async () => {
    const target = await ensureTarget();
    vmlinuz = target.vmlinuz;
    dir = await scratchDir('signed-guest');
    const { key, cert } = await makeKeyPair(dir, 'throwaway');
    const signed = await createUpdate({
      sourceDir: target.sourceDir,
      patchPath: corpusPatch('examples/proc_cmdline.patch'),
      id: 'sigkey',
      outputDir: dir,
      signing: { keyPath: key, certPath: cert },
      log: () => {},
    });
    assert.equal(signed.outcome, 'built');
    const plain = path.join(dir, 'ksplice-sigplain.tar.gz');
    await withoutSignatures(signed.tarball!, plain);
    tarballs.push(signed.tarball!, plain);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the core and the update module, unsigned or signed by an untrusted key, are refused', async () => {
    const run = await runScenario({
      vmlinuz,
      scenario: fixture('kmod/scenario-sig-enforce.sh'),
      files: [path.join(REPO, 'kmod/tools/ksplice-apply'), ...tarballs],
      appendCmdline: 'module.sig_enforce=1',
      keepLogAs: path.join(REPO, '.tmp/kmod-test/scenario-sig-enforce.log'),
    });
    const c = run.checks;
    assert.equal(c.get('sig_enforce'), 'Y');
    const kernelSays = {
      unsigned: 'Loading of unsigned module is rejected',
      untrusted: 'Loading of module with unavailable key is rejected',
    };
    for (const module of ['core', 'update'] as const) {
      for (const kind of ['unsigned', 'untrusted'] as const) {
        const name = `${module}-${kind}`;
        assert.equal(c.get(`${name}-rc`), '1', name);
        assert.match(c.get(`${name}-err`)!, REFUSAL, name);
        assert.match(c.get(`${name}-err`)!, module === 'core' ? /the ksplice core/ : /update module/, name);
        assert.match(c.get(`${name}-insmod`)!, /Key was rejected by service/, name);
        assert.equal(c.get(`${name}-kernel`), kernelSays[kind], name);
        assert.equal(c.get(`${name}-loaded`), '0', `${name}: nothing loaded`);
      }
    }
    assert.equal(c.get('done'), 'yes');
  });
});
