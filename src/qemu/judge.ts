/**
 * The verdict of a guest run, from its transcript alone: pure (no QEMU, no clock, no files), so
 * every rule is tested on recorded transcripts (test/qemu/judge.test.ts, test/fixtures/qemu/).
 *
 * Usage:
 *   const verdict = judge(transcript, steps, { keepGoing: false });   // transcript: launchQemu()'s
 *   verdict.ok, verdict.failures                                       // failures in words
 *
 * The rules, each a line of `failures`:
 *  - the protocol never said KSPLICE-GUEST-START: "the guest never reached userspace";
 *  - QEMU was killed at the whole-run timeout: "the run was killed after N s";
 *  - a step failed (nonzero exit), timed out (KSPLICE-STEP-KILLED: its own timeout), or the guest
 *    stopped during it (a BEGIN with no END: a panic, a reset, a kill): "step X failed (exit 1)";
 *  - booted but no step began: "no step ran";
 *  - the guest finished (its second taint line came) and a step never began although it should
 *    have (no earlier failure, or `keepGoing`): "step X never ran";
 *  - a kernel line matches a splat pattern (src/qemu/splat-patterns.ts): kernel lines are the
 *    console (ttyS0) and the final dmesg, each line once; the steps' output (ttyS1) is never one,
 *    so a check that prints "Oops" is no splat;
 *  - the taint gained a bit beyond `allowedTaint` (default: what loading our modules sets);
 *  - booted, not killed by us, no step failed, yet no final taint line: "the guest did not finish
 *    its run" (it powered off or died between steps);
 *  - finished with an empty final dmesg (a step cleared the log): nothing to judge, a failure.
 * A step's status is passed, failed, timed-out or not-run; steps after a failure are not-run
 * (and that is no failure) unless `keepGoing`, which the init in the guest applies.
 */
import { findSplats, SPLAT_PATTERNS } from './splat-patterns.ts';
import type { GuestTranscript } from './launch.ts';

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

export interface JudgePolicy {
  /** Later steps were to run after a failed one (GuestOptions.keepGoing). Default false. */
  keepGoing?: boolean;
  /** Taint bits the run may add (default: TAINT_EXPECTED_FROM_MODULES). */
  allowedTaint?: number;
  /** Kernel log lines that fail the run (default SPLAT_PATTERNS; an empty list is refused). */
  splatPatterns?: readonly RegExp[];
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

/** The text between two marker lines of the protocol (lines may end in \r\n). */
function between(log: string, begin: string, end: string): string {
  const a = log.indexOf(begin);
  if (a === -1) return '';
  const b = log.indexOf(end, a + begin.length);
  return log.slice(a + begin.length, b === -1 ? undefined : b).replace(/^\r?\n/, '');
}

function stepResults(protocol: string, steps: readonly { name: string }[], timings: GuestTranscript['timingsMs']): StepResult[] {
  const text = protocol.replace(/\r/g, '');
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
    const began = timings.stepBegun[i];
    const ended = timings.stepEnded[i];
    const durationMs = began !== undefined && ended !== undefined ? ended - began : null;
    if (!m)
      return {
        name: step.name,
        status: 'failed',
        exitCode: null,
        output: output.trimEnd() + '\n(the guest stopped during this step)',
        durationMs,
      };
    const exitCode = Number(m[2]);
    return { name: step.name, status: killed ? 'timed-out' : exitCode === 0 ? 'passed' : 'failed', exitCode, output, durationMs };
  });
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

export function judge(transcript: GuestTranscript, steps: readonly { name: string }[], policy: JudgePolicy = {}): GuestVerdict {
  const splatPatterns = policy.splatPatterns ?? SPLAT_PATTERNS;
  const { protocol, timingsMs } = transcript;
  const booted = protocol.includes('KSPLICE-GUEST-START');
  const results = stepResults(protocol, steps, timingsMs);
  const taints = [...protocol.matchAll(/KSPLICE-TAINT=(\d+)/g)].map((m) => Number(m[1]));
  const before = taints.length > 0 ? taints[0] : null;
  const after = taints.length > 1 ? taints[taints.length - 1] : null;
  const allowed = policy.allowedTaint ?? TAINT_EXPECTED_FROM_MODULES;
  const unexpected = before !== null && after !== null ? after & ~before & ~allowed : 0;
  const dmesg = between(protocol, 'KSPLICE-DMESG-BEGIN', 'KSPLICE-DMESG-END');
  const splats = findSplats(kernelLogLines(transcript.console, dmesg).join('\n'), splatPatterns);
  const failures: string[] = [];
  if (!booted) failures.push('the guest never reached userspace');
  if (transcript.timedOut) failures.push(`the run was killed after ${transcript.timeoutSeconds} s`);
  for (const r of results)
    if (r.status !== 'passed' && r.status !== 'not-run')
      failures.push(`step ${r.name} ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}`);
  if (booted && !results.some((r) => r.status !== 'not-run')) failures.push('no step ran');
  if (after !== null && results.some((r) => r.status !== 'not-run')) {
    let stopped = false;
    for (const r of results) {
      if (r.status === 'not-run' && (policy.keepGoing || !stopped)) failures.push(`step ${r.name} never ran`);
      if (r.status === 'failed' || r.status === 'timed-out') stopped = true;
    }
  }
  if (splats.length > 0) failures.push(`${splats.length} kernel splat line(s), first: ${splats[0].trim()}`);
  if (unexpected) failures.push(`the kernel gained taint ${describeTaint(unexpected)}`);
  if (booted && !transcript.timedOut && after === null && results.every((r) => r.status !== 'failed'))
    failures.push('the guest did not finish its run');
  if (after !== null && dmesg.trim() === '') failures.push('the guest finished without its dmesg: no kernel log to judge');
  const first = results[0];
  return {
    ok: failures.length === 0,
    failures,
    accelerator: transcript.accelerator,
    kernel: transcript.kernel,
    booted,
    timedOut: transcript.timedOut,
    steps: results,
    scriptExitCode: first?.exitCode ?? null,
    scriptOutput: first?.output ?? '',
    dmesg,
    kernelConsole: transcript.console,
    splats,
    taint: { before, after, unexpected },
    serialLog: transcript.serialLog,
    serialLogPath: transcript.serialLogPath,
    timingsMs: { boot: timingsMs.userspace, steps: results.reduce((s, r) => s + (r.durationMs ?? 0), 0), total: timingsMs.total },
  };
}
