/**
 * ksplice-qemu: boot the target kernel in a QEMU guest, run steps (or prove an update), print a verdict.
 *
 * Usage:
 *   ksplice-qemu [--kernel=VMLINUZ | --kernel-release=R] [--file=HOST[:NAME]]... [--step=NAME=COMMAND]...
 *                [--script=FILE] [--update=TARBALL [--check=FILE]] [--keep-going]
 *                [--step-timeout=S] [--timeout=S] [--smp=N] [--memory=MiB] [--cpu=MODEL] [--append=ARGS]
 *                [--tcg-thread=single|multi] [--serial-log=FILE] [--json]
 * (run from the repository as `tsx src/qemu/cli.ts ...`)
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
 *   --serial-log       the whole console (kernel console and steps, line by line), kept (default
 *                      ksplice-qemu-serial.log in the current folder)
 *   --json             the verdict as one JSON object on stdout (booted, steps, splats, taint, timings)
 * Progress (boot time, each step, the last console line every 5 s) goes to stderr.
 * Exit: 0 every step passed with no splat and no unexpected taint; 1 the run failed; 2 usage.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTarget } from '../setup/target-kernel.ts';
import { runGuest, verdictJson, type GuestFile, type GuestStep, type GuestVerdict } from './guest.ts';
import { updateSteps } from './update-steps.ts';

const USAGE = 'usage: ksplice-qemu [--kernel=VMLINUZ | --kernel-release=R] [--file=HOST[:NAME]]... [--step=NAME=COMMAND]... [--script=FILE] [--update=TARBALL [--check=FILE]] [--json]\n';

class UsageError extends Error {}

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
  const lines = verdict.steps.map((s) => `  ${s.status.padEnd(9)} ${s.name}${s.exitCode !== null && s.exitCode !== 0 ? ` (exit ${s.exitCode})` : ''}${s.durationMs !== null ? `  ${(s.durationMs / 1000).toFixed(1)} s` : ''}`);
  lines.push(`${verdict.ok ? 'PASSED' : 'FAILED'}: ${verdict.accelerator.toUpperCase()} guest, userspace after ${verdict.timingsMs.boot === null ? 'never' : `${(verdict.timingsMs.boot / 1000).toFixed(1)} s`}, ${(verdict.timingsMs.total / 1000).toFixed(1)} s in all; serial log ${verdict.serialLogPath}`);
  for (const f of verdict.failures) lines.push(`  - ${f}`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      kernel: { type: 'string' },
      'kernel-release': { type: 'string' },
      file: { type: 'string', multiple: true, default: [] },
      step: { type: 'string', multiple: true, default: [] },
      script: { type: 'string' },
      update: { type: 'string' },
      check: { type: 'string' },
      'keep-going': { type: 'boolean', default: false },
      'step-timeout': { type: 'string' },
      timeout: { type: 'string' },
      smp: { type: 'string' },
      memory: { type: 'string' },
      cpu: { type: 'string' },
      append: { type: 'string' },
      'tcg-thread': { type: 'string' },
      'serial-log': { type: 'string', default: 'ksplice-qemu-serial.log' },
      json: { type: 'boolean', default: false },
    },
  });
  const stepTimeout = positiveNumber(values['step-timeout'], 'step-timeout') ?? 120;
  const files = values.file.map(fileArg);
  const steps = values.step.map((s) => stepArg(s, stepTimeout));
  if (values.script) {
    if (!existsSync(values.script)) throw new UsageError(`--script ${values.script}: no such file`);
    files.push({ guestName: path.basename(values.script), hostPath: values.script, executable: true });
    steps.push({ name: path.basename(values.script).replace(/[^\w.-]/g, '_'), run: `sh ./${path.basename(values.script)}`, timeoutSeconds: stepTimeout });
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
  if (tcgThread !== undefined && tcgThread !== 'single' && tcgThread !== 'multi') throw new UsageError(`--tcg-thread=${tcgThread}: expected single or multi`);
  const vmlinuz = values.kernel ?? (await ensureTarget({ release: values['kernel-release'] })).vmlinuz;
  if (!existsSync(vmlinuz)) throw new UsageError(`--kernel ${vmlinuz}: no such file`);
  const verdict = await runGuest({
    vmlinuz, files, steps,
    keepGoing: values['keep-going'],
    timeoutSeconds: positiveNumber(values.timeout, 'timeout'),
    smp: positiveNumber(values.smp, 'smp'),
    memoryMiB: positiveNumber(values.memory, 'memory'),
    cpu: values.cpu,
    appendCmdline: values.append,
    tcgThread,
    serialLogPath: path.resolve(values['serial-log']),
  });
  process.stderr.write(summary(verdict));
  if (values.json) process.stdout.write(JSON.stringify(verdictJson(verdict)) + '\n');
  return verdict.ok ? 0 : 1;
}

/** Our own usage errors and node's parseArgs ones (unknown option, missing value). */
function isUsageError(e: Error): boolean {
  return e instanceof UsageError || ((e as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`ksplice-qemu: ${e.message}\n${isUsageError(e) ? USAGE : ''}`);
    process.exit(isUsageError(e) ? 2 : 1);
  },
);
