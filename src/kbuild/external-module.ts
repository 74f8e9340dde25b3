/**
 * Build an out-of-tree module against the target's headers, the way the target's own modules are
 * built: `make -C <headers> M=<dir> modules`, so vermagic and modversions (the headers'
 * Module.symvers) are the target's and the module loads in the target kernel.
 *
 * Usage:
 *   const ko = await buildExternalModule({ dir, moduleName: 'hello', parts: ['hello.o'], headersDir: target.headersDir });
 * `parts` are objects kbuild makes from `x.c`, or prebuilt `x.o_shipped` files, all in `dir`.
 * `extraSymbols`: other modules' Module.symvers (e.g. the ksplice core's) for their CRCs.
 * `unresolvedAllowed`: modpost only warns about names it cannot resolve (for livepatch relocations).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../util/exec.ts';

export interface ExternalModule {
  dir: string;
  moduleName: string;
  parts: string[];
  headersDir: string;
  extraSymbols?: string[];
  includeDirs?: string[];
  unresolvedAllowed?: boolean;
}

export async function buildExternalModule(opts: ExternalModule): Promise<string> {
  const includes = (opts.includeDirs ?? []).map((d) => `-I${d}`).join(' ');
  // a module of one source of its own name is no composite (kbuild would link x.o into itself)
  const composite = opts.parts.length !== 1 || opts.parts[0] !== `${opts.moduleName}.o`;
  await writeFile(
    path.join(opts.dir, 'Kbuild'),
    `obj-m := ${opts.moduleName}.o\n${composite ? `${opts.moduleName}-y := ${opts.parts.join(' ')}\n` : ''}${includes ? `ccflags-y := ${includes}\n` : ''}`,
  );
  await run('make', [
    '-C',
    opts.headersDir,
    `M=${opts.dir}`,
    ...(opts.extraSymbols?.length ? [`KBUILD_EXTRA_SYMBOLS=${opts.extraSymbols.join(' ')}`] : []),
    // the scratch folder's name must not reach the debug info (nor so the build-id): same inputs, same .ko
    `KCFLAGS=-ffile-prefix-map=${opts.dir}=${opts.moduleName}`,
    ...(opts.unresolvedAllowed ? ['KBUILD_MODPOST_WARN=1'] : []),
    'modules',
  ]);
  return path.join(opts.dir, `${opts.moduleName}.ko`);
}
