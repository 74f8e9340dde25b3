// ksplice-create writing real updates (steps 7 and 8): the tarball of proc_cmdline.patch, of the
// article's printk example and of the arp fix, and the module inside them (vermagic, livepatch
// modinfo, descriptor, renamed new code, klp relocations). The proof in the guest for every corpus
// patch is test/corpus/corpus.test.ts.
//
// printk: the corpus patch is the article's verbatim `vprintk("Quoth the kernel:\n", NULL)`, which
// oopses on 6.1 (kmod/README.md); it is built here but applied only in its fixed form
// examples/printk-6.1.patch (a real, empty va_list), the one `npm run demo` uses.
//
// Run: bash scripts/test.sh test/create/update-module.test.ts   (about 45 s on 2 cores)
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readSystemMap } from '../../src/kbuild/system-map.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { run, runUnchecked } from '../../src/util/exec.ts';
import { CORPUS as corpus, REPO as repo, scratchDir } from '../helpers/paths.ts';

let target: TargetKernel;
let scratch: string;

interface Made {
  id: string;
  tarball: string;
  dir: string;
  ko: string;
}
const made: Record<string, Made> = {};
/** Real stable fixes whose effect a shell cannot observe: they must load, match, switch and undo. */

async function create(name: string, patch: string): Promise<Made> {
  const out = path.join(scratch, name);
  const result = await runUnchecked(
    'node',
    ['--import', 'tsx', path.join(repo, 'src/create/cli.ts'), `--patch=${patch}`, `--output-dir=${out}`, '--json', target.sourceDir],
    { cwd: repo },
  );
  assert.equal(result.exitCode, 0, result.stderr);
  const json = JSON.parse(result.stdout.trim().split('\n').pop()!) as { id: string; tarball: string };
  const dir = path.join(out, 'x');
  await run('mkdir', ['-p', dir]);
  await run('tar', ['-xzf', json.tarball, '-C', dir]);
  return {
    id: json.id,
    tarball: json.tarball,
    dir: path.join(dir, `ksplice-${json.id}`),
    ko: path.join(dir, `ksplice-${json.id}`, `ksplice_${json.id}.ko`),
  };
}

async function modinfo(ko: string, field: string): Promise<string> {
  return (await run('modinfo', ['-F', field, ko])).trim();
}

before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('update');
  made.cmdline = await create('cmdline', path.join(corpus, 'examples/proc_cmdline.patch'));
  made.printk = await create('printk', path.join(corpus, 'examples/printk.patch'));
  made.printkFixed = await create('printk-fixed', path.join(repo, 'examples/printk-6.1.patch'));
  made.net_ipv4_arp = await create('net_ipv4_arp', path.join(corpus, '6.1.176-to-6.1.190/net_ipv4_arp.patch'));
});
after(() => rm(scratch, { recursive: true, force: true }));

describe('the tarball and the update module', () => {
  test('each tarball holds the core, the module, the tools, the patch at the top and the objects under objects/pre and objects/post', async () => {
    for (const m of Object.values(made)) {
      const files = (await readdir(m.dir)).sort();
      for (const f of [
        'ksplice.ko',
        `ksplice_${m.id}.ko`,
        'ksplice-apply',
        'ksplice-undo',
        'ksplice-view',
        'manifest.json',
        'description.txt',
      ]) {
        assert.ok(files.includes(f), `${m.tarball} has ${f}: ${files.join(' ')}`);
      }
      assert.ok(files.includes('objects'), 'an objects folder');
      const objects = (await run('find', [path.join(m.dir, 'objects'), '-type', 'f']))
        .trim()
        .split('\n')
        .map((f) => path.relative(m.dir, f));
      assert.ok(
        objects.some((f) => /^objects\/pre\/.+\.o$/.test(f)) && objects.some((f) => /^objects\/post\/.+\.o$/.test(f)),
        objects.join(' '),
      );
      assert.ok(
        files.some((f) => f.endsWith('.patch')),
        'the patch',
      );
    }
  });

  test('the same inputs give the same tarball, byte for byte (no scratch path in the module)', async () => {
    const again = await create('cmdline-again', path.join(corpus, 'examples/proc_cmdline.patch'));
    assert.ok((await readFile(again.tarball)).equals(await readFile(made.cmdline!.tarball)));
  });

  test("vermagic is the target kernel's", async () => {
    for (const m of Object.values(made)) assert.equal(await modinfo(m.ko, 'vermagic'), '6.1.0-50-amd64 SMP preempt mod_unload modversions');
  });

  test('cmdline: saved_command_line (not exported) goes through a livepatch relocation, livepatch=Y', async () => {
    assert.equal(await modinfo(made.cmdline!.ko, 'livepatch'), 'Y');
    const symbols = await run('readelf', ['-sW', made.cmdline!.ko]);
    assert.match(symbols, /GLOBAL DEFAULT +\d+ ksplice_new_cmdline_proc_show$/m);
    assert.match(symbols, /OS \[0xff20\] \.klp\.sym\.vmlinux\.saved_command_line,0$/m);
    assert.match(symbols, / ksplice_funcs$/m, 'the descriptor');
    assert.match(await run('readelf', ['-SW', made.cmdline!.ko]), /\.klp\.rela\.vmlinux\.\.text\.cmdline_proc_show/);
  });

  test('arp: a static name the kernel holds 404 times gets the copy of arp.o (kallsyms position)', async () => {
    const symbols = await run('readelf', ['-sW', made.net_ipv4_arp!.ko]);
    const pos = Number(/\.klp\.sym\.vmlinux\.__func__\.0,(\d+)$/m.exec(symbols)?.[1]);
    const map = await readSystemMap(target.systemMap);
    const copies = map.filter((s) => s.name === '__func__.0');
    const arpSeqOps = map.find((s) => s.name === 'arp_seq_ops')!.address;
    assert.ok(pos >= 1 && pos <= copies.length, `position ${pos} of ${copies.length}`);
    const chosen = copies[pos - 1]!.address;
    assert.ok(
      chosen < arpSeqOps && arpSeqOps - chosen < 0x1000n,
      `copy at ${chosen.toString(16)}, arp_seq_ops at ${arpSeqOps.toString(16)}`,
    );
  });

  test('printk: only exported symbols, no livepatch modinfo; the new _printk is renamed', async () => {
    for (const m of [made.printk!, made.printkFixed!]) {
      assert.equal(await modinfo(m.ko, 'livepatch'), '');
      const symbols = await run('readelf', ['-sW', m.ko]);
      assert.match(symbols, / ksplice_new__printk$/m);
      assert.doesNotMatch(symbols, / _printk$/m, 'no second definition of a kernel name');
      assert.match(symbols, / ksplice_update_[a-z0-9]+$/m, 'the descriptor');
    }
  });

  test('the manifest lists the replaced function with its System.map address', async () => {
    const manifest = JSON.parse(await readFile(path.join(made.cmdline!.dir, 'manifest.json'), 'utf8')) as {
      changed: { function: string; address: string }[];
      updateModule: string;
      coreModule: string;
    };
    assert.deepEqual(
      manifest.changed.map((c) => c.function),
      ['cmdline_proc_show'],
    );
    assert.match(manifest.changed[0]!.address, /^ffffffff8[0-9a-f]{7}$/);
    assert.equal(manifest.coreModule, 'ksplice.ko');
    assert.equal(manifest.updateModule, `ksplice_${made.cmdline!.id}.ko`);
  });
});
