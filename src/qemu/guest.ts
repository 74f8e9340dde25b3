/**
 * Boot the target kernel under QEMU with a busybox initramfs, run one guest script, and judge
 * the result: the script's exit status, its output, the kernel log, and any splat.
 *
 * Usage:
 *   const verdict = await runGuest({
 *     vmlinuz: target.vmlinuz,
 *     files: [{ guestName: 'ksplice-x.tar.gz', hostPath: tarball }],   // placed in /files
 *     script: 'ksplice-apply ksplice-x.tar.gz',                      // runs in /files as root
 *     timeoutSeconds: 180,
 *   });
 *   verdict.ok          // booted, script exited 0, no splat, no timeout
 *
 * Protocol on the serial console: the init script prints KSPLICE-GUEST-START, the script's
 * output, KSPLICE-GUEST-RC=<status>, then the whole dmesg between KSPLICE-DMESG-BEGIN/-END, and
 * powers off. A guest that does not finish in time is killed and reported as timed out.
 * Accelerator: KVM when /dev/kvm is usable, TCG otherwise (said in the verdict).
 */
import { spawn } from 'node:child_process';
import { access, chmod, copyFile, mkdir, mkdtemp, rm, writeFile, constants } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runShell } from '../util/exec.ts';
import { seconds, stderrSink, type LogSink } from '../util/progress.ts';
import { findSplats } from './splat-patterns.ts';

export interface GuestFile {
  guestName: string;
  hostPath: string;
  executable?: boolean;
}

export interface GuestOptions {
  vmlinuz: string;
  files?: GuestFile[];
  script: string;
  timeoutSeconds?: number;
  smp?: number;
  memoryMiB?: number;
  appendCmdline?: string;
  log?: LogSink;
}

