/**
 * `npm run demo`: the article's printk example on Debian's 6.1.0-50 kernel, end to end.
 *
 *   1. prepare the replica of the running kernel (source, config, System.map, headers)
 *   2. check that this machine's toolchain is the one that built it
 *   3. ksplice-create --patch=printk.patch     (double build, reproduction check, diff, module, tarball)
 *   4. boot the kernel in QEMU; ksplice-apply; dmesg shows "Quoth the kernel:"
 *   5. ksplice-view; ksplice-undo <id>; the prefix is gone; no kernel splat
 *
 * The patch is examples/printk-6.1.patch: the article's change, with a real va_list (the
 * verbatim one passes NULL, which oopses on 6.1; see examples/README.md).
 * The tarball is left in out/demo/. Exit 0 only when every check passed.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUpdate } from './create/create.ts';
import { runGuest } from './qemu/guest.ts';
import { ensureTarget } from './setup/target-kernel.ts';
import { checkToolchain } from './setup/toolchain.ts';
import { seconds } from './util/progress.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const printkPatch = path.join(repoRoot, 'examples/printk-6.1.patch');
const tools = ['ksplice-apply', 'ksplice-undo', 'ksplice-view'];

/** The guest side, as the article's admin types it. Lines starting "DEMO" are read back below. */
function guestScript(id: string): string {
  return [
    `ksplice-apply ./ksplice-${id}.tar.gz || exit 1`,
    'echo "DEMO after apply:"; dmesg | tail -n2',
    'echo "DEMO view:"; ksplice-view',
    `ksplice-undo ${id} || exit 1`,
    'echo "DEMO after undo:"; dmesg | tail -n2',
  ].join('\n');
}

/** The lines of the script output after a "DEMO <label>:" marker, up to the next marker. */
function section(output: string, label: string): string {
  const start = output.indexOf(`DEMO ${label}:`);
  if (start === -1) return '';
  const rest = output.slice(start + label.length + 6);
  const end = rest.indexOf('DEMO ');
  return (end === -1 ? rest : rest.slice(0, end)).trim();
}

async function main(): Promise<number> {
  const started = Date.now();
  const log = (line: string) => process.stdout.write(`${line}\n`);

  log("== ksplice-action demo: the article's printk update on Debian 6.1.0-50-amd64 ==");
  const target = await ensureTarget();
  log(`kernel source   ${target.sourceDir}`);
  log(`config dir      ${target.configDir} (.config, System.map, build -> headers)`);
  const toolchain = await checkToolchain(target);
  log(`toolchain       ${toolchain.local.ccVersionText}, as/ld ${toolchain.local.asVersion}: matches the target`);

  log('');
  log(`== ksplice-create --patch=${path.relative(repoRoot, printkPatch)} ${target.sourceDir} ==`);
  const outDir = path.join(repoRoot, 'out/demo');
  await mkdir(outDir, { recursive: true });
  const update = await createUpdate({ sourceDir: target.sourceDir, patchPath: printkPatch, outputDir: outDir, log });
  log(`Ksplice update tarball written to ${path.relative(repoRoot, update.tarball!)}`);

  log('');
  log('== in the guest: ksplice-apply, ksplice-view, ksplice-undo ==');
  const verdict = await runGuest({
    vmlinuz: target.vmlinuz,
    files: [
      { guestName: path.basename(update.tarball!), hostPath: update.tarball! },
      ...tools.map((t) => ({ guestName: t, hostPath: path.join(repoRoot, 'kmod/tools', t), executable: true })),
    ],
    script: guestScript(update.id),
    timeoutSeconds: 300,
    log,
  });
  log(verdict.scriptOutput.replace(/\r/g, '').trimEnd());

  const out = verdict.scriptOutput.replace(/\r/g, '');
  const checks: [string, boolean][] = [
    ['guest booted and the script finished', verdict.booted && !verdict.timedOut && verdict.scriptExitCode === 0],
    // The article's `dmesg | tail -n2`: the engine's own message, printed through the new _printk.
    [`dmesg ends "Quoth the kernel:" / "ksplice: Update ${update.id} applied successfully"`, /Quoth the kernel:\s*\n.*ksplice: Update \S+ applied successfully/.test(section(out, 'after apply'))],
    ['ksplice-view lists the update', section(out, 'view').includes(update.id)],
    [`"ksplice: Update ${update.id} reversed successfully" in dmesg`, section(out, 'after undo').includes(`ksplice: Update ${update.id} reversed successfully`)],
    // After undo the old _printk runs again: the reversal message comes without the prefix.
    ['no "Quoth the kernel:" before the reversal message', !/Quoth[^\n]*\n[^\n]*reversed successfully/.test(section(out, 'after undo'))],
    ['no kernel splat', verdict.splats.length === 0],
  ];
  log('');
  for (const [what, ok] of checks) log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  for (const splat of verdict.splats) log(`splat: ${splat}`);
  const failed = checks.filter(([, ok]) => !ok).length;
  log(`Summary: update ${update.id} (_printk) created in ${seconds(update.timingsMs ? Object.values(update.timingsMs).reduce((a, b) => a + b, 0) : 0)}, ` +
    `proven in a ${verdict.accelerator.toUpperCase()} guest in ${seconds(verdict.timingsMs.total)}; ${checks.length - failed} of ${checks.length} checks passed (${seconds(Date.now() - started)} in all).`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`demo failed: ${e.message}\n`);
    process.exit(1);
  },
);
