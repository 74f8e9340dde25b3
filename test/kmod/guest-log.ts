/**
 * Shared by the kmod guest tests: the splat patterns (test/fixtures/kmod/splat-patterns.txt,
 * required to exist and be non-empty) and the parsing of scenario "CHECK name: value" lines.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/kmod/splat-patterns.txt');

export function splatPatterns(): RegExp[] {
  const patterns = readFileSync(FILE, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  if (patterns.length === 0) throw new Error(`${FILE} holds no pattern`);
  return patterns.map((p) => new RegExp(p));
}

/** The first log line matching a splat pattern, if any. */
export function findSplat(log: string): string | undefined {
  const patterns = splatPatterns();
  return log.split('\n').find((line) => patterns.some((p) => p.test(line)));
}

export function parseChecks(log: string): Map<string, string> {
  const checks = new Map<string, string>();
  for (const m of log.matchAll(/^CHECK ([^:]+): ?(.*)$/gm)) checks.set(m[1], m[2]);
  return checks;
}
