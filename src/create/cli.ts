/**
 * ksplice-create: build a rebootless update from a kernel source patch, as in the article.
 *
 * Usage:
 *   ksplice-create --patch=FILE [--config=DIR] [--id=ID] [--output-dir=DIR] [--json]
 *                  [--analyze-only] [--allow-toolchain-mismatch] [--skip-reproduction-check]
 *                  [--hooks=FILE.c] [--accept=SYMBOL[,SYMBOL...]] [--sign-key=FILE --sign-cert=FILE] KERNEL_SOURCE
 *   ksplice-create --patch=FILE --kernel-release=6.1.0-50-amd64 [...]   (Debian target, prepared by the setup)
 *   ksplice-create --manifest=ksplice.yml [--kernel-release=R | KERNEL_SOURCE] [...]   (the project file)
 * (installed: the `ksplice-create` bin, dist/bin/ksplice-create.js; in the repository: `tsx src/create/cli.ts ...`)
 *
 * --config defaults to KERNEL_SOURCE/ksplice (.config, System.map, build -> headers, vmlinux).
 * The config dir's vmlinux (the shipped kernel, Debian's from the -dbg package) is required: the
 * pre build must reproduce its code before anything ships. --skip-reproduction-check builds
 * without it, leaving the check to run-pre matching at apply time.
 * --hooks compiles the author's hook code (kmod/ksplice_hooks.h: ksplice_pre_apply(fn), ...,
 * shadow variables) into the update module; --accept names findings of the safety analysis the
 * author has reviewed (each `symbol` of `unsafe`; repeatable or comma-separated): they no longer
 * refuse the update, the others still do (docs/hooks.md). In GitHub Actions (GITHUB_ACTIONS=true)
 * each finding is also printed on stderr as an annotation of the patch file.
 * --sign-key/--sign-cert sign ksplice.ko and the update module with the target's sign-file (Secure
 * Boot hosts; src/kbuild/sign-module.ts); the key is checked first and never printed or packed.
 * --manifest builds every patch of the project file (src/manifest/project-file.ts) for each of its
 * kernel-releases (else --kernel-release or KERNEL_SOURCE), each as --patch/--id/--hooks/--accept
 * would; an accept entry with a rule accepts only findings of that rule (enforceAcceptRules);
 * --json prints a line per update; the exit code is the worst outcome. A problem in the file is a
 * usage error naming FILE:LINE:COLUMN.
 * --analyze-only stops after the safety verdict (no tarball). Without it, the core and the update
 * module are built and ksplice-<id>.tar.gz is written to --output-dir (default: the current folder).
 *
 * Exit (the one table, src/util/exit-codes.ts; outcomes through src/create/outcome.ts, exitCodeOf):
 * 0 tarball written (outcome `built`) or analysed (`analyzed`); 66 "No changes detected"
 * (`no-changes`); 2 the patch cannot be applied safely without custom code (`unsafe`, findings
 * printed with their rule); 64 usage error; 1 any other error; 130/143 interrupted by
 * SIGINT/SIGTERM (the tree is restored first). --help prints the options (the table below). A tree left patched by a run killed
 * outright is restored by the next run (or refused, if that cannot be shown pristine). --json
 * prints one object on stdout (outcomeToJson), whatever the outcome:
 * { outcome, id, tarball, kernelRelease, changed: [{object, function, module}], new,
 *   unsafe: [{rule, symbol, reason, acceptable}], accepted, notes, reproduction, timingsMs }.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { formatPosition, acceptedSymbols, ProjectFileError, readProjectFile, type ProjectFile } from '../manifest/project-file.ts';
import { enforceAcceptRules, plannedUpdates, worstExitCode } from '../manifest/updates.ts';
import type { SigningRequest } from '../kbuild/sign-module.ts';
import { ensureTarget } from '../setup/target-kernel.ts';
import { runCli, UsageError, type CliValues } from '../util/cli.ts';
import { findingAnnotations } from './annotations.ts';
import { CREATE_CLI } from './cli-spec.ts';
import { createUpdate } from './create.ts';
import { exitCodeOf, outcomeMessage, outcomeToJson, type CreateOutcome } from './outcome.ts';

/** In GitHub Actions, the findings also become annotations of the patch file (stderr). */
function annotate(patchPath: string, outcome: CreateOutcome): void {
  if (process.env.GITHUB_ACTIONS !== 'true') return;
  for (const line of findingAnnotations(patchPath, outcome.unsafe, outcome.accepted)) process.stderr.write(`${line}\n`);
}

