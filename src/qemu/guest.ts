/**
 * Boot the target kernel under QEMU with a busybox initramfs, run named steps in the guest, and
 * judge the run: each step's exit status and output, the kernel log, splats and taint.
 *
 * Usage:
 *   const verdict = await runGuest({
 *     vmlinuz: target.vmlinuz,
 *     files: [{ guestName: 'ksplice-x.tar.gz', hostPath: tarball },          // placed in /files
 *             { guestName: 'check.sh', content: 'grep -q x /proc/cmdline', mode: 0o755 }],
 *     steps: [{ name: 'apply', run: 'ksplice-apply ksplice-x.tar.gz', timeoutSeconds: 60 },
 *             { name: 'check', run: 'sh check.sh' }],
 *     timeoutSeconds: 300,                     // the whole run, boot included
 *     serialLogPath: 'out/serial.log',         // both serial ports, kept as a file
 *   });
 *   verdict.ok        // booted, every step passed, no splat, no unexpected taint, no timeout
 *   verdict.steps     // [{ name, status: passed|failed|timed-out|not-run, exitCode, output, durationMs }]
 * `modules: ['sch_multiq', 'ext4', 'sctp']` puts those modules of the target kernel (from its
 * /lib/modules/<release>, by default the one next to `vmlinuz` in the prepared image, else
 * `modulesDir`) and their dependencies in the guest's /lib/modules/<release>/ with a matching
 * modules.dep, so the steps can `modprobe`, `rmmod`, `lsmod`, `modinfo`, and the kernel autoloads
 * them (guest-modules.ts); a name the kernel does not ship is refused before booting.
 * `script: '...'` is the one-step shorthand (step "script"; its status and output also land in
 * `scriptExitCode` / `scriptOutput`).
 *
 * runGuest is three parts, one file each: QEMU's argument list (qemu-args.ts, pure), the launcher
 * that runs QEMU and returns the raw transcript (launch.ts), and the verdict from that transcript
 * (judge.ts, pure, where every verdict rule is listed); the guest's init and its protocol are in
 * guest-init.ts.
 *
 * Two serial ports. ttyS0 is the kernel console and nothing else (QEMU's stdout): the kernel boots
 * `quiet loglevel=3` for speed, and the init raises the console loglevel once userspace runs, so
 * from then on every kernel message reaches the host as it is printed, and survives a panic, a
 * hang or a kill (`kernelConsole`). ttyS1 (a unix socket to the host) carries the protocol and the
 * steps' output, so a kernel line never cuts into a step's output line, and splats are looked for
 * in kernel lines only: a check that prints "Oops" is not a splat. Steps stop at the first failure
 * unless `keepGoing`. The whole run is killed at `timeoutSeconds`, and a guest that dies
 * (oops=panic, softlockup_panic=1, -no-reboot) ends the run at once; both are reported, never
 * waited out. The kept serial log holds both ports (and QEMU's own messages), merged line by line
 * as they came.
 *
 * Taint: bits the run may add (default: out-of-tree, unsigned, livepatch: what loading our
 * modules does) are fine; any other new bit (W after a WARN, D after an oops, ...) fails it.
 * Accelerator: KVM when /dev/kvm really runs a guest, TCG otherwise (said in the verdict).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { seconds, stderrSink, type LogSink } from '../util/progress.ts';
import { buildInitramfs, DEFAULT_STEP_TIMEOUT, type GuestFile, type GuestStep } from './guest-init.ts';
import { guestModules, modulesDirFor } from './guest-modules.ts';
import { judge, type GuestVerdict, type JudgePolicy } from './judge.ts';
import { kvmUsable, launchQemu, type GuestTranscript } from './launch.ts';
import { DEFAULT_SMP, qemuArgs, TCG_THREAD_DEFAULT } from './qemu-args.ts';
import { findSplats, SPLAT_PATTERNS } from './splat-patterns.ts';

export type { GuestFile, GuestStep } from './guest-init.ts';
export {
  describeTaint,
  kernelLogLines,
  TAINT_EXPECTED_FROM_MODULES,
  type GuestVerdict,
  type JudgePolicy,
  type StepResult,
  type StepStatus,
} from './judge.ts';
export { kvmUsable, type GuestTranscript } from './launch.ts';
export { TCG_THREAD_DEFAULT } from './qemu-args.ts';

export interface GuestOptions {
  vmlinuz: string;
  files?: GuestFile[];
  steps?: GuestStep[];
  /** One-step shorthand for `steps: [{ name: 'script', run: script }]`. */
  script?: string;
  /**
   * Modules of the target kernel to put in the guest (names as the kernel knows them, e.g.
   * `sch_multiq`), with their dependencies, at /lib/modules/<release>/ with a modules.dep.
   */
  modules?: string[];
  /** The target's /lib/modules/<release> (default: `<image>/lib/modules/R` for `<image>/boot/vmlinuz-R`). */
  modulesDir?: string;
  /**
   * Raw disk images (host files) attached as virtio disks, /dev/vda first; the guest needs the
   * virtio_pci and virtio_blk modules (`modules`) to see them. Writes reach the host file, so a
   * later run of the same image sees them (a reboot with the same disk).
   */
  disks?: string[];
  /** Go on with later steps after one failed (default: stop at the first failure). */
  keepGoing?: boolean;
  /** The whole run, boot included. Default: 60 s plus every step's timeout. */
  timeoutSeconds?: number;
  smp?: number;
  memoryMiB?: number;
  /** QEMU -cpu model (default: QEMU's own under TCG, `host` under KVM). */
  cpu?: string;
  /**
   * TCG only: one host thread for all vCPUs ('single', our default) or one per vCPU ('multi',
   * QEMU's default). See TCG_THREAD_DEFAULT for why multi is not the default.
   */
  tcgThread?: 'single' | 'multi';
  appendCmdline?: string;
  /**
   * Boot with `quiet loglevel=3` (default true): until userspace the console prints errors only
   * (the whole boot log is in the final dmesg); under TCG here no slower than without, and the
   * console then holds what the kernel said during the steps (bench/qemu-boot.ts).
   */
  quietBoot?: boolean;
  /** Panic (and so end the run at once) on an oops or a soft lockup. Default true. */
  panicOnOops?: boolean;
  /** Taint bits the run may add (default: TAINT_EXPECTED_FROM_MODULES). */
  allowedTaint?: number;
  /** Keep the serial console here (written while the guest runs). */
  serialLogPath?: string;
  /** Kernel log lines that fail the run (default SPLAT_PATTERNS; an empty list is refused). */
  splatPatterns?: readonly RegExp[];
  log?: LogSink;
}

