#!/usr/bin/env node
import {
  diffObjects,
  readElf,
  summarize
} from "./chunks/chunk-KWAWIE4T.js";
import {
  OUTCOME_EXIT_CODES,
  UsageError,
  defineCli,
  runCli
} from "./chunks/chunk-DGMV7F27.js";

// src/diff/cli.ts
import { readFile } from "node:fs/promises";

// src/diff/cli-spec.ts
var DIFF_CLI = defineCli({
  name: "ksplice-diff",
  summary: "the object differ alone: which functions differ between PRE.o and POST.o, and whether the change is safe",
  usage: ["PRE.o POST.o [--json]"],
  positionals: true,
  options: {
    json: {
      type: "boolean",
      default: false,
      description: "print one JSON object: { changed, new, removed, unsafe: [{ rule, symbol, reason, acceptable }] }"
    }
  },
  notes: [
    'Without --json: one line per changed, new or removed function and per finding (`unsafe (RULE): SYMBOL: REASON`), or "No changes detected".'
  ],
  exitCodes: ["ok", "error", "unsafe", "usage"]
});

// src/diff/cli.ts
function humanReport(result) {
  const lines = [];
  for (const g of result.changed) {
    lines.push(`changed: ${g.name}`);
    for (const p of g.parts)
      if (p.status !== "unchanged") lines.push(`  ${p.name} (${p.section.name}): ${p.status}${p.reason ? `, ${p.reason}` : ""}`);
  }
  for (const g of result.new) lines.push(`new: ${g.name}`);
  for (const name of result.removed) lines.push(`removed: ${name}`);
  for (const u of [...result.unsafe, ...result.exportChanges]) lines.push(`unsafe (${u.rule}): ${u.symbol}: ${u.reason}`);
  for (const n of result.notes) lines.push(`note: ${n}`);
  if (lines.length === 0) lines.push("No changes detected");
  return lines.join("\n") + "\n";
}
runCli(DIFF_CLI, async ({ values, positionals: files }) => {
  if (files.length !== 2) throw new UsageError(`expected two objects, PRE.o and POST.o, got ${files.length}`);
  const [pre, post] = await Promise.all(files.map(async (f) => readElf(await readFile(f))));
  const result = diffObjects(pre, post);
  const summary = summarize(result);
  process.stdout.write(values.json ? JSON.stringify(summary) + "\n" : humanReport(result));
  return OUTCOME_EXIT_CODES[summary.unsafe.length > 0 ? "unsafe" : "analyzed"];
});
