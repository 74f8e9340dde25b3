/**
 * Run QEMU once and bring back what happened, judged by nobody: the kernel console (ttyS0) and
 * the protocol port (ttyS1) as received, QEMU's own messages, both merged line by line into the
 * serial log, how QEMU ended (exit, signal, killed at the whole-run timeout) and when the
 * protocol's marks arrived. src/qemu/judge.ts turns such a transcript into a verdict; recorded
 * ones live in test/fixtures/qemu/transcript-*.json (scripts/record-guest-transcripts.ts).
 *
 * Usage:
 *   const transcript = await launchQemu({
 *     args: qemuArgs({ accelerator, vmlinuz, initramfs, protocolSocket }),   // src/qemu/qemu-args.ts
 *     protocolSocket, accelerator, kernel: vmlinuz, timeoutSeconds: 300,
 *     stepNames: ['apply', 'check'],       // for the progress lines only
 *     serialLogPath: 'out/serial.log',     // optional: the merged log, written while QEMU runs
 *   });
 *
 * Progress goes to `log` (stderr by default): userspace reached, each step's begin and exit, and
 * every 5 s the seconds elapsed with the last line either port printed. A QEMU that cannot be
 * started throws; everything else (a panic, a hang killed at `timeoutSeconds`) is a transcript.
 * kvmUsable() decides the accelerator the caller puts into the arguments.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { createWriteStream, type WriteStream } from 'node:fs';
import { access, mkdir, constants } from 'node:fs/promises';
import path from 'node:path';
import { seconds, stderrSink, type LogSink } from '../util/progress.ts';

export interface GuestTranscript {
  accelerator: 'kvm' | 'tcg';
  /** The kernel image booted. */
  kernel: string;
  /** The whole-run limit QEMU was killed at (when `timedOut`). */
  timeoutSeconds: number;
  /** ttyS0 as received: the kernel console. */
  console: string;
  /** ttyS1 as received: the protocol and the steps' output (src/qemu/guest-init.ts). */
  protocol: string;
  /** QEMU's own messages (its stderr). */
  qemuMessages: string;
  /** All three merged line by line as they came (what `serialLogPath` holds). */
  serialLog: string;
  serialLogPath: string | null;
  /** Killed by us at `timeoutSeconds`. */
  timedOut: boolean;
  exit: { code: number | null; signal: string | null };
  /** Milliseconds since the run's start (`startedAt`). Step marks are keyed by step index. */
  timingsMs: { userspace: number | null; stepBegun: Record<string, number>; stepEnded: Record<string, number>; total: number };
}

export interface LaunchOptions {
  args: string[];
  /** The unix socket path in `args` that ttyS1 connects to (listened on before QEMU starts). */
  protocolSocket: string;
  accelerator: 'kvm' | 'tcg';
  kernel: string;
  timeoutSeconds: number;
  stepNames?: string[];
  serialLogPath?: string;
  /** When the run began (Date.now()), if before this call: timings count from it. */
  startedAt?: number;
  log?: LogSink;
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
    if (
      !(await access('/dev/kvm', constants.R_OK | constants.W_OK).then(
        () => true,
        () => false,
      ))
    )
      return false;
    return new Promise<boolean>((resolve) => {
      const probe = spawn('qemu-system-x86_64', ['-accel', 'kvm', '-cpu', 'host', '-display', 'none', '-S', '-no-reboot'], {
        stdio: 'ignore',
      });
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
async function listenForProtocol(
  socketPath: string,
  onData: (chunk: Buffer) => void,
): Promise<{ ended: () => Promise<void>; close: () => void }> {
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

/** The console's last line, for the progress ticker: control characters and escapes removed. */
function displayLine(text: string): string {
  const lines = text
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l.trim() !== '');
  // eslint-disable-next-line no-control-regex
  return (lines[lines.length - 1] ?? '').replace(/\x1b\[[0-9;?]*[a-zA-Z]|[\x00-\x1f]/g, '').trim();
}

export async function launchQemu(options: LaunchOptions): Promise<GuestTranscript> {
  const log = options.log ?? stderrSink;
  const started = options.startedAt ?? Date.now();
  const stepName = (i: number) => options.stepNames?.[i] ?? String(i);
  let serialFile: WriteStream | null = null;
  let protocolChannel: Awaited<ReturnType<typeof listenForProtocol>> | null = null;
  try {
    if (options.serialLogPath) {
      await mkdir(path.dirname(path.resolve(options.serialLogPath)), { recursive: true });
      serialFile = createWriteStream(options.serialLogPath);
    }
    let serial = '';
    const keepLine = (line: string) => {
      serial += line;
      serialFile?.write(Buffer.from(line, 'latin1'));
    };
    let userspaceMs: number | null = null;
    let lastLine = '';
    const stepBegun: Record<string, number> = {};
    const stepEnded: Record<string, number> = {};
    const onProtocolLine = (line: string) => {
      keepLine(line);
      if (userspaceMs === null && line.includes('KSPLICE-GUEST-START')) {
        userspaceMs = Date.now() - started;
        log(`[qemu] userspace after ${seconds(userspaceMs)}`);
      }
      const m = /KSPLICE-STEP-(BEGIN|END) (\d+)(?: rc=(\d+))?\r?\n$/.exec(line);
      if (!m) return;
      const i = Number(m[2]);
      const marks = m[1] === 'BEGIN' ? stepBegun : stepEnded;
      if (marks[i] !== undefined) return;
      marks[i] = Date.now() - started;
      log(
        m[1] === 'BEGIN'
          ? `[qemu] step ${stepName(i)} ...`
          : `[qemu] step ${stepName(i)}: exit ${m[3]} (${seconds(marks[i] - (stepBegun[i] ?? marks[i]))})`,
      );
    };
    const kernel = new SerialStream(keepLine);
    const protocol = new SerialStream(onProtocolLine);
    const qemuMessages = new SerialStream(keepLine);
    const feed = (stream: SerialStream) => (chunk: Buffer) => {
      stream.push(chunk.toString('latin1'));
      lastLine = displayLine(stream.partialLine) || displayLine(stream.text.slice(-4096)) || lastLine;
    };
    protocolChannel = await listenForProtocol(options.protocolSocket, feed(protocol));
    const child = spawn('qemu-system-x86_64', options.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', feed(kernel));
    child.stderr.on('data', feed(qemuMessages));
    const ticker = setInterval(() => log(`[qemu] ${seconds(Date.now() - started)}: ${lastLine.slice(0, 100)}`), 5000);
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutSeconds * 1000);
    const ended = await new Promise<Error | { code: number | null; signal: string | null }>((resolve) => {
      child.on('error', (e) => resolve(e));
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    clearTimeout(killer);
    // the socket may still hold what the guest wrote last
    await protocolChannel.ended();
    clearInterval(ticker);
    for (const stream of [kernel, protocol, qemuMessages]) stream.flush();
    if (ended instanceof Error) throw new Error(`cannot run qemu-system-x86_64: ${ended.message}`);
    return {
      accelerator: options.accelerator,
      kernel: options.kernel,
      timeoutSeconds: options.timeoutSeconds,
      console: kernel.text,
      protocol: protocol.text,
      qemuMessages: qemuMessages.text,
      serialLog: serial,
      serialLogPath: options.serialLogPath ?? null,
      timedOut,
      exit: ended,
      timingsMs: { userspace: userspaceMs, stepBegun, stepEnded, total: Date.now() - started },
    };
  } finally {
    protocolChannel?.close();
    if (serialFile) await new Promise<void>((resolve) => serialFile!.end(() => resolve()));
  }
}
