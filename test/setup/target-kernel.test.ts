// The prepared default target: what ensureTarget() leaves in the cache, checked against the real
// Debian packages (the first run downloads and prepares them; later runs reuse the cache).
import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { before, test } from 'node:test';
import { ensureTarget, findReadyTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { isStubSystemMap, readSystemMap, addressesOf } from '../../src/kbuild/system-map.ts';
import { run } from '../../src/util/exec.ts';
import { scratchDir } from '../helpers/paths.ts';

let target: TargetKernel;

before(async () => {
  target = await ensureTarget();
});

test('the prepared tree is Debian 6.1.176 with its own config and release string', async () => {
  assert.equal(target.sourceVersion, '6.1.176-1');
  const utsRelease = await readFile(path.join(target.sourceDir, 'include/generated/utsrelease.h'), 'utf8');
  assert.match(utsRelease, /"6\.1\.0-50-amd64"/);
  const config = await readFile(path.join(target.sourceDir, '.config'), 'utf8');
  for (const option of ['CONFIG_LIVEPATCH=y', 'CONFIG_DYNAMIC_FTRACE_WITH_REGS=y', 'CONFIG_RANDOMIZE_BASE=y', 'CONFIG_MODVERSIONS=y']) {
    assert.ok(config.includes(`\n${option}\n`), `${option} in the prepared .config`);
  }
  // modules_prepare ran: modpost exists, so `make path/file.o` works without a full build.
  assert.ok((await stat(path.join(target.sourceDir, 'scripts/mod/modpost'))).isFile());
});

test("Debian's /boot System.map is a stub, and the config dir holds the real one", async () => {
  const stub = path.join(target.root, 'image/boot/System.map-6.1.0-50-amd64');
  assert.ok(isStubSystemMap(await readFile(stub, 'utf8')));
  await assert.rejects(readSystemMap(stub), /stub System\.map.*-dbg/);
  await assert.rejects(readSystemMap(path.join(target.root, 'no-such-map')), /System\.map not found/);

  const symbols = await readSystemMap(target.systemMap);
  assert.ok(symbols.length > 50_000, `real map has ${symbols.length} symbols`);
  // The map and the vmlinux come from the same build: _printk sits where the vmlinux says.
  const [printk] = addressesOf(symbols, '_printk');
  const nm = await run('nm', [target.vmlinux]);
  const fromVmlinux = /^([0-9a-f]+) T _printk$/m.exec(nm);
  assert.ok(fromVmlinux, 'vmlinux has _printk');
  assert.equal(printk, BigInt(`0x${fromVmlinux[1]}`));
});

test('the config dir is laid out as the article has it', async () => {
  assert.equal(await readlink(path.join(target.configDir, 'build')), target.headersDir);
  assert.ok((await readFile(target.config, 'utf8')).includes('CONFIG_LOCALVERSION'));
});

test("a module built against the cached headers carries Debian's vermagic and CRCs", async () => {
  const dir = await scratchDir('hello');
  try {
    await writeFile(
      path.join(dir, 'hello.c'),
      [
        '#include <linux/module.h>',
        'static int __init hello_init(void) { pr_info("hello\\n"); return 0; }',
        'static void __exit hello_exit(void) { }',
        'module_init(hello_init);',
        'module_exit(hello_exit);',
        'MODULE_LICENSE("GPL");',
        '',
      ].join('\n'),
    );
    await writeFile(path.join(dir, 'Makefile'), 'obj-m := hello.o\n');
    await run('make', ['-C', target.headersDir, `M=${dir}`, 'modules']);
    const info = await run('modinfo', [path.join(dir, 'hello.ko')]);
    assert.match(info, /^vermagic:\s+6\.1\.0-50-amd64 SMP preempt mod_unload modversions\s*$/m);
    const versions = await run('readelf', ['-S', '-W', path.join(dir, 'hello.ko')]);
    assert.match(versions, /__versions/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a second ensureTarget() reuses the cache in seconds', async () => {
  const started = Date.now();
  const again = await ensureTarget();
  const elapsed = Date.now() - started;
  assert.deepEqual(again, target);
  assert.ok(elapsed < 5000, `cache hit took ${elapsed} ms`);
  assert.deepEqual(await findReadyTarget('6.1.0-50-amd64'), target);
});
