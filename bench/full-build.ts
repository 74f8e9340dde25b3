/**
 * Bench: the cold-cache baseline a kpatch-build-style tool pays, a full `make -j2 vmlinux` of
 * Debian's config, against which ksplice-create's targeted double build is compared.
 *
 * The full build takes 23 minutes on this project's 2 cores, so by default this estimates it: it rebuilds a
 * fixed sample of vmlinux objects (every 60th of kbuild's own list) with `make -j2`, and scales
 * the time by the number of vmlinux objects (the final link, BTF and objtool of vmlinux.o come
 * on top and are not counted: the estimate is a floor). KSPLICE_BENCH_FULL_BUILD=1 measures the
 * real thing instead, in a copy of the prepared tree; that row is kept in results.json by later
 * runs that only estimate.
 *
 * Usage: npm run bench -- full-build         KSPLICE_BENCH_FULL_BUILD=1 npm run bench -- full-build
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kbuildObjects } from '../src/kbuild/objects.ts';
import { kbuildArgs } from '../src/kbuild/flags.ts';
import { ensureTarget } from '../src/setup/target-kernel.ts';
import { run } from '../src/util/exec.ts';
import { withLock } from '../src/util/lock.ts';
import type { BenchRow } from './run.ts';

const SAMPLE_EVERY = 60;

/**
 * Debian's config signs modules with a key only Debian's build has (MODULE_SIG_KEY under
 * output/); a throwaway key made the way kbuild makes its default one lets vmlinux link.
 */
async function signingKeyFor(tree: string): Promise<void> {
  const key = /^CONFIG_MODULE_SIG_KEY="([^"]+)"/m.exec(await readFile(path.join(tree, '.config'), 'utf8'))?.[1];
  if (!key || key.startsWith('pkcs11:')) return;
  await mkdir(path.dirname(path.join(tree, key)), { recursive: true });
  await run(
    'openssl',
    [
      'req',
      '-new',
      '-nodes',
      '-utf8',
      '-sha256',
      '-days',
      '36500',
      '-batch',
      '-x509',
      '-config',
      'certs/default_x509.genkey',
      '-outform',
      'PEM',
      '-out',
      key,
      '-keyout',
      key,
    ],
    { cwd: tree },
  );
}

/** Every minute: time so far and how many vmlinux objects the build has written since it began. */
async function reportProgress(tree: string, started: number, total: number): Promise<void> {
  const minutes = Math.round((Date.now() - started) / 60_000);
  const found = await run('find', [tree, '-name', '*.o', '-newermt', `@${Math.floor(started / 1000)}`]).catch(() => null);
  const built = found !== null ? found.split('\n').filter(Boolean).length : '?';
  process.stderr.write(`[bench] full build: ${minutes} min, ${built} objects written (${total} in vmlinux)\n`);
}

export default async function fullBuild(): Promise<BenchRow[]> {
  const target = await ensureTarget();
  const objects = [...(await kbuildObjects(target.sourceDir))]
    .filter(([, home]) => home === 'vmlinux')
    .map(([o]) => o)
    .sort();
  if (process.env.KSPLICE_BENCH_FULL_BUILD === '1') {
    const copy = path.join(os.tmpdir(), 'ksa-full-build');
    await rm(copy, { recursive: true, force: true });
    await run('cp', ['-a', target.sourceDir, copy]);
    await signingKeyFor(copy);
    const started = Date.now();
    const progress = setInterval(() => void reportProgress(copy, started, objects.length), 60_000);
    try {
      await run('make', [...kbuildArgs(copy, 2), 'vmlinux']);
    } finally {
      clearInterval(progress);
    }
    const ms = Date.now() - started;
    await rm(copy, { recursive: true, force: true });
    return [
      {
        name: 'full make -j2 vmlinux, measured',
        value: Math.round(ms / 1000),
        unit: 's',
        note: `${objects.length} vmlinux objects`,
        rare: true,
      },
    ];
  }
  const sample = objects.filter((_, i) => i % SAMPLE_EVERY === 0);
  const ms = await withLock(`${target.sourceDir}.build.lock`, async () => {
    for (const o of sample) await rm(path.join(target.sourceDir, o), { force: true });
    const started = Date.now();
    await run('make', [...kbuildArgs(target.sourceDir, 2), ...sample]);
    return Date.now() - started;
  });
  return [
    { name: `make -j2 of ${sample.length} sampled vmlinux objects`, value: Math.round(ms / 1000), unit: 's' },
    {
      name: 'full make -j2 vmlinux, estimated',
      value: Math.round((ms * objects.length) / sample.length / 60_000),
      unit: 'min',
      note: `${objects.length} vmlinux objects × the sample's time per object; link, BTF and objtool of vmlinux.o not counted (a floor)`,
    },
  ];
}
