// The repository's shape, checked: the folders of src/ import one another without a cycle (so
// each can be read, tested and changed with only the ones below it in mind), nothing reads the
// project's old sibling folder, and no build output is tracked.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { run } from '../src/util/exec.ts';
import { REPO } from './helpers/paths.ts';

/** Every file under `dir` (relative to the repository), skipping node_modules. */
function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string) => {
    for (const entry of readdirSync(path.join(REPO, rel), { withFileTypes: true })) {
      const child = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') visit(child);
      } else if (entry.isFile()) out.push(child);
    }
  };
  visit(dir);
  return out;
}

/** The folder of src/ a file belongs to: `src/create/cli.ts` → `create`; files at src/'s top are `(src)`. */
function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1] : '(src)';
}

/** Relative module specifiers of import/export statements and dynamic imports. */
function relativeImports(text: string): string[] {
  const specs: string[] = [];
  const patterns = [
    /\bfrom\s+['"](\.\.?\/[^'"]+)['"]/g,
    /^\s*import\s+['"](\.\.?\/[^'"]+)['"]/gm,
    /\bimport\(\s*['"](\.\.?\/[^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) specs.push(m[1]);
  return specs;
}

/** folder → folder → one example import `file → target`. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of walk('src').filter((f) => f.endsWith('.ts'))) {
    const from = folderOf(file);
    if (!graph.has(from)) graph.set(from, new Map());
    for (const spec of relativeImports(readFileSync(path.join(REPO, file), 'utf8'))) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      if (!target.startsWith('src/')) continue;
      const to = folderOf(target);
      if (to !== from && !graph.get(from)!.has(to)) graph.get(from)!.set(to, `${file} → ${target}`);
    }
  }
  return graph;
}

/** One cycle of the graph as its list of folders (first = last), or null. */
function findCycle(graph: Map<string, Map<string, string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of [...(graph.get(node)?.keys() ?? [])].sort()) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return null;
}

test('the folders of src/ import one another without a cycle', () => {
  const graph = folderGraph();
  assert.ok(graph.has('create') && graph.has('setup'), 'the folder graph was read');
  const cycle = findCycle(graph);
  const edges = cycle?.slice(1).map((to, i) => `  ${cycle[i]} → ${to}  (${graph.get(cycle[i])!.get(to)})`);
  assert.equal(cycle, null, `folder import cycle ${cycle?.join(' → ')}:\n${edges?.join('\n')}`);
});

test('nothing in src/, test/, scripts/ or bench/ reads the old sibling folder', () => {
  const needle = ['..', 'shared'].join('/');
  const offenders = ['src', 'test', 'scripts', 'bench']
    .flatMap(walk)
    .filter((f) => statSync(path.join(REPO, f)).size < 16 * 1024 * 1024)
    .filter((f) => readFileSync(path.join(REPO, f), 'latin1').includes(needle));
  assert.deepEqual(offenders, []);
});

test('no build output is tracked', async () => {
  const tracked = (await run('git', ['-C', REPO, 'ls-files', '-z'])).split('\0').filter(Boolean);
  const outputs = tracked.filter((f) => /\.(o|ko|mod|mod\.c|cmd|o\.d|a)$|(^|\/)(Module\.symvers|modules\.order)$/.test(f));
  assert.deepEqual(outputs, []);
});
