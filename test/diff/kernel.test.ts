// The differ and the ELF toolkit on real objects: Debian's 6.1.176 tree built before and after
// each corpus patch with function sections (the targeted double build), compared with the
// measured ground truth in corpus/README.md.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { doubleBuild } from '../../src/create/double-build.ts';
import { diffObjects, replacedPreFunctions, shippedFunctions, summarize, type DiffSummary } from '../../src/diff/diff.ts';
import { extractFunctions } from '../../src/diff/extract.ts';
import { finding } from '../../src/diff/findings.ts';
import { readElf } from '../../src/elf/reader.ts';
import { writeElf } from '../../src/elf/writer.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { run, runUnchecked } from '../../src/util/exec.ts';
import { scratchDir } from '../fixtures/elf/build.ts';
import { CORPUS as corpus } from '../helpers/paths.ts';

let target: TargetKernel;
let dir: string;
const built = new Map<string, Promise<{ object: string; prePath: string; postPath: string }>>();

before(async () => {
  target = await ensureTarget();
  dir = await scratchDir('kernel-diff');
});
after(() => rm(dir, { recursive: true, force: true }));

/** Each patch is built once per run, whichever test asks first. */
function buildPair(patch: string) {
  let pair = built.get(patch);
  if (!pair) built.set(patch, (pair = doBuildPair(patch)));
  return pair;
}

async function doBuildPair(patch: string) {
  const outDir = path.join(dir, path.basename(patch, '.patch'));
  const build = await doubleBuild({ tree: target.sourceDir, patchPath: path.join(corpus, patch), outDir, log: () => {} });
  assert.equal(build.objects.length, 1, build.objects.join(' '));
  const object = build.objects[0]!;
  return { object, prePath: path.join(build.preDir, object), postPath: path.join(build.postDir, object) };
}

const none: DiffSummary = { changed: [], new: [], removed: [], unsafe: [] };
const groundTruth: [string, DiffSummary][] = [
  ['examples/printk.patch', { ...none, changed: ['_printk'] }],
  ['examples/proc_cmdline.patch', { ...none, changed: ['cmdline_proc_show'] }],
  ['6.1.176-to-6.1.190/kernel_time_time.patch', { ...none, changed: ['__ia32_compat_sys_settimeofday', '__x64_compat_sys_settimeofday'] }],
  ['6.1.176-to-6.1.190/net_ipv4_arp.patch', { ...none, changed: ['arp_ioctl'] }],
  ['6.1.176-to-6.1.190/kernel_sys.patch', { ...none, changed: ['prctl_set_auxv'] }],
  ['6.1.176-to-6.1.190/kernel_audit_tree.patch', none],
  // No function changes; the new export is refused with its reason rather than silently dropped.
  [
    '6.1.176-to-6.1.190/kernel_user.patch',
    {
      ...none,
      unsafe: [
        finding(
          'export-change',
          'free_uid',
          "newly exported (EXPORT_SYMBOL_GPL): an update cannot add to the running kernel's export table",
        ),
      ],
    },
  ],
];

for (const [patch, expected] of groundTruth) {
  test(`${patch}: the differ reports exactly the measured functions`, async () => {
    const { prePath, postPath } = await buildPair(patch);
    const result = diffObjects(readElf(await readFile(prePath)), readElf(await readFile(postPath)));
    assert.deepEqual(summarize(result), expected);
  });
}

test('printk.o: the real object round-trips through the toolkit (readelf clean, same relocations, ld -r)', async () => {
  const { prePath } = await buildPair('examples/printk.patch');
  const output = path.join(dir, 'printk.rt.o');
  const obj = readElf(await readFile(prePath));
  assert.ok(obj.sections.some((s) => s.name === '.orc_unwind_ip') && obj.sections.some((s) => s.name === '__bug_table'));
  await writeFile(output, writeElf(obj));
  const readelf = await runUnchecked('readelf', ['-a', '-W', output]);
  assert.equal(readelf.stderr, '');
  const relocs = async (f: string) =>
    (await run('readelf', ['-r', '-W', f]))
      .split('\n')
      .filter((l) => /^[0-9a-f]{16}\s/.test(l))
      .map((l) => l.replace(/^(\S+)\s+\S+/, '$1'))
      .sort();
  assert.deepEqual(await relocs(output), await relocs(prePath));
  await run('ld', ['-r', '-o', path.join(dir, 'printk.ld.o'), output]);
});

test('printk.o: _printk extracted from pre and post (code, mcount, ORC, return sites) and accepted by ld -r', async () => {
  const { prePath, postPath } = await buildPair('examples/printk.patch');
  const result = diffObjects(readElf(await readFile(prePath)), readElf(await readFile(postPath)));
  assert.deepEqual(shippedFunctions(result), ['_printk']);
  assert.deepEqual(replacedPreFunctions(result), ['_printk']);
  for (const [side, obj, from] of [
    ['post', result.post, postPath],
    ['pre', result.pre, prePath],
  ] as const) {
    const extracted = extractFunctions(
      obj,
      ['_printk'],
      side === 'post' ? { data: result.newData.map((s) => s.name), correlation: result.correlation } : {},
    );
    const file = path.join(dir, `_printk.${side}.o`);
    await writeFile(file, writeElf(extracted));
    assert.equal((await runUnchecked('readelf', ['-a', '-W', file])).stderr, '');
    await run('ld', ['-r', '-o', file.replace(/\.o$/, '.ld.o'), file]);
    const names = extracted.sections.map((s) => s.name);
    for (const s of ['.text.unlikely._printk', '__mcount_loc', '.orc_unwind_ip', '.orc_unwind', '.return_sites'])
      assert.ok(names.includes(s), `${side}: ${s}`);
    const code = async (f: string) => (
      await run('objcopy', ['-O', 'binary', '--only-section=.text.unlikely._printk', f, `${f}.bin`]),
      readFile(`${f}.bin`)
    );
    assert.ok((await code(file)).equals(await code(from)), `${side}: code bytes as compiled`);
    assert.ok(extracted.externals.some((e) => e.name === 'vprintk'));
  }
  const post = extractFunctions(result.post, ['_printk']);
  const strings = post.sections
    .filter((s) => s.name.includes('str1'))
    .map((s) => s.data.toString('latin1'))
    .join('|');
  assert.match(strings, /Quoth the kernel/);
});
