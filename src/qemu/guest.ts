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
 * `script: '...'` is the one-step shorthand (step "script"; its status and output also land in
 * `scriptExitCode` / `scriptOutput`).
 *
 * Two serial ports. ttyS0 is the kernel console and nothing else (QEMU's stdout): the kernel boots
 * `quiet loglevel=3` for speed, and the init raises the console loglevel once userspace runs, so
 * from then on every kernel message reaches the host as it is printed, and survives a panic, a
 * hang or a kill (`kernelConsole`). ttyS1 (a unix socket to the host) carries the protocol and the
 * steps' output, so a kernel line never cuts into a step's output line, and splats are looked for
 * in kernel lines only: a check that prints "Oops" is not a splat.
 *
 * Protocol on ttyS1 (the init below): KSPLICE-GUEST-START once userspace runs,
 * KSPLICE-TAINT=<n>, then per step KSPLICE-STEP-BEGIN <i> / its output / KSPLICE-STEP-END <i> rc=<n>
 * (KSPLICE-STEP-KILLED <i> first when its own timeout killed it: the step runs in a session of its
 * own, and the whole session is killed; the watchdog waits in poll() on a fifo nobody writes, not
 * in nanosleep, so a test that keeps do_nanosleep busy meets only its own sleepers), KSPLICE-TAINT=<n> again, the whole dmesg between
 * KSPLICE-DMESG-BEGIN/-END, and a forced power-off. Steps stop at the first failure unless
 * `keepGoing`. The whole run is killed at `timeoutSeconds`, and a guest that dies (oops=panic,
 * softlockup_panic=1, -no-reboot) ends the run at once; both are reported, never waited out.
 * The kept serial log holds both ports (and QEMU's own messages), merged line by line as they came.
 *
 * Taint: bits the run may add (default: out-of-tree, unsigned, livepatch: what loading our
 * modules does) are fine; any other new bit (W after a WARN, D after an oops, ...) fails it.
 * Accelerator: KVM when /dev/kvm really runs a guest, TCG otherwise (said in the verdict).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { createWriteStream, type WriteStream } from 'node:fs';
import { access, chmod, copyFile, mkdir, mkdtemp, rm, writeFile, constants } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runShell } from '../util/exec.ts';
import { seconds, stderrSink, type LogSink } from '../util/progress.ts';
import { findSplats, SPLAT_PATTERNS } from './splat-patterns.ts';

export interface GuestFile {
  /** A plain name: the file lands in /files/<guestName>. */
  guestName: string;
  /** Copy this host file ... */
  hostPath?: string;
  /** ... or write this content. */
  content?: string | Buffer;
  /** File mode; `executable: true` is 0o755. Default 0o644. */
  mode?: number;
  executable?: boolean;
}

export interface GuestStep {
  name: string;
  /** Shell text run by busybox sh in /files (PATH includes /files). */
  run: string;
  /** Killed (with everything it started) after this long. Default 120 s. */
  timeoutSeconds?: number;
}

export interface GuestOptions {
  vmlinuz: string;
  files?: GuestFile[];
  steps?: GuestStep[];
  /** One-step shorthand for `steps: [{ name: 'script', run: script }]`. */
  script?: string;
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

export type StepStatus = 'passed' | 'failed' | 'timed-out' | 'not-run';

export interface StepResult {
  name: string;
  status: StepStatus;
  exitCode: number | null;
  output: string;
  durationMs: number | null;
}

export interface GuestVerdict {
  ok: boolean;
  /** Why not ok, in words (empty when ok). */
  failures: string[];
  accelerator: 'kvm' | 'tcg';
  kernel: string;
  booted: boolean;
  timedOut: boolean;
  steps: StepResult[];
  /** The single step's exit status and output (meant for `script`; the first step otherwise). */
  scriptExitCode: number | null;
  scriptOutput: string;
  /** The final dmesg (empty when the guest did not get that far). */
  dmesg: string;
  /** What the kernel printed on its console (ttyS0): errors during boot, then every message. */
  kernelConsole: string;
  splats: string[];
  taint: { before: number | null; after: number | null; unexpected: number };
  serialLog: string;
  serialLogPath: string | null;
  timingsMs: { boot: number | null; steps: number; total: number };
}

/** Taint bits loading our own modules sets: O (out-of-tree, 12), E (unsigned, 13), K (livepatch, 15). */
export const TAINT_EXPECTED_FROM_MODULES = (1 << 12) | (1 << 13) | (1 << 15);

/** The kernel's taint letters by bit (kernel/panic.c), to name unexpected ones. */
const TAINT_LETTERS = 'PFSRMBUDAWCIOELKXT';

export function describeTaint(bits: number): string {
  const names: string[] = [];
  for (let bit = 0; bit < TAINT_LETTERS.length; bit++) if (bits & (1 << bit)) names.push(`${TAINT_LETTERS[bit]}(${bit})`);
  return names.join(' ') || 'none';
}

const DEFAULT_STEP_TIMEOUT = 120;
const BOOT_ALLOWANCE_SECONDS = 60;

function initScript(steps: GuestStep[], keepGoing: boolean): string {
  const calls = steps.map((step, i) => `run_step ${i} ${step.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT}`).join('\n');
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/files
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# the protocol and the steps' output go to ttyS1; ttyS0 stays the kernel's console alone
exec </dev/null >/dev/ttyS1 2>&1
# booted quiet for speed; from here on every kernel message reaches the console as it is printed
echo 8 4 1 8 > /proc/sys/kernel/printk
echo KSPLICE-GUEST-START
echo "KSPLICE-TAINT=$(cat /proc/sys/kernel/tainted)"
cd /files
failed=0
run_step() {
  if [ "$failed" != 0 ] && [ ${keepGoing ? 1 : 0} = 0 ]; then return; fi
  mkfifo /tmp/watchdog.$1
  echo "KSPLICE-STEP-BEGIN $1"
  setsid sh /steps/$1.sh </dev/null 2>&1 &
  pid=$!
  (read -t "$2" x <>/tmp/watchdog.$1; kill -9 -$pid 2>/dev/null && echo "KSPLICE-STEP-KILLED $1") &
  dog=$!
  wait $pid
  rc=$?
  kill $dog 2>/dev/null
  echo "KSPLICE-STEP-END $1 rc=$rc"
  [ $rc = 0 ] || failed=1
}
${calls}
echo "KSPLICE-TAINT=$(cat /proc/sys/kernel/tainted)"
echo KSPLICE-DMESG-BEGIN
dmesg
echo KSPLICE-DMESG-END
poweroff -f
`;
}

let kvmProbe: Promise<boolean> | null = null;

/**
 * KVM only when it really runs a VM: here /dev/kvm exists and opens, yet QEMU fails at once
 * ("failed to set MSR 0x10a"). So start a paused KVM guest and see whether it survives 3 s.
 * KSPLICE_QEMU_ACCEL=kvm|tcg decides without probing.
 */
export function kvmUsable(): Promise<boolean> {
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

/** A gzip'd newc cpio with busybox, the init, the steps and the files. */
async function buildInitramfs(dir: string, options: GuestOptions, steps: GuestStep[]): Promise<string> {
  const root = path.join(dir, 'root');
  for (const sub of ['bin', 'sbin', 'proc', 'sys', 'dev', 'tmp', 'files', 'steps']) await mkdir(path.join(root, sub), { recursive: true });
  await copyFile('/bin/busybox', path.join(root, 'bin/busybox'));
  await writeFile(path.join(root, 'init'), initScript(steps, options.keepGoing ?? false), { mode: 0o755 });
  for (const [i, step] of steps.entries()) await writeFile(path.join(root, 'steps', `${i}.sh`), step.run + '\n');
  for (const file of options.files ?? []) {
    if (!/^[\w+][\w.+-]*$/.test(file.guestName)) throw new Error(`guest file name must be a plain name: ${file.guestName}`);
    if ((file.hostPath === undefined) === (file.content === undefined)) throw new Error(`guest file ${file.guestName}: give hostPath or content (one of them)`);
    const dest = path.join(root, 'files', file.guestName);
    if (file.hostPath !== undefined) await copyFile(file.hostPath, dest);
    else await writeFile(dest, file.content!);
    await chmod(dest, file.mode ?? (file.executable ? 0o755 : 0o644));
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

interface StepClock {
  begun: Map<number, number>;
  ended: Map<number, number>;
}

function stepResults(serial: string, steps: GuestStep[], clock: StepClock): StepResult[] {
  const text = serial.replace(/\r/g, '');
  return steps.map((step, i) => {
    const begin = text.indexOf(`KSPLICE-STEP-BEGIN ${i}\n`);
    if (begin === -1) return { name: step.name, status: 'not-run', exitCode: null, output: '', durationMs: null };
    const bodyStart = begin + `KSPLICE-STEP-BEGIN ${i}\n`.length;
    const end = /KSPLICE-STEP-END (\d+) rc=(\d+)/g;
    end.lastIndex = bodyStart;
    let m: RegExpExecArray | null;
    while ((m = end.exec(text)) && m[1] !== String(i));
    const killed = text.includes(`KSPLICE-STEP-KILLED ${i}\n`);
    const output = text.slice(bodyStart, m ? m.index : undefined).replace(`KSPLICE-STEP-KILLED ${i}\n`, '');
    const began = clock.begun.get(i);
    const ended = clock.ended.get(i);
    const durationMs = began !== undefined && ended !== undefined ? ended - began : null;
    if (!m) return { name: step.name, status: 'failed', exitCode: null, output: output.trimEnd() + '\n(the guest stopped during this step)', durationMs };
    const exitCode = Number(m[2]);
    return { name: step.name, status: killed ? 'timed-out' : exitCode === 0 ? 'passed' : 'failed', exitCode, output, durationMs };
  });
}

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

/**
 * One serial stream cut into whole lines, so the kept log can merge the two ports (and QEMU's own
 * messages) line by line instead of chunk by chunk.
 */
class SerialStream {
  /** Everything received, as received. */
  text = '';
  private pending = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    this.text += chunk;
    const lines = (this.pending + chunk).split('\n');
    this.pending = lines.pop()!;
    for (const line of lines) this.onLine(line + '\n');
  }

  /** The unfinished last line, once the stream has ended. */
  flush(): void {
    if (this.pending) this.onLine(this.pending + '\n');
    this.pending = '';
  }

  get partialLine(): string {
    return this.pending;
  }
}

/**
 * The host end of ttyS1: a unix socket QEMU connects to as it starts (a client chardev, so
 * nothing the guest writes can be lost to a late connection). `ended` settles once QEMU's end
 * closed and every byte was read.
 */
async function listenForProtocol(socketPath: string, onData: (chunk: Buffer) => void): Promise<{ ended: () => Promise<void>; close: () => void }> {
  const server = net.createServer();
  let ended: Promise<void> | null = null;
  server.on('connection', (socket) => {
    if (ended) return void socket.destroy();
    socket.on('data', onData);
    ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    // QEMU never connected (it failed to start): nothing to wait for
    ended: () => ended ?? Promise.resolve(),
    close: () => server.close(),
  };
}

/**
 * The kernel's own lines: its console (only the kernel writes there) and the final dmesg, each
 * line once (a message printed after userspace started is in both, with the same timestamp).
 * Step output is not among them, so text a check prints cannot count as a splat.
 */
export function kernelLogLines(kernelConsole: string, dmesg: string): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const line of `${dmesg}\n${kernelConsole}`.replace(/\r/g, '').split('\n')) {
    if (line.trim() === '' || seen.has(line)) continue;
    seen.add(line);
    lines.push(line);
  }
  return lines;
}

/** The console's last line, for the progress ticker: control characters and escapes removed. */
function displayLine(text: string): string {
  const lines = text.replace(/\r/g, '').split('\n').filter((l) => l.trim() !== '');
  // eslint-disable-next-line no-control-regex
  return (lines[lines.length - 1] ?? '').replace(/\x1b\[[0-9;?]*[a-zA-Z]|[\x00-\x1f]/g, '').trim();
}

export async function runGuest(options: GuestOptions): Promise<GuestVerdict> {
  const log = options.log ?? stderrSink;
  const steps = stepsOf(options);
  const splatPatterns = options.splatPatterns ?? SPLAT_PATTERNS;
  // refused before booting: a run judged against no patterns would pass whatever the kernel said
  findSplats('', splatPatterns);
  const started = Date.now();
  const accelerator = (await kvmUsable()) ? 'kvm' : 'tcg';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ksplice-guest-'));
  let serialFile: WriteStream | null = null;
  let protocolChannel: Awaited<ReturnType<typeof listenForProtocol>> | null = null;
  try {
    const initramfs = await buildInitramfs(dir, options, steps);
    const cpu = options.cpu ?? (accelerator === 'kvm' ? 'host' : undefined);
    const tcgThread = options.tcgThread ?? TCG_THREAD_DEFAULT;
    const cmdline = [
      'console=ttyS0', 'panic=-1', ...(options.panicOnOops ?? true ? ['oops=panic', 'softlockup_panic=1'] : []),
      ...(options.quietBoot ?? true ? ['quiet', 'loglevel=3'] : []), ...(options.appendCmdline ? [options.appendCmdline] : []),
    ];
    const socketPath = path.join(dir, 'protocol.sock');
    const args = [
      '-accel', accelerator === 'tcg' ? `tcg,thread=${tcgThread}` : accelerator, ...(cpu ? ['-cpu', cpu] : []),
      '-m', String(options.memoryMiB ?? 1024), '-smp', String(options.smp ?? 2),
      // ttyS0: the kernel console on stdout; ttyS1: the protocol, on the socket
      '-nographic', '-serial', 'mon:stdio', '-chardev', `socket,id=protocol,path=${socketPath}`, '-serial', 'chardev:protocol',
      '-no-reboot', '-kernel', options.vmlinuz, '-initrd', initramfs, '-append', cmdline.join(' '),
    ];
    const totalTimeout = options.timeoutSeconds ?? BOOT_ALLOWANCE_SECONDS + steps.reduce((s, st) => s + (st.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT), 0);
    log(`[qemu] booting ${path.basename(options.vmlinuz)} (${accelerator === 'tcg' ? `TCG ${tcgThread}-threaded` : 'KVM'}, ${options.smp ?? 2} vCPUs, ${steps.length} step(s), ${totalTimeout} s at most)`);
    if (options.serialLogPath) {
      await mkdir(path.dirname(path.resolve(options.serialLogPath)), { recursive: true });
      serialFile = createWriteStream(options.serialLogPath);
    }
    let serial = '';
    const keepLine = (line: string) => {
      serial += line;
      serialFile?.write(Buffer.from(line, 'latin1'));
    };
    let bootMs: number | null = null;
    let lastLine = '';
    const clock: StepClock = { begun: new Map(), ended: new Map() };
    const onProtocolLine = (line: string) => {
      keepLine(line);
      if (bootMs === null && line.includes('KSPLICE-GUEST-START')) {
        bootMs = Date.now() - started;
        log(`[qemu] userspace after ${seconds(bootMs)}`);
      }
      const m = /KSPLICE-STEP-(BEGIN|END) (\d+)(?: rc=(\d+))?\r?\n$/.exec(line);
      if (!m) return;
      const i = Number(m[2]);
      const marks = m[1] === 'BEGIN' ? clock.begun : clock.ended;
      if (marks.has(i)) return;
      marks.set(i, Date.now());
      log(m[1] === 'BEGIN' ? `[qemu] step ${steps[i].name} ...` : `[qemu] step ${steps[i].name}: exit ${m[3]} (${seconds(Date.now() - clock.begun.get(i)!)})`);
    };
    const kernel = new SerialStream(keepLine);
    const protocol = new SerialStream(onProtocolLine);
    const qemuMessages = new SerialStream(keepLine);
    const feed = (stream: SerialStream) => (chunk: Buffer) => {
      stream.push(chunk.toString('latin1'));
      lastLine = displayLine(stream.partialLine) || displayLine(stream.text.slice(-4096)) || lastLine;
    };
    protocolChannel = await listenForProtocol(socketPath, feed(protocol));
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', feed(kernel));
    child.stderr.on('data', feed(qemuMessages));
    const ticker = setInterval(() => log(`[qemu] ${seconds(Date.now() - started)}: ${lastLine.slice(0, 100)}`), 5000);
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, totalTimeout * 1000);
    const spawnError = await new Promise<Error | null>((resolve) => {
      child.on('error', (e) => resolve(e));
      child.on('close', () => resolve(null));
    });
    clearTimeout(killer);
    // the socket may still hold what the guest wrote last
    await protocolChannel.ended();
    clearInterval(ticker);
    for (const stream of [kernel, protocol, qemuMessages]) stream.flush();
    if (spawnError) throw new Error(`cannot run qemu-system-x86_64: ${spawnError.message}`);

    const results = stepResults(protocol.text, steps, clock);
    const taints = [...protocol.text.matchAll(/KSPLICE-TAINT=(\d+)/g)].map((m) => Number(m[1]));
    const before = taints.length > 0 ? taints[0] : null;
    const after = taints.length > 1 ? taints[taints.length - 1] : null;
    const allowed = options.allowedTaint ?? TAINT_EXPECTED_FROM_MODULES;
    const unexpected = before !== null && after !== null ? after & ~before & ~allowed : 0;
    const dmesg = between(protocol.text, 'KSPLICE-DMESG-BEGIN', 'KSPLICE-DMESG-END');
    const splats = findSplats(kernelLogLines(kernel.text, dmesg).join('\n'), splatPatterns);
    const failures: string[] = [];
    if (bootMs === null) failures.push('the guest never reached userspace');
    if (timedOut) failures.push(`the run was killed after ${totalTimeout} s`);
    for (const r of results) if (r.status !== 'passed' && r.status !== 'not-run') failures.push(`step ${r.name} ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}`);
    if (bootMs !== null && !results.some((r) => r.status !== 'not-run')) failures.push('no step ran');
    if (splats.length > 0) failures.push(`${splats.length} kernel splat line(s), first: ${splats[0].trim()}`);
    if (unexpected) failures.push(`the kernel gained taint ${describeTaint(unexpected)}`);
    if (bootMs !== null && !timedOut && after === null && results.every((r) => r.status !== 'failed')) failures.push('the guest did not finish its run');
    if (after !== null && dmesg.trim() === '') failures.push('the guest finished without its dmesg: no kernel log to judge');
    const first = results[0];
    const totalMs = Date.now() - started;
    const verdict: GuestVerdict = {
      ok: failures.length === 0,
      failures,
      accelerator,
      kernel: options.vmlinuz,
      booted: bootMs !== null,
      timedOut,
      steps: results,
      scriptExitCode: first.exitCode,
      scriptOutput: first.output,
      dmesg,
      kernelConsole: kernel.text,
      splats,
      taint: { before, after, unexpected },
      serialLog: serial,
      serialLogPath: options.serialLogPath ?? null,
      timingsMs: { boot: bootMs, steps: results.reduce((s, r) => s + (r.durationMs ?? 0), 0), total: totalMs },
    };
    const passed = results.filter((r) => r.status === 'passed').length;
    log(`[qemu] ${verdict.ok ? 'passed' : 'FAILED'}: booted in ${bootMs === null ? 'never' : seconds(bootMs)}, ${passed}/${results.length} step(s) passed, ${splats.length} splat(s), ${seconds(totalMs)} in all${failures.length ? `; ${failures.join('; ')}` : ''}`);
    return verdict;
  } finally {
    protocolChannel?.close();
    if (serialFile) await new Promise<void>((resolve) => serialFile!.end(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The verdict as the CLI prints it: everything but the raw console and dmesg (kept in the serial log file). */
export function verdictJson(v: GuestVerdict): object {
  return {
    ok: v.ok, failures: v.failures, accelerator: v.accelerator, kernel: v.kernel, booted: v.booted, timedOut: v.timedOut,
    steps: v.steps, splats: v.splats, taint: v.taint, serialLogPath: v.serialLogPath, timingsMs: v.timingsMs,
  };
}