const BOOT_ALLOWANCE_SECONDS = 60;

function stepsOf(options: GuestOptions): GuestStep[] {
  const steps = [...(options.steps ?? []), ...(options.script !== undefined ? [{ name: 'script', run: options.script }] : [])];
  if (steps.length === 0) throw new Error('runGuest: no steps to run (a guest run that checks nothing cannot pass)');
  const names = new Set<string>();
  for (const step of steps) {
    if (!/^[\w.-]+$/.test(step.name)) throw new Error(`runGuest: step name '${step.name}' must be a word (letters, digits, _ . -)`);
    if (names.has(step.name)) throw new Error(`runGuest: two steps named '${step.name}'`);
    names.add(step.name);
  }
  return steps;
}

/**
 * Build the initramfs and QEMU's arguments for `options`, launch, and return the raw transcript
 * with the steps and the policy to judge it by (runGuest judges it; scripts/record-guest-transcripts.ts
 * keeps it as a fixture). Bad options are refused before booting.
 */
export async function guestTranscript(
  options: GuestOptions,
): Promise<{ transcript: GuestTranscript; steps: GuestStep[]; policy: JudgePolicy }> {
  const log = options.log ?? stderrSink;
  const steps = stepsOf(options);
  const policy = {
    keepGoing: options.keepGoing ?? false,
    allowedTaint: options.allowedTaint,
    splatPatterns: options.splatPatterns ?? SPLAT_PATTERNS,
  };
  // refused before booting: a run judged against no patterns would pass whatever the kernel said
  findSplats('', policy.splatPatterns);
  const modules = options.modules?.length
    ? await guestModules(options.modulesDir ?? modulesDirFor(options.vmlinuz), options.modules, log)
    : undefined;
  const startedAt = Date.now();
  const accelerator = (await kvmUsable()) ? 'kvm' : 'tcg';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ksplice-guest-'));
  try {
    const initramfs = await buildInitramfs(dir, options.files ?? [], steps, policy.keepGoing, modules);
    const protocolSocket = path.join(dir, 'protocol.sock');
    const args = qemuArgs({ ...options, accelerator, initramfs, protocolSocket });
    const timeoutSeconds =
      options.timeoutSeconds ?? BOOT_ALLOWANCE_SECONDS + steps.reduce((s, st) => s + (st.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT), 0);
    log(
      `[qemu] booting ${path.basename(options.vmlinuz)} (${accelerator === 'tcg' ? `TCG ${options.tcgThread ?? TCG_THREAD_DEFAULT}-threaded` : 'KVM'}, ${options.smp ?? DEFAULT_SMP} vCPUs, ${steps.length} step(s)${modules ? `, ${modules.modules.length} module(s)` : ''}, ${timeoutSeconds} s at most)`,
    );
    const transcript = await launchQemu({
      args,
      protocolSocket,
      accelerator,
      kernel: options.vmlinuz,
      timeoutSeconds,
      startedAt,
      log,
      stepNames: steps.map((s) => s.name),
      serialLogPath: options.serialLogPath,
    });
    return { transcript, steps, policy };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Arguments, launch, judge: the run's verdict (and its summary line on `log`). */
export async function runGuest(options: GuestOptions): Promise<GuestVerdict> {
  const { transcript, steps, policy } = await guestTranscript(options);
  const verdict = judge(transcript, steps, policy);
  const passed = verdict.steps.filter((r) => r.status === 'passed').length;
  const boot = verdict.timingsMs.boot;
  (options.log ?? stderrSink)(
    `[qemu] ${verdict.ok ? 'passed' : 'FAILED'}: booted in ${boot === null ? 'never' : seconds(boot)}, ${passed}/${steps.length} step(s) passed, ${verdict.splats.length} splat(s), ${seconds(verdict.timingsMs.total)} in all${verdict.failures.length ? `; ${verdict.failures.join('; ')}` : ''}`,
  );
  return verdict;
}

/** The verdict as the CLI prints it: everything but the raw console and dmesg (kept in the serial log file). */
export function verdictJson(v: GuestVerdict): object {
  return {
    ok: v.ok,
    failures: v.failures,
    accelerator: v.accelerator,
    kernel: v.kernel,
    booted: v.booted,
    timedOut: v.timedOut,
    steps: v.steps,
    splats: v.splats,
    taint: v.taint,
    serialLogPath: v.serialLogPath,
    timingsMs: v.timingsMs,
  };
}
