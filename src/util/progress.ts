/**
 * Progress lines for long work: numbered steps with elapsed time, written to stderr so
 * `--json` output on stdout stays machine-readable.
 *
 * Usage: `const p = new Progress('setup', 9); p.step('downloading …'); … p.done('ready')`.
 */
export type LogSink = (line: string) => void;

export const stderrSink: LogSink = (line) => process.stderr.write(`${line}\n`);

export class Progress {
  private readonly started = Date.now();
  private current = 0;
  private stepStarted = Date.now();
  readonly timings: Record<string, number> = {};
  private lastLabel = '';

  constructor(
    private readonly stage: string,
    private readonly totalSteps: number,
    private readonly sink: LogSink = stderrSink,
  ) {}

  /** Starts the next numbered step, closing the timing of the previous one. */
  step(label: string): void {
    this.closeStep();
    this.current++;
    this.lastLabel = label;
    this.stepStarted = Date.now();
    this.sink(`[${this.stage} ${this.current}/${this.totalSteps}] ${label}`);
  }

  /** A detail line under the current step. */
  info(line: string): void {
    this.sink(`  ${line}`);
  }

  /**
   * For chatty tools (make): shows the latest line at most every `everyMs`, with the elapsed time
   * of the step, so a long step visibly moves without flooding the log.
   */
  heartbeat(line: string, everyMs = 5000): void {
    const now = Date.now();
    if (now - this.lastBeat < everyMs) return;
    this.lastBeat = now;
    this.sink(`  ... ${seconds(now - this.stepStarted)}: ${line.trim()}`);
  }

  private lastBeat = 0;

  /** Ends the run with one summary line. */
  done(summary: string): void {
    this.closeStep();
    this.sink(`[${this.stage}] ${summary} (${seconds(Date.now() - this.started)})`);
  }

  private closeStep(): void {
    if (this.lastLabel) this.timings[this.lastLabel] = Date.now() - this.stepStarted;
    this.lastLabel = '';
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
