/**
 * The command-line tools' one front: a tool declares its options once, as a table, and that table
 * both parses the arguments (node's parseArgs) and makes the --help text (usage lines, each option
 * with its value and description, the exit codes the tool can give, from src/util/exit-codes.ts).
 * runCli maps what main returns or throws to an exit code the same way in every tool:
 *   - `--help` (or -h) anywhere before `--`: the help on stdout, exit 0, main not run;
 *   - an unknown option, a missing value, a stray argument (parseArgs) or a UsageError: one line
 *     `TOOL: message` on stderr, then the usage lines, exit 64 (EXIT.usage);
 *   - an error carrying a numeric `exitCode` (InterruptedError of src/create: 130/143): its message, that code;
 *   - any other error: `TOOL: message`, exit 1 (EXIT.error);
 *   - main's return value (a code from the table; undefined = 0).
 *
 * Usage:
 *   const spec = defineCli({ name: 'ksplice-diff', summary: '...', usage: ['PRE.o POST.o [--json]'],
 *     positionals: true, options: { json: { type: 'boolean', default: false, description: '...' } },
 *     exitCodes: ['ok', 'unsafe', 'error', 'usage'] });
 *   runCli(spec, async ({ values, positionals }) => { ...; return EXIT.ok; });
 */
import { parseArgs } from 'node:util';
import { EXIT, EXIT_MEANINGS, exitCodeTable, type ExitName } from './exit-codes.ts';

export interface CliOption {
  type: 'string' | 'boolean';
  multiple?: boolean;
  default?: string | boolean | string[];
  /** The value's placeholder in --help (string options): FILE, DIR, N... */
  value?: string;
  /** One or more sentences; --help wraps them. */
  description: string;
}

export interface CliSpec<O extends Record<string, CliOption> = Record<string, CliOption>> {
  /** The command's name: ksplice-create. */
  name: string;
  /** What it does, one line. */
  summary: string;
  /** Synopsis lines, without the name: ['--patch=FILE [options] KERNEL_SOURCE', ...]. */
  usage: string[];
  options: O;
  /** Whether the tool takes arguments that are not options (default: no). */
  positionals?: boolean;
  /** Paragraphs printed after the options (what a run prints, defaults worth knowing). */
  notes?: string[];
  /** The rows of the exit-code table this tool can give. */
  exitCodes: ExitName[];
}

type OptionValue<T extends CliOption> = T['type'] extends 'boolean'
  ? T['multiple'] extends true
    ? boolean[]
    : boolean
  : T['multiple'] extends true
    ? string[]
    : string;

export type CliValues<O extends Record<string, CliOption>> = {
  [K in keyof O]: O[K] extends { default: unknown } ? OptionValue<O[K]> : OptionValue<O[K]> | undefined;
};

export interface CliArgs<O extends Record<string, CliOption>> {
  values: CliValues<O>;
  positionals: string[];
}

/** A bad command line found by the tool itself (parseArgs's own errors are treated alike). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Keeps the options' literal types (so parsed values are typed from the table). */
export function defineCli<const O extends Record<string, CliOption>>(spec: CliSpec<O>): CliSpec<O> {
  return spec;
}

const WIDTH = 100;

function wrap(text: string, indent: number, first: number): string[] {
  const lines: string[] = [];
  let line = '';
  let room = WIDTH - first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = WIDTH - indent;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** `--name=VALUE` (or `--name` for a flag), `...` when it may repeat. */
export function optionSyntax(name: string, option: CliOption): string {
  const value = option.type === 'string' ? `=${option.value ?? 'VALUE'}` : '';
  return `--${name}${value}${option.multiple ? '...' : ''}`;
}

export function usageLines(spec: CliSpec): string[] {
  return spec.usage.map((u, i) => `${i === 0 ? 'usage:' : '      '} ${spec.name} ${u}`);
}

/** The --help text: summary, usage, every option of the table, notes, the tool's exit codes. */
export function helpText(spec: CliSpec): string {
  const out = [`${spec.name}: ${spec.summary}`, '', ...usageLines(spec), '', 'Options:'];
  const rows: [string, CliOption | null][] = Object.entries(spec.options).map(([name, o]) => [optionSyntax(name, o), o]);
  rows.push(['--help', null]);
  const column = Math.min(Math.max(...rows.map(([s]) => s.length)) + 4, 34);
  for (const [syntax, option] of rows) {
    const defaultValue = option && typeof option.default === 'string' && option.default ? ` (default: ${option.default})` : '';
    const text = option ? `${option.description}${defaultValue}` : 'print this help and exit 0';
    const head = `  ${syntax}`;
    const body = wrap(text, column, column);
    if (head.length + 2 > column) {
      out.push(head);
      out.push(...body.map((l) => `${' '.repeat(column)}${l}`));
    } else {
      out.push(...body.map((l, i) => (i === 0 ? head.padEnd(column) : ' '.repeat(column)) + l));
    }
  }
  for (const note of spec.notes ?? []) out.push('', ...wrap(note, 0, 0));
  out.push('', 'Exit codes:');
  for (const [code, , meaning] of exitCodeTable(spec.exitCodes)) {
    out.push(...wrap(meaning, 7, 7).map((l, i) => (i === 0 ? `  ${String(code).padEnd(5)}` : ' '.repeat(7)) + l));
  }
  return `${out.join('\n')}\n`;
}

/** Whether the command line asks for --help (before a `--`). */
function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** Parses argv with the table; throws UsageError on what parseArgs refuses. */
export function parseCli<O extends Record<string, CliOption>>(spec: CliSpec<O>, argv: string[]): CliArgs<O> {
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([name, o]) => [
      name,
      { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}) },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: options as never,
      allowPositionals: spec.positionals ?? false,
      strict: true,
    });
    return { values: values as CliValues<O>, positionals };
  } catch (e) {
    if (isParseArgsError(e)) throw new UsageError(e.message.replace(/\. To specify a positional argument.*$/s, ''));
    throw e;
  }
}

function isParseArgsError(e: unknown): e is Error {
  return e instanceof Error && String((e as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
}

/** The exit code and stderr text for what main threw (exported for the tests). */
export function failure(spec: CliSpec, e: unknown): { code: number; stderr: string } {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof UsageError || isParseArgsError(e)) {
    return { code: EXIT.usage, stderr: `${spec.name}: ${message.split('\n')[0]}\n${usageLines(spec).join('\n')}\n` };
  }
  const carried = e instanceof Error ? (e as { exitCode?: unknown }).exitCode : undefined;
  if (typeof carried === 'number' && Number.isInteger(carried) && carried > 0)
    return { code: carried, stderr: `${spec.name}: ${message}\n` };
  return { code: EXIT.error, stderr: `${spec.name}: ${message}\n` };
}

/** Runs a tool's main with its parsed arguments and exits with the code the table gives. */
export function runCli<O extends Record<string, CliOption>>(
  spec: CliSpec<O>,
  main: (args: CliArgs<O>) => Promise<number | void>,
  argv: string[] = process.argv.slice(2),
): void {
  if (wantsHelp(argv)) {
    process.stdout.write(helpText(spec));
    process.exit(EXIT.ok);
  }
  void Promise.resolve()
    .then(() => main(parseCli(spec, argv)))
    .then(
      (code) => process.exit(code ?? EXIT.ok),
      (e: unknown) => {
        const { code, stderr } = failure(spec, e);
        process.stderr.write(stderr);
        process.exit(code);
      },
    );
}

export { EXIT, EXIT_MEANINGS };
