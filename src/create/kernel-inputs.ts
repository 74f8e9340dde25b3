/**
 * The inputs of ksplice-create, exactly as the article lays them out, checked before any build:
 *
 *   KERNEL_SOURCE/               the running kernel's source (prepared: `make prepare` done)
 *   CONFIG_DIR/.config           the running kernel's config   (default CONFIG_DIR: KERNEL_SOURCE/ksplice)
 *   CONFIG_DIR/System.map        the real one, not Debian's stub
 *   CONFIG_DIR/build -> headers  /lib/modules/<release>/build of the target
 *   CONFIG_DIR/vmlinux           the shipped vmlinux, for the reproduction check (createUpdate
 *                                refuses to go without it unless told to skip that check)
 *   CONFIG_DIR/modules           /lib/modules/<release> of the target (the shipped .ko files and
 *                                modules.order), for the reproduction check of module code
 *
 * Every problem is reported by name with its fix; nothing is built until all of them pass.
 *
 * Usage: `const inputs = await resolveKernelInputs('/usr/src/linux')`.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { readSystemMap, type MapSymbol } from '../kbuild/system-map.ts';

export interface KernelInputs {
  sourceDir: string;
  configDir: string;
  config: string;
  systemMap: string;
  headersDir: string;
  /** `uname -r` of the target, from the headers' utsrelease.h. */
  release: string;
  /** The shipped vmlinux when the config dir has one (the setup links Debian's there). */
  vmlinux?: string;
  /** The shipped modules' folder (`/lib/modules/<release>`) when the config dir links it. */
  modulesDir?: string;
  symbols: MapSymbol[];
}

export class BadInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** UTS_RELEASE from a tree's or headers' include/generated/utsrelease.h. */
export async function utsRelease(dir: string): Promise<string | null> {
  const text = await readFile(path.join(dir, 'include/generated/utsrelease.h'), 'utf8').catch(() => null);
  return text ? (/UTS_RELEASE "([^"]+)"/.exec(text)?.[1] ?? null) : null;
}

export async function resolveKernelInputs(sourceDir: string, configDir = path.join(sourceDir, 'ksplice')): Promise<KernelInputs> {
  if (!(await exists(path.join(sourceDir, 'Makefile'))) || !(await exists(path.join(sourceDir, 'kernel')))) {
    throw new BadInputError(`${sourceDir} is not a kernel source tree (no Makefile and kernel/)`);
  }
  const config = path.join(configDir, '.config');
  const systemMap = path.join(configDir, 'System.map');
  const headersDir = path.join(configDir, 'build');
  const missing = [];
  if (!(await exists(config))) missing.push(`${config} (cp /boot/config-$(uname -r) ${config})`);
  if (!(await exists(systemMap))) missing.push(`${systemMap} (the real System.map of the running kernel)`);
  if (!(await exists(path.join(headersDir, 'Makefile'))))
    missing.push(`${headersDir} (ln -s /lib/modules/$(uname -r)/build ${headersDir})`);
  if (missing.length > 0) throw new BadInputError(`missing in the config directory:\n  ${missing.join('\n  ')}`);

  const symbols = await readSystemMap(systemMap).catch((e: Error) => {
    throw new BadInputError(e.message);
  });
  const release = await utsRelease(headersDir);
  if (!release) throw new BadInputError(`${headersDir} has no include/generated/utsrelease.h: not the headers of a built kernel`);

  const treeConfig = await readFile(path.join(sourceDir, '.config'), 'utf8').catch(() => null);
  if (treeConfig === null)
    throw new BadInputError(
      `${sourceDir} has no .config: cp ${config} ${sourceDir}/.config and run make olddefconfig prepare modules_prepare`,
    );
  if (treeConfig !== (await readFile(config, 'utf8'))) {
    throw new BadInputError(`${sourceDir}/.config differs from ${config}: the tree must be configured as the running kernel`);
  }
  const treeRelease = await utsRelease(sourceDir);
  if (treeRelease === null) throw new BadInputError(`${sourceDir} is not prepared: run make olddefconfig prepare modules_prepare`);
  if (treeRelease !== release) {
    throw new BadInputError(`kernel release mismatch: the source tree builds ${treeRelease}, the headers are for ${release}`);
  }
  const vmlinux = path.join(configDir, 'vmlinux');
  const modulesDir = path.join(configDir, 'modules');
  return {
    sourceDir,
    configDir,
    config,
    systemMap,
    headersDir,
    release,
    symbols,
    vmlinux: (await exists(vmlinux)) ? vmlinux : undefined,
    modulesDir: (await exists(path.join(modulesDir, 'modules.order'))) ? modulesDir : undefined,
  };
}
