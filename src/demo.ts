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
import { outcomeMessage } from './create/outcome.ts';
import { runGuest } from './qemu/guest.ts';
import { updateSteps } from './qemu/update-steps.ts';
import { ensureTarget } from './setup/target-kernel.ts';
import { checkToolchain } from './kbuild/toolchain.ts';
import { seconds } from './util/progress.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const printkPatch = path.join(repoRoot, 'examples/printk-6.1.patch');
/** The article's proof in the guest: `dmesg | tail -n2` after apply and after undo. */
const printkCheck = path.join(repoRoot, 'examples/printk-6.1.check.sh');

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
  if (update.outcome !== 'built') throw new Error(`ksplice-create: ${outcomeMessage(update)}`);
  log(`Ksplice update tarball written to ${path.relative(repoRoot, update.tarball)}`);

  log('');
  log('== in the guest: ksplice-apply, ksplice-view, ksplice-undo ==');
  const proof = updateSteps({ tarball: update.tarball, check: printkCheck });
  const verdict = await runGuest({
    vmlinuz: target.vmlinuz,
    files: proof.files,
    steps: proof.steps,
    serialLogPath: path.join(outDir, 'serial.log'),
    log,
  });
  const output = (name: string) =>
    verdict.steps
      .find((s) => s.name === name)
      ?.output.replace(/\r/g, '')
      .trimEnd() ?? '';
  const passed = (name: string) => verdict.steps.find((s) => s.name === name)?.status === 'passed';
  for (const [title, step] of [
    [`# ksplice-apply ./ksplice-${update.id}.tar.gz; dmesg | tail -n2`, 'check-applied'],
    ['# ksplice-view', 'view'],
    [`# ksplice-undo ${update.id}; dmesg | tail -n2`, 'check-reverted'],
  ]) {
    log(title);
    log(output(step));
  }

  const checks: [string, boolean][] = [
    ['guest booted and every step ran', verdict.booted && !verdict.timedOut && verdict.steps.every((s) => s.status !== 'not-run')],
    ['before the update, no "Quoth the kernel:" in dmesg', passed('check-original')],
    // The article's `dmesg | tail -n2`: the engine's own message, printed through the new _printk.
    [
      `ksplice-apply; dmesg ends "Quoth the kernel:" / "ksplice: Update ${update.id} applied successfully"`,
      passed('apply') && passed('check-applied'),
    ],
    ['ksplice-view lists the update', passed('view') && output('view').includes(update.id)],
    // After undo the old _printk runs again: the reversal message comes without the prefix.
    [
      `ksplice-undo; "ksplice: Update ${update.id} reversed successfully", no prefix`,
      passed('undo') && passed('check-reverted') && output('check-reverted').includes(`Update ${update.id} reversed successfully`),
    ],
    ['no kernel splat, no unexpected taint', verdict.splats.length === 0 && verdict.taint.unexpected === 0],
  ];
  log('');
  for (const [what, ok] of checks) log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  for (const splat of verdict.splats) log(`splat: ${splat}`);
  const failed = checks.filter(([, ok]) => !ok).length;
  log(
    `Summary: update ${update.id} (_printk) created in ${seconds(update.timingsMs ? Object.values(update.timingsMs).reduce((a, b) => a + b, 0) : 0)}, ` +
      `proven in a ${verdict.accelerator.toUpperCase()} guest in ${seconds(verdict.timingsMs.total)}; ${checks.length - failed} of ${checks.length} checks passed (${seconds(Date.now() - started)} in all).`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`demo failed: ${e.message}\n`);
    process.exit(1);
  },
);