/** What one update is built from: the flags of a plain run, or one entry of the project file. */
interface UpdateRequest {
  sourceDir: string;
  patchPath: string;
  id?: string;
  hooksPath?: string;
  accept: string[];
}

type CreateValues = CliValues<typeof CREATE_CLI.options>;

/** --sign-key with --sign-cert, or neither: a key alone does not say which certificate the target trusts. */
function signingOf(values: CreateValues): SigningRequest | undefined {
  const key = values['sign-key'];
  const cert = values['sign-cert'];
  if (Boolean(key) !== Boolean(cert))
    throw new UsageError(
      key ? '--sign-key needs --sign-cert=FILE (the certificate the target trusts)' : '--sign-cert needs --sign-key=FILE',
    );
  return key && cert ? { keyPath: path.resolve(key), certPath: path.resolve(cert) } : undefined;
}

/** Builds one update and prints what a run prints for it; returns the outcome. */
async function buildAndReport(
  values: CreateValues,
  request: UpdateRequest,
  check?: (o: CreateOutcome) => CreateOutcome,
): Promise<CreateOutcome> {
  // An interrupt (InterruptedError, the tree restored) exits 130/143 through its exitCode (runCli).
  let outcome = await createUpdate({
    sourceDir: request.sourceDir,
    patchPath: request.patchPath,
    configDir: values.config,
    id: request.id,
    outputDir: values['output-dir'],
    analyzeOnly: values['analyze-only'],
    allowToolchainMismatch: values['allow-toolchain-mismatch'],
    skipReproductionCheck: values['skip-reproduction-check'],
    hooksPath: request.hooksPath,
    accept: request.accept,
    signing: signingOf(values),
  });
  if (check) outcome = check(outcome);
  annotate(request.patchPath, outcome);
  if (values.json) process.stdout.write(`${outcomeToJson(outcome)}\n`);
  // What was made goes to stdout (unless --json holds it); a refusal to stderr, as always.
  const message = outcomeMessage(outcome);
  if (outcome.outcome === 'no-changes') process.stderr.write(`${message}\n`);
  else if (outcome.outcome === 'unsafe') process.stderr.write(`ksplice-create: ${message}\n`);
  else if (!values.json) process.stdout.write(`${message}\n`);
  return outcome;
}

/** The project file, checked; its problems as usage errors (all printed, each naming file:line:column). */
async function readManifest(file: string): Promise<ProjectFile> {
  try {
    return await readProjectFile(file);
  } catch (e) {
    if (!(e instanceof ProjectFileError)) throw e;
    const lines = e.message.split('\n');
    for (const line of lines.slice(0, -1)) process.stderr.write(`${CREATE_CLI.name}: ${line}\n`);
    throw new UsageError(lines[lines.length - 1]);
  }
}