export interface GuestVerdict {
  ok: boolean;
  accelerator: 'kvm' | 'tcg';
  booted: boolean;
  timedOut: boolean;
  scriptExitCode: number | null;
  scriptOutput: string;
  dmesg: string;
  splats: string[];
  serialLog: string;
  timingsMs: { boot: number | null; total: number };
}

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/files
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo KSPLICE-GUEST-START
cd /files
sh /script.sh 2>&1
echo "KSPLICE-GUEST-RC=$?"
echo KSPLICE-DMESG-BEGIN
dmesg
echo KSPLICE-DMESG-END
poweroff -f
`;

let kvmProbe: Promise<boolean> | null = null;

/**
 * KVM only when it really runs a VM: here /dev/kvm exists and opens, yet QEMU fails at once
 * ("failed to set MSR 0x10a"). So start a paused KVM guest and see whether it survives 3 s.
 */
function kvmUsable(): Promise<boolean> {
  kvmProbe ??= (async () => {
    if (process.env.KSPLICE_QEMU_ACCEL) return process.env.KSPLICE_QEMU_ACCEL === 'kvm';
    if (!(await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false))) return false;
    return new Promise<boolean>((resolve) => {
      const probe = spawn('qemu-system-x86_64', ['-accel', 'kvm', '-cpu', 'host', '-display', 'none', '-S', '-no-reboot'], { stdio: 'ignore' });
      const timer = setTimeout(() => {
        probe.kill('SIGKILL');
        resolve(true);
      }, 3000);
      probe.on('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
      probe.on('error', () => resolve(false));
    });
  })();
  return kvmProbe;
}

/** A gzip'd newc cpio with busybox, the init above, the script and the files. */
async function buildInitramfs(dir: string, options: GuestOptions): Promise<string> {
  const root = path.join(dir, 'root');
  for (const sub of ['bin', 'sbin', 'proc', 'sys', 'dev', 'tmp', 'files']) await mkdir(path.join(root, sub), { recursive: true });
  await copyFile('/bin/busybox', path.join(root, 'bin/busybox'));
  await writeFile(path.join(root, 'init'), INIT, { mode: 0o755 });
  await writeFile(path.join(root, 'script.sh'), options.script + '\n');
  for (const file of options.files ?? []) {
    if (file.guestName.includes('/') || file.guestName.startsWith('.')) throw new Error(`guest file name must be a plain name: ${file.guestName}`);
    const dest = path.join(root, 'files', file.guestName);
    await copyFile(file.hostPath, dest);
    if (file.executable) await chmod(dest, 0o755);
  }
  const image = path.join(dir, 'initramfs.cpio.gz');
  await runShell('cd "$1" && find . | cpio -o -H newc --quiet | gzip -1 > "$2"', [root, image]);
  return image;
}

/** The text between two marker lines of the serial log (console lines end in \r\n). */
function between(log: string, begin: string, end: string): string {
  const a = log.indexOf(begin);
  if (a === -1) return '';
  const b = log.indexOf(end, a + begin.length);
  return log.slice(a + begin.length, b === -1 ? undefined : b).replace(/^\r?\n/, '');
}

export async function runGuest(options: GuestOptions): Promise<GuestVerdict> {
  const log = options.log ?? stderrSink;
  const started = Date.now();
  const accelerator = (await kvmUsable()) ? 'kvm' : 'tcg';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ksplice-guest-'));
  try {
    const initramfs = await buildInitramfs(dir, options);
    const args = [
      '-accel', accelerator, ...(accelerator === 'kvm' ? ['-cpu', 'host'] : []),
      '-m', String(options.memoryMiB ?? 1024), '-smp', String(options.smp ?? 2),
      '-nographic', '-no-reboot', '-kernel', options.vmlinuz, '-initrd', initramfs,
      '-append', `console=ttyS0 panic=-1 quiet loglevel=3${options.appendCmdline ? ` ${options.appendCmdline}` : ''}`,
    ];
    log(`[qemu] booting ${path.basename(options.vmlinuz)} (${accelerator.toUpperCase()}, ${options.smp ?? 2} vCPUs)`);
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let serial = '';
    let bootMs: number | null = null;
    let lastLine = '';
    child.stdout.on('data', (chunk: Buffer) => {
      serial += chunk.toString('latin1');
      if (bootMs === null && serial.includes('KSPLICE-GUEST-START')) bootMs = Date.now() - started;
      const lines = serial.trimEnd().split('\n');
      lastLine = lines[lines.length - 1]?.trim() ?? '';
    });
    child.stderr.on('data', (chunk: Buffer) => { serial += chunk.toString('latin1'); });
    const ticker = setInterval(() => log(`[qemu] ${seconds(Date.now() - started)}: ${lastLine.slice(0, 100)}`), 5000);
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, (options.timeoutSeconds ?? 180) * 1000);
    await new Promise<void>((resolve) => child.on('close', () => resolve()));
    clearInterval(ticker);
    clearTimeout(killer);

    const rcMatch = /KSPLICE-GUEST-RC=(\d+)/.exec(serial);
    const dmesg = between(serial, 'KSPLICE-DMESG-BEGIN', 'KSPLICE-DMESG-END');
    const splats = findSplats(serial);
    const verdict: GuestVerdict = {
      ok: false,
      accelerator,
      booted: bootMs !== null,
      timedOut,
      scriptExitCode: rcMatch ? Number(rcMatch[1]) : null,
      scriptOutput: between(serial, 'KSPLICE-GUEST-START', 'KSPLICE-GUEST-RC='),
      dmesg,
      splats,
      serialLog: serial,
      timingsMs: { boot: bootMs, total: Date.now() - started },
    };
    verdict.ok = verdict.booted && !timedOut && verdict.scriptExitCode === 0 && splats.length === 0;
    log(`[qemu] ${verdict.ok ? 'passed' : 'FAILED'}: booted in ${bootMs === null ? 'never' : seconds(bootMs)}, script exit ${verdict.scriptExitCode ?? 'none'}${timedOut ? ', timed out' : ''}, ${splats.length} splat(s), ${seconds(verdict.timingsMs.total)} in all`);
    return verdict;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
