/**
 * QEMU's argument list for one guest run, and the kernel command line in it: a pure function of
 * the run's options (nothing probed, nothing started), so what the harness asks of QEMU is
 * unit-tested (test/qemu/qemu-args.test.ts) without booting.
 *
 * Usage:
 *   const args = qemuArgs({ accelerator: 'tcg', vmlinuz, initramfs, protocolSocket: 'dir/protocol.sock' });
 *   spawn('qemu-system-x86_64', args)   // what src/qemu/launch.ts does
 *
 * The guest it describes: ttyS0 is the kernel console, on QEMU's stdout (`-serial mon:stdio`);
 * ttyS1 is the protocol and the steps' output, on a unix socket QEMU connects to as a client
 * (`-chardev socket,path=...`, the host listens first); `-no-reboot` and `panic=-1` turn any
 * panic into QEMU's exit, and `oops=panic softlockup_panic=1` (unless `panicOnOops: false`)
 * turn an oops or a soft lockup into a panic, so a dying kernel ends the run at once.
 */

export interface QemuArgsOptions {
  accelerator: 'kvm' | 'tcg';
  vmlinuz: string;
  initramfs: string;
  /** The host's unix socket for ttyS1. */
  protocolSocket: string;
  smp?: number;
  memoryMiB?: number;
  /** QEMU -cpu model (default: QEMU's own under TCG, `host` under KVM). */
  cpu?: string;
  /** TCG only: one host thread for all vCPUs or one per vCPU (default TCG_THREAD_DEFAULT). */
  tcgThread?: 'single' | 'multi';
  appendCmdline?: string;
  /** `quiet loglevel=3` until the init raises the console loglevel (default true). */
  quietBoot?: boolean;
  /** `oops=panic softlockup_panic=1` (default true). */
  panicOnOops?: boolean;
  /** Raw disk images, attached read-write as virtio disks in order (/dev/vda, /dev/vdb, ...). */
  disks?: string[];
}

export const DEFAULT_SMP = 2;
export const DEFAULT_MEMORY_MIB = 1024;

/**
 * Multi-threaded TCG (QEMU 7.2, bookworm's) can keep running a stale translation of kernel text
 * another vCPU has just rewritten with text_poke_bp(), and the kernel's int3 path relies on the
 * CPU refetching. Worked example, seen with the kernel's own function tracer and no ksplice
 * module at all (`echo function > current_tracer; echo nop > current_tracer` 300 times on
 * cmdline_proc_show while two shells read /proc/cmdline): vCPU 0 still executes the int3 that
 * vCPU 1 put at cmdline_proc_show+0x0 and took away again; the trap finds no text_poke_bp in
 * progress, kprobe_int3_handler() sees the byte in memory is no longer int3 and backs the IP up
 * to +0 "to run the original instruction", and QEMU runs the same stale int3 again, forever (soft
 * lockup at cmdline_proc_show+0x0, the code dump showing the nop or the call, never the int3).
 * With every vCPU on one host thread, a write to code is seen by the next translation of every
 * vCPU, and the loop never happened in the same runs (kmod/README.md, "TCG and live patching").
 */
export const TCG_THREAD_DEFAULT = 'single';

/** The kernel command line: console on ttyS0, panics end the run, quiet boot, then the caller's own. */
export function kernelCmdline(options: Pick<QemuArgsOptions, 'panicOnOops' | 'quietBoot' | 'appendCmdline'>): string {
  return [
    'console=ttyS0',
    'panic=-1',
    ...((options.panicOnOops ?? true) ? ['oops=panic', 'softlockup_panic=1'] : []),
    ...((options.quietBoot ?? true) ? ['quiet', 'loglevel=3'] : []),
    ...(options.appendCmdline ? [options.appendCmdline] : []),
  ].join(' ');
}

export function qemuArgs(options: QemuArgsOptions): string[] {
  const { accelerator } = options;
  const cpu = options.cpu ?? (accelerator === 'kvm' ? 'host' : undefined);
  const tcgThread = options.tcgThread ?? TCG_THREAD_DEFAULT;
  return [
    '-accel',
    accelerator === 'tcg' ? `tcg,thread=${tcgThread}` : accelerator,
    ...(cpu ? ['-cpu', cpu] : []),
    '-m',
    String(options.memoryMiB ?? DEFAULT_MEMORY_MIB),
    '-smp',
    String(options.smp ?? DEFAULT_SMP),
    // ttyS0: the kernel console on stdout; ttyS1: the protocol, on the socket
    '-nographic',
    '-serial',
    'mon:stdio',
    '-chardev',
    `socket,id=protocol,path=${options.protocolSocket}`,
    '-serial',
    'chardev:protocol',
    '-no-reboot',
    '-kernel',
    options.vmlinuz,
    '-initrd',
    options.initramfs,
    // a host file the guest writes and a later run reads again (what survives a "reboot")
    ...(options.disks ?? []).flatMap((file) => ['-drive', `file=${file.replace(/,/g, ',,')},format=raw,if=virtio`]),
    '-append',
    kernelCmdline(options),
  ];
}
