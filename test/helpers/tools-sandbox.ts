/**
 * Test helper: runs the target tools (kmod/tools/) on the host with the busybox applets the guest
 * has, but with insmod and rmmod replaced by stand-ins that record each call, so a test can tell
 * whether a tarball got as far as loading a module.
 *
 * Why dash and not `busybox sh`: Debian's busybox-static shell runs its own applet for a command
 * it has one of, whatever PATH says (`busybox sh -c 'type insmod'` answers "insmod is insmod"), so
 * a PATH stand-in is never called under it. dash looks every command up in PATH; PATH here is one
 * folder holding the two stand-ins and links to /bin/busybox for every other command the tools
 * run (tar, sha256sum, sed, ...), so the same busybox code does the unpacking and checking as in
 * the guest, and a command missing from the list fails loudly instead of running GNU's.
 *
 * Each run gets its own folder (cwd, with TMPDIR inside it, where ksplice-apply makes its private
 * folder): after the run `leftovers` lists whatever is still there, so a write through "..", a
 * link or an absolute path, or a private folder not removed, shows up. A run is killed (its whole
 * process group) after `timeoutMs`.
 *
 * Usage:
 *   const sb = await makeSandbox(dir);
 *   const r = await runTool(sb, 'ksplice-apply', [tarball], { sysfs });
 *   r.status, r.stderr, r.calls   // ['insmod /…/ksplice_t1.ko <sha256 of the file>']
 *   r.leftovers                   // [] when nothing was left in the run's folder
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO } from './paths.ts';

export const TOOLS_DIR = path.join(REPO, 'kmod/tools');
const BUSYBOX = '/bin/busybox';
const DASH = '/usr/bin/dash';

/** Every external command kmod/tools/* runs, besides insmod and rmmod. */
const APPLETS = ['cat', 'cp', 'cut', 'find', 'grep', 'head', 'ln', 'mkdir', 'mktemp', 'mv', 'rm', 'sed', 'sha256sum', 'tar', 'uname'];

export interface Sandbox {
  root: string;
  bin: string;
  /** Files outside every run's folder a hostile tarball might aim at: canary file and empty folder. */
  outside: { dir: string; canary: string; emptyDir: string };
}

export interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** One line per stand-in call: "insmod <args> <sha256 of the first arg>" or "rmmod <args>". */
  calls: string[];
  /** Paths (relative to the run's folder) left after the run, besides the empty TMPDIR. */
  leftovers: string[];
  timedOut: boolean;
  ms: number;
}

export async function makeSandbox(root: string): Promise<Sandbox> {
  const bin = path.join(root, 'bin');
  await mkdir(bin, { recursive: true });
  for (const applet of APPLETS) await symlink(BUSYBOX, path.join(bin, applet));
  // the stand-ins fail (exit 1) like a refused module, so the tools go on to their error path
  await writeFile(
    path.join(bin, 'insmod'),
    '#!/usr/bin/dash\necho "insmod $* $(sha256sum "$1" | cut -c1-64)" >> "$KSPLICE_STANDIN_CALLS"\nexit 1\n',
    { mode: 0o755 },
  );
  await writeFile(path.join(bin, 'rmmod'), '#!/usr/bin/dash\necho "rmmod $*" >> "$KSPLICE_STANDIN_CALLS"\nexit 1\n', { mode: 0o755 });
  const dir = path.join(root, 'outside');
  await mkdir(path.join(dir, 'empty'), { recursive: true });
  await writeFile(path.join(dir, 'canary'), 'canary\n');
  await mkdir(path.join(root, 'runs'));
  return { root, bin, outside: { dir, canary: path.join(dir, 'canary'), emptyDir: path.join(dir, 'empty') } };
}

/** Every path under `dir`, relative, sorted (folders too). */
export async function listTree(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

/** Names and contents under the sandbox's `outside` folder, to compare before and after runs. */
export async function outsideState(sb: Sandbox): Promise<string> {
  const lines: string[] = [];
  for (const rel of await listTree(sb.outside.dir)) {
    const p = path.join(sb.outside.dir, rel);
    const st = await lstat(p);
    // only regular files are read: a fifo a hostile tarball left would block the read
    const what = st.isFile()
      ? createHash('sha256')
          .update(await readFile(p))
          .digest('hex')
      : st.isDirectory()
        ? 'dir'
        : st.isSymbolicLink()
          ? 'link'
          : 'special';
    lines.push(`${rel} ${what}`);
  }
  return lines.join('\n');
}

/** A fresh folder for one run; `dir` is its cwd, `tmp` its TMPDIR. */
export async function newRunDir(sb: Sandbox): Promise<{ dir: string; tmp: string }> {
  const dir = await mkdtemp(path.join(sb.root, 'runs', 'run-'));
  await mkdir(path.join(dir, 'tmp'));
  return { dir, tmp: path.join(dir, 'tmp') };
}

export async function runTool(
  sb: Sandbox,
  name: string,
  args: string[],
  opts: { sysfs: string; store?: string; shell?: 'dash' | 'busybox'; timeoutMs?: number; runDir?: { dir: string; tmp: string } },
): Promise<ToolRun> {
  const run = opts.runDir ?? (await newRunDir(sb));
  const callsFile = `${run.dir}.calls`;
  const shell = opts.shell === 'busybox' ? [BUSYBOX, 'sh'] : [DASH];
  const started = Date.now();
  const child = spawn(shell[0], [...shell.slice(1), path.join(TOOLS_DIR, name), ...args], {
    cwd: run.dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // KSPLICE_STATE: where an applied update's patch is kept; never the host's /run/ksplice
    // KSPLICE_STORE: where --persist keeps updates for the next boot; never the host's /var/lib/ksplice
    env: {
      PATH: sb.bin,
      TMPDIR: run.tmp,
      KSPLICE_SYSFS: opts.sysfs,
      KSPLICE_STATE: `${run.dir}.state`,
      KSPLICE_STORE: opts.store ?? `${run.dir}.store`,
      KSPLICE_STANDIN_CALLS: callsFile,
      LC_ALL: 'C',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(-child.pid!, 'SIGKILL'); // the tool and every busybox it started
  }, opts.timeoutMs ?? 20_000);
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  const calls = existsSync(callsFile) ? (await readFile(callsFile, 'utf8')).split('\n').filter(Boolean) : [];
  await rm(callsFile, { force: true });
  const leftovers = (await listTree(run.dir)).filter((p) => p !== 'tmp');
  return { status, stdout, stderr, calls, leftovers, timedOut, ms: Date.now() - started };
}
