/**
 * The tools, one table: each command's option table (its --help and parser), its command-line
 * source and how the Action bundle loads it. The bundle's dispatcher (index.ts), the installed
 * bundles (scripts/build-cli.ts → dist/bin/<name>.js) and the tests read this table; package.json
 * `bin` must name the same commands (test/util/cli.test.ts checks it, as JSON cannot import).
 *
 * A new tool: its `cli-spec.ts` and `cli.ts`, one line here, one `bin` line in package.json.
 *
 * Usage: `await TOOLS.diff.load()` runs ksplice-diff on process.argv.
 */
import { CREATE_CLI } from '../create/cli-spec.ts';
import { DIFF_CLI } from '../diff/cli-spec.ts';
import { QEMU_CLI } from '../qemu/cli-spec.ts';
import { SETUP_CLI } from '../setup/cli-spec.ts';
import type { CliSpec } from '../util/cli.ts';

export interface Tool {
  spec: CliSpec;
  /** Its command-line source, from the repository root (the entry of its installed bundle). */
  source: string;
  /** Runs it (a dynamic import, so the bundle loads only the tool asked for). */
  load: () => Promise<unknown>;
}

/** By the name `node dist/index.js NAME` takes; the installed command is `spec.name`. */
export const TOOLS = {
  setup: { spec: SETUP_CLI, source: 'src/setup/cli.ts', load: () => import('../setup/cli.ts') },
  create: { spec: CREATE_CLI, source: 'src/create/cli.ts', load: () => import('../create/cli.ts') },
  qemu: { spec: QEMU_CLI, source: 'src/qemu/cli.ts', load: () => import('../qemu/cli.ts') },
  diff: { spec: DIFF_CLI, source: 'src/diff/cli.ts', load: () => import('../diff/cli.ts') },
} satisfies Record<string, Tool>;

export type ToolName = keyof typeof TOOLS;

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(TOOLS, name);
}
