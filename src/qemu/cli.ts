/**
 * ksplice-qemu: boot the target kernel in a QEMU guest, run steps (or prove an update), print a verdict.
 *
 * Usage:
 *   ksplice-qemu [--kernel=VMLINUZ | --kernel-release=R] [--file=HOST[:NAME]]... [--step=NAME=COMMAND]...
 *                [--script=FILE] [--update=TARBALL [--check=FILE]] [--keep-going]
 *                [--step-timeout=S] [--timeout=S] [--smp=N] [--memory=MiB] [--cpu=MODEL] [--append=ARGS]
 *                [--tcg-thread=single|multi] [--modules=NAME,...] [--serial-log=FILE] [--json]
 * (installed: the `ksplice-qemu` bin, dist/bin/ksplice-qemu.js; in the repository: `tsx src/qemu/cli.ts ...`;
 * the options' table, which also makes --help: cli-spec.ts)
 *
 *   --kernel-release   a Debian release prepared by the setup (default 6.1.0-50-amd64), or
 *   --kernel           any bzImage/vmlinuz
 *   --file             copied to /files in the guest (the steps run there, as root, PATH has /files)
 *   --step             a named shell step; steps run in the order given, each with --step-timeout
 *   --script           a guest script as one step named after the file
 *   --update           prove an update: tools from the tarball, [check original], ksplice-apply,
 *                      [check applied], ksplice-view, ksplice-undo, [check reverted]; --check is a
 *                      script run as `sh check.sh original|applied|reverted` (exit 0 = as expected)
 *   --tcg-thread       under TCG, one host thread for all vCPUs (single, the default) or one each
 *                      (multi: faster, but runs stale code after kernel text patching; see qemu-args.ts)
 *   --modules          modules of the target kernel (and their dependencies) put in the guest's
 *                      /lib/modules/<release> with a modules.dep: steps can modprobe/rmmod them
 *   --serial-log       the whole console (kernel console and steps, line by line), kept (default
 *                      ksplice-qemu-serial.log in the current folder)
 *   --json             the verdict as one JSON object on stdout (booted, steps, splats, taint, timings)
 * Progress (boot time, each step, the last console line every 5 s) goes to stderr.
 * Exit (the one table, src/util/exit-codes.ts): 0 every step passed with no splat and no unexpected
 * taint; 3 the guest run failed (the verdict says why); 64 usage; 1 any other error (QEMU missing...).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ensureTarget } from '../setup/target-kernel.ts';
import { runCli, UsageError } from '../util/cli.ts';
import { EXIT } from '../util/exit-codes.ts';
import { QEMU_CLI } from './cli-spec.ts';
import { runGuest, verdictJson, type GuestFile, type GuestStep, type GuestVerdict } from './guest.ts';
import { updateSteps } from './update-steps.ts';

function fileArg(spec: string): GuestFile {
  const colon = spec.lastIndexOf(':');
  const [hostPath, guestName] = colon > 0 ? [spec.slice(0, colon), spec.slice(colon + 1)] : [spec, path.basename(spec)];
  if (!existsSync(hostPath)) throw new UsageError(`--file ${hostPath}: no such file`);
  return { guestName, hostPath, executable: true };
}

function stepArg(spec: string, timeoutSeconds: number): GuestStep {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new UsageError(`--step ${spec}: expected NAME=COMMAND`);
  return { name: spec.slice(0, eq), run: spec.slice(eq + 1), timeoutSeconds };
}

function positiveNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name}=${value}: expected a positive number`);
  return n;
}

function summary(verdict: GuestVerdict): string {
  const lines = verdict.steps.map(
    (s) =>
      `  ${s.status.padEnd(9)} ${s.name}${s.exitCode !== null && s.exitCode !== 0 ? ` (exit ${s.exitCode})` : ''}${s.durationMs !== null ? `  ${(s.durationMs / 1000).toFixed(1)} s` : ''}`,
  );
  lines.push(
    `${verdict.ok ? 'PASSED' : 'FAILED'}: ${verdict.accelerator.toUpperCase()} guest, userspace after ${verdict.timingsMs.boot === null ? 'never' : `${(verdict.timingsMs.boot / 1000).toFixed(1)} s`}, ${(verdict.timingsMs.total / 1000).toFixed(1)} s in all; serial log ${verdict.serialLogPath}`,
  );
  for (const f of verdict.failures) lines.push(`  - ${f}`);
  return lines.join('\n') + '\n';
}

runCli(QEMU_CLI, async ({ values }) => {
  const stepTimeout = positiveNumber(values['step-timeout'], 'step-timeout') ?? 120;
  const files = values.file.map(fileArg);
  const steps = values.step.map((s) => stepArg(s, stepTimeout));
  if (values.script) {
    if (!existsSync(values.script)) throw new UsageError(`--script ${values.script}: no such file`);
    files.push({ guestName: path.basename(values.script), hostPath: values.script, executable: true });
    steps.push({
      name: path.basename(values.script).replace(/[^\w.-]/g, '_'),
      run: `sh ./${path.basename(values.script)}`,
      timeoutSeconds: stepTimeout,
    });
  }
  if (values.check && !values.update) throw new UsageError('--check goes with --update');
  if (values.update) {
    if (!existsSync(values.update)) throw new UsageError(`--update ${values.update}: no such file`);
    if (values.check && !existsSync(values.check)) throw new UsageError(`--check ${values.check}: no such file`);
    const update = updateSteps({ tarball: values.update, check: values.check, stepTimeoutSeconds: stepTimeout });
    files.push(...update.files);
    steps.push(...update.steps);
  }
  if (steps.length === 0) throw new UsageError('nothing to run: give --step, --script or --update');
  const tcgThread = values['tcg-thread'];
  if (tcgThread !== undefined && tcgThread !== 'single' && tcgThread !== 'multi')
    throw new UsageError(`--tcg-thread=${tcgThread}: expected single or multi`);
  const vmlinuz = values.kernel ?? (await ensureTarget({ release: values['kernel-release'] })).vmlinuz;
  if (!existsSync(vmlinuz)) throw new UsageError(`--kernel ${vmlinuz}: no such file`);
  const verdict = await runGuest({
    vmlinuz,
    files,
    steps,
    keepGoing: values['keep-going'],
    timeoutSeconds: positiveNumber(values.timeout, 'timeout'),
    smp: positiveNumber(values.smp, 'smp'),
    memoryMiB: positiveNumber(values.memory, 'memory'),
    cpu: values.cpu,
    appendCmdline: values.append,
    tcgThread,
    modules: values.modules.flatMap((m) => m.split(',')).filter(Boolean),
    serialLogPath: path.resolve(values['serial-log']),
  });
  process.stderr.write(summary(verdict));
  if (values.json) process.stdout.write(JSON.stringify(verdictJson(verdict)) + '\n');
  return verdict.ok ? EXIT.ok : EXIT.guestFailed;
});