/** --manifest: every patch of the project file for every release, each built as its flags would build it. */
async function buildProject(values: CreateValues, positionals: string[]): Promise<number> {
  const file = values.manifest!;
  for (const flag of ['patch', 'id', 'hooks'] as const) {
    if (values[flag] !== undefined)
      throw new UsageError(`--${flag} goes in the project file with --manifest=${file} (each patch's ${flag})`);
  }
  if ((values.accept ?? []).length > 0)
    throw new UsageError(`--accept goes in the project file with --manifest=${file} (accept: [{symbol, rule}])`);
  if (positionals.length > 1) throw new UsageError(`one KERNEL_SOURCE, not ${positionals.length} (${positionals.join(' ')})`);
  const project = await readManifest(file);
  const where = project.kernelReleasesAt && formatPosition(project.kernelReleasesAt);
  if (where && positionals.length > 0) {
    throw new UsageError(
      `${where}: kernel-releases names Debian releases, whose trees the setup prepares; KERNEL_SOURCE ${positionals[0]} is another tree: give one of them`,
    );
  }
  if (where && values['kernel-release']) {
    throw new UsageError(
      `${where}: kernel-releases is given in the project file; --kernel-release=${values['kernel-release']} would contradict it`,
    );
  }
  if (values['kernel-release'] && positionals.length > 0) {
    throw new UsageError(
      `--kernel-release=${values['kernel-release']} prepares its own source tree; give it or KERNEL_SOURCE (${positionals[0]}), not both`,
    );
  }
  if (!where && !values['kernel-release'] && positionals.length === 0) {
    throw new UsageError(`give KERNEL_SOURCE or --kernel-release=RELEASE, or kernel-releases in ${file}`);
  }
  if (values.config && project.kernelReleases.length > 1) {
    throw new UsageError(
      `${where}: --config=${values.config} is one tree's config dir, but kernel-releases lists ${project.kernelReleases.length} releases`,
    );
  }
  const updates = plannedUpdates(project, values['kernel-release'] ? [values['kernel-release']] : [null]);
  const trees = new Map<string, string>();
  const codes: number[] = [];
  for (const update of updates) {
    let sourceDir = positionals[0];
    if (update.release) {
      if (!trees.has(update.release)) trees.set(update.release, (await ensureTarget({ release: update.release })).sourceDir);
      sourceDir = trees.get(update.release)!;
    }
    if (updates.length > 1)
      process.stderr.write(`ksplice-create: ${path.basename(update.patch)}${update.release ? ` for ${update.release}` : ''}\n`);
    const outcome = await buildAndReport(
      values,
      {
        sourceDir,
        patchPath: update.patch,
        id: update.id ?? undefined,
        hooksPath: update.hooks ?? undefined,
        accept: acceptedSymbols(update.accept),
      },
      (o) => {
        const enforced = enforceAcceptRules(o, update.accept);
        if (enforced.removedTarball) rmSync(enforced.removedTarball, { force: true });
        return enforced.outcome;
      },
    );
    codes.push(exitCodeOf(outcome));
  }
  return worstExitCode(codes);
}

runCli(CREATE_CLI, async ({ values, positionals }) => {
  signingOf(values); // a usage error before anything else
  if (values.manifest) return buildProject(values, positionals);
  if (values['kernel-release'] && positionals.length > 0) {
    // Two trees named: building one while the user meant the other would be silently wrong.
    throw new UsageError(
      `--kernel-release=${values['kernel-release']} prepares its own source tree; give it or KERNEL_SOURCE (${positionals.join(' ')}), not both`,
    );
  }
  if (!values.patch) throw new UsageError('--patch=FILE (or --manifest=ksplice.yml) is required');
  if (positionals.length !== 1 && !values['kernel-release']) {
    throw new UsageError(
      positionals.length === 0
        ? 'give KERNEL_SOURCE or --kernel-release=RELEASE'
        : `one KERNEL_SOURCE, not ${positionals.length} (${positionals.join(' ')})`,
    );
  }
  const sourceDir = positionals[0] ?? (await ensureTarget({ release: values['kernel-release'] })).sourceDir;
  const outcome = await buildAndReport(values, {
    sourceDir,
    patchPath: path.resolve(values.patch),
    id: values.id,
    hooksPath: values.hooks ? path.resolve(values.hooks) : undefined,
    accept: (values.accept ?? [])
      .flatMap((a) => a.split(','))
      .map((a) => a.trim())
      .filter(Boolean),
  });
  return exitCodeOf(outcome);
});
