#!/usr/bin/env node

// src/util/exit-codes.ts
var EXIT = {
  ok: 0,
  error: 1,
  unsafe: 2,
  guestFailed: 3,
  usage: 64,
  noChanges: 66,
  sigint: 130,
  sigterm: 143
};
var EXIT_MEANINGS = {
  ok: "success: an update built or analysed, a guest proof passed, a target ready; --help",
  error: "any other error: a file missing or malformed, a patch that does not apply, a failed tool (reason on stderr)",
  unsafe: "the patch cannot be applied safely without custom code (the findings and their rule printed)",
  guestFailed: "the guest run failed: a step failed or timed out, a kernel splat, unexpected taint, no boot",
  usage: "usage error: unknown option, missing or conflicting arguments (one line on stderr, then the usage)",
  noChanges: '"No changes detected": the patch changes no shipped code',
  sigint: "interrupted by SIGINT (Ctrl-C); a kernel tree being patched is restored first",
  sigterm: "interrupted by SIGTERM; a kernel tree being patched is restored first"
};
var OUTCOME_EXIT_CODES = {
  built: EXIT.ok,
  analyzed: EXIT.ok,
  "no-changes": EXIT.noChanges,
  unsafe: EXIT.unsafe
};
var EXIT_ERROR = EXIT.error;
function exitCodeTable(names = Object.keys(EXIT)) {
  return names.map((n) => [EXIT[n], n, EXIT_MEANINGS[n]]).sort((a, b) => a[0] - b[0]);
}

// src/util/cli.ts
import { parseArgs } from "node:util";
var UsageError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "UsageError";
  }
};
function defineCli(spec) {
  return spec;
}
var WIDTH = 100;
function wrap(text, indent, first) {
  const lines = [];
  let line = "";
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
function optionSyntax(name, option) {
  const value = option.type === "string" ? `=${option.value ?? "VALUE"}` : "";
  return `--${name}${value}${option.multiple ? "..." : ""}`;
}
function usageLines(spec) {
  return spec.usage.map((u, i) => `${i === 0 ? "usage:" : "      "} ${spec.name} ${u}`);
}
function helpText(spec) {
  const out = [`${spec.name}: ${spec.summary}`, "", ...usageLines(spec), "", "Options:"];
  const rows = Object.entries(spec.options).map(([name, o]) => [optionSyntax(name, o), o]);
  rows.push(["--help", null]);
  const column = Math.min(Math.max(...rows.map(([s]) => s.length)) + 4, 34);
  for (const [syntax, option] of rows) {
    const defaultValue = option && typeof option.default === "string" && option.default ? ` (default: ${option.default})` : "";
    const text = option ? `${option.description}${defaultValue}` : "print this help and exit 0";
    const head = `  ${syntax}`;
    const body = wrap(text, column, column);
    if (head.length + 2 > column) {
      out.push(head);
      out.push(...body.map((l) => `${" ".repeat(column)}${l}`));
    } else {
      out.push(...body.map((l, i) => (i === 0 ? head.padEnd(column) : " ".repeat(column)) + l));
    }
  }
  for (const note of spec.notes ?? []) out.push("", ...wrap(note, 0, 0));
  out.push("", "Exit codes:");
  for (const [code, , meaning] of exitCodeTable(spec.exitCodes)) {
    out.push(...wrap(meaning, 7, 7).map((l, i) => (i === 0 ? `  ${String(code).padEnd(5)}` : " ".repeat(7)) + l));
  }
  return `${out.join("\n")}
`;
}
function wantsHelp(argv) {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}
function parseCli(spec, argv) {
  const options = Object.fromEntries(
    Object.entries(spec.options).map(([name, o]) => [
      name,
      { type: o.type, ...o.multiple ? { multiple: true } : {}, ...o.default !== void 0 ? { default: o.default } : {} }
    ])
  );
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals: spec.positionals ?? false,
      strict: true
    });
    return { values, positionals };
  } catch (e) {
    if (isParseArgsError(e)) throw new UsageError(e.message.replace(/\. To specify a positional argument.*$/s, ""));
    throw e;
  }
}
function isParseArgsError(e) {
  return e instanceof Error && String(e.code ?? "").startsWith("ERR_PARSE_ARGS");
}
function failure(spec, e) {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof UsageError || isParseArgsError(e)) {
    return { code: EXIT.usage, stderr: `${spec.name}: ${message.split("\n")[0]}
${usageLines(spec).join("\n")}
` };
  }
  const carried = e instanceof Error ? e.exitCode : void 0;
  if (typeof carried === "number" && Number.isInteger(carried) && carried > 0)
    return { code: carried, stderr: `${spec.name}: ${message}
` };
  return { code: EXIT.error, stderr: `${spec.name}: ${message}
` };
}
function runCli(spec, main, argv = process.argv.slice(2)) {
  if (wantsHelp(argv)) {
    process.stdout.write(helpText(spec));
    process.exit(EXIT.ok);
  }
  void Promise.resolve().then(() => main(parseCli(spec, argv))).then(
    (code) => process.exit(code ?? EXIT.ok),
    (e) => {
      const { code, stderr } = failure(spec, e);
      process.stderr.write(stderr);
      process.exit(code);
    }
  );
}

export {
  EXIT,
  OUTCOME_EXIT_CODES,
  UsageError,
  defineCli,
  runCli
};
