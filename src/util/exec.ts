/**
 * Running external programs (apt, dpkg, make, gcc, qemu) with errors that say what failed.
 *
 * Usage: `await run('make', ['-C', dir, 'prepare'])` returns stdout; a non-zero exit throws a
 * CommandError carrying the command line and the tail of its stderr.
 */
import { spawn } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const tail = stderr.trim().split('\n').slice(-15).join('\n');
    super(`command failed (exit ${exitCode}): ${command}${tail ? `\n${tail}` : ''}`);
    this.name = 'CommandError';
  }
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each line the program prints (stdout and stderr), for progress display. */
  onLine?: (line: string) => void;
  /** Data written to the program's stdin. */
  input?: string | Buffer;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

/** Runs a program and resolves whatever its exit code; never throws for a non-zero exit. */
export function runUnchecked(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let pending = '';
    const feedLines = (chunk: Buffer) => {
      if (!options.onLine) return;
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) options.onLine(line);
    };
    child.stdout!.on('data', (c: Buffer) => {
      out.push(c);
      feedLines(c);
    });
    child.stderr!.on('data', (c: Buffer) => {
      err.push(c);
      feedLines(c);
    });
    child.on('error', (e) => reject(new Error(`cannot run ${program}: ${e.message}`)));
    child.on('close', (code) => {
      if (pending && options.onLine) options.onLine(pending);
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), exitCode: code });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** Runs a program; resolves its stdout, throws CommandError on a non-zero exit. */
export async function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await runUnchecked(program, args, options);
  if (result.exitCode !== 0) {
    throw new CommandError([program, ...args].join(' '), result.exitCode, result.stdout, result.stderr);
  }
  return result.stdout;
}

/** Runs a shell pipeline with bash (`set -o pipefail`), for the few steps that are pipelines by nature. */
export function runShell(script: string, args: readonly string[] = [], options: RunOptions = {}): Promise<string> {
  return run('bash', ['-c', `set -euo pipefail\n${script}`, 'bash', ...args], options);
}

/** True when `program` is found on PATH. */
export async function hasProgram(program: string): Promise<boolean> {
  const result = await runUnchecked('bash', ['-c', `command -v -- "$1" >/dev/null`, 'bash', program]);
  return result.exitCode === 0;
}
