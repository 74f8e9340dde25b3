// The reproduction check against Debian's shipped vmlinux: every corpus object's pre build
// reproduces the shipped code exactly (outside relocations, which must point at the same
// symbols), and a forged source change is caught with the function and offset named.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { doubleBuild } from '../../src/create/double-build.ts';
import { checkReproduction } from '../../src/create/reproduction-check.ts';
import { openShippedKernel, type ShippedKernel } from '../../src/create/shipped-kernel.ts';
import { impliedSymbolValue } from '../../src/x86/relocation-values.ts';
import { readElf } from '../../src/elf/reader.ts';
import { R_X86_64_PLT32, R_X86_64_32S } from '../../src/x86/relocations.ts';
import { readSystemMap, SystemMapIndex } from '../../src/kbuild/system-map.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { withForgedCmdlineSource } from '../helpers/forged-source.ts';
import { CORPUS as corpus, scratchDir } from '../helpers/paths.ts';

let target: TargetKernel;
let scratch: string;
let kernel: ShippedKernel;
let map: SystemMapIndex;

before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('repro');
  kernel = await openShippedKernel(target.vmlinux);
  map = new SystemMapIndex(await readSystemMap(target.systemMap));
});
after(() => rm(scratch, { recursive: true, force: true }));

async function preObject(patch: string, object: string) {
  const build = await doubleBuild({
    tree: target.sourceDir,
    patchPath: path.join(corpus, patch),
    outDir: path.join(scratch, path.basename(patch)),
    log: () => {},
  });
  assert.ok(build.objects.includes(object));
  return readElf(await readFile(path.join(build.preDir, object)));
}

test('relocation values invert as the linker computed them', () => {
  // call at P=0x1000 with displacement 0x100 and addend -4 reaches 0x1104.
  assert.equal(impliedSymbolValue(R_X86_64_PLT32, 0x100n, 0xffffffff81001000n, -4n), 0xffffffff81001104n);
  // A negative displacement, sign-extended.
  assert.equal(impliedSymbolValue(R_X86_64_PLT32, 0xfffffff0n, 0xffffffff81001000n, -4n), 0xffffffff81000ff4n);
  // mov $sym, %reg under -mcmodel=kernel: 32S, sign-extended into the top 2 GB.
  assert.equal(impliedSymbolValue(R_X86_64_32S, 0x81234560n, 0n, 0n), 0xffffffff81234560n);
});

for (const [patch, object, changed] of [
  ['examples/printk.patch', 'kernel/printk/printk.o', '_printk'],
  ['examples/proc_cmdline.patch', 'fs/proc/cmdline.o', 'cmdline_proc_show'],
  ['6.1.176-to-6.1.190/kernel_sys.patch', 'kernel/sys.o', 'prctl_set_auxv'],
  ['6.1.176-to-6.1.190/net_ipv4_arp.patch', 'net/ipv4/arp.o', 'arp_ioctl'],
  ['6.1.176-to-6.1.190/kernel_time_time.patch', 'kernel/time/time.o', '__x64_compat_sys_settimeofday'],
] as const) {
  test(`${object} built here reproduces Debian's shipped code (${patch})`, async () => {
    const report = checkReproduction(await preObject(patch, object), object, map, kernel);
    assert.deepEqual(report.mismatches, []);
    assert.ok(
      report.checked.some((c) => c.function === changed),
      `${changed} was checked`,
    );
    const fn = report.checked.find((c) => c.function === changed)!;
    assert.ok(map.addresses(changed).includes(fn.address));
  });
}

test('a forged source change in the pristine tree is caught, naming the function and offset', async () => {
  await withForgedCmdlineSource(target.sourceDir, async () => {
    const report = checkReproduction(await preObject('examples/proc_cmdline.patch', 'fs/proc/cmdline.o'), 'fs/proc/cmdline.o', map, kernel);
    assert.equal(report.mismatches.length, 1);
    assert.equal(report.mismatches[0].function, 'proc_cmdline_init');
    assert.match(report.mismatches[0].reason, /in the build, 0x[0-9a-f]+ in the shipped kernel/);
    assert.ok(report.checked.some((c) => c.function === 'cmdline_proc_show'));
  });
});

test('weak definitions overridden at link time are told apart from mismatches', async () => {
  const report = checkReproduction(await preObject('6.1.176-to-6.1.190/kernel_sys.patch', 'kernel/sys.o'), 'kernel/sys.o', map, kernel);
  assert.ok(report.overriddenWeak.includes('arch_prctl_spec_ctrl_get'));
  assert.deepEqual(report.mismatches, []);
});
