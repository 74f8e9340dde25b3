/**
 * ksplice-create: build a rebootless update from a kernel source patch, as in the article.
 *
 * Usage:
 *   ksplice-create --patch=FILE [--config=DIR] [--id=ID] [--output-dir=DIR] [--json]
 *                  [--analyze-only] [--allow-toolchain-mismatch] [--skip-reproduction-check]
 *                  [--hooks=FILE.c] [--accept=SYMBOL[,SYMBOL...]] [--sign-key=FILE --sign-cert=FILE] KERNEL_SOURCE
 *   ksplice-create --patch=FILE --kernel-release=6.1.0-50-amd64 [...]   (Debian target, prepared by the setup)
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
import path from 'node:path';
import { ensureTarget } from '../setup/target-kernel.ts';
import { runCli, UsageError } from '../util/cli.ts';
import { findingAnnotations } from './annotations.ts';
import { CREATE_CLI } from './cli-spec.ts';
import { createUpdate } from './create.ts';
import { exitCodeOf, outcomeMessage, outcomeToJson, type CreateOutcome } from './outcome.ts';

/** In GitHub Actions, the findings also become annotations of the patch file (stderr). */
function annotate(patchPath: string, outcome: CreateOutcome): void {
  if (process.env.GITHUB_ACTIONS !== 'true') return;
  for (const line of findingAnnotations(patchPath, outcome.unsafe, outcome.accepted)) process.stderr.write(`${line}\n`);
}

runCli(CREATE_CLI, async ({ values, positionals }) => {
  if (values['kernel-release'] && positionals.length > 0) {
    // Two trees named: building one while the user meant the other would be silently wrong.
    throw new UsageError(
      `--kernel-release=${values['kernel-release']} prepares its own source tree; give it or KERNEL_SOURCE (${positionals.join(' ')}), not both`,
    );
  }
  if (!values.patch) throw new UsageError('--patch=FILE is required');
  if (Boolean(values['sign-key']) !== Boolean(values['sign-cert']))
    throw new UsageError(
      values['sign-key'] ? '--sign-key needs --sign-cert=FILE (the certificate the target trusts)' : '--sign-cert needs --sign-key=FILE',
    );
  if (positionals.length !== 1 && !values['kernel-release']) {
    throw new UsageError(
      positionals.length === 0
        ? 'give KERNEL_SOURCE or --kernel-release=RELEASE'
        : `one KERNEL_SOURCE, not ${positionals.length} (${positionals.join(' ')})`,
    );
  }
  const sourceDir = positionals[0] ?? (await ensureTarget({ release: values['kernel-release'] })).sourceDir;
  // An interrupt (InterruptedError, the tree restored) exits 130/143 through its exitCode (runCli).
  const outcome = await createUpdate({
    sourceDir,
    patchPath: path.resolve(values.patch),
    configDir: values.config,
    id: values.id,
    outputDir: values['output-dir'],
    analyzeOnly: values['analyze-only'],
    allowToolchainMismatch: values['allow-toolchain-mismatch'],
    skipReproductionCheck: values['skip-reproduction-check'],
    hooksPath: values.hooks ? path.resolve(values.hooks) : undefined,
    accept: (values.accept ?? [])
      .flatMap((a) => a.split(','))
      .map((a) => a.trim())
      .filter(Boolean),
    signing:
      values['sign-key'] && values['sign-cert']
        ? { keyPath: path.resolve(values['sign-key']), certPath: path.resolve(values['sign-cert']) }
        : undefined,
  });
  annotate(path.resolve(values.patch), outcome);
  if (values.json) process.stdout.write(`${outcomeToJson(outcome)}\n`);
  // What was made goes to stdout (unless --json holds it); a refusal to stderr, as always.
  const message = outcomeMessage(outcome);
  if (outcome.outcome === 'no-changes') process.stderr.write(`${message}\n`);
  else if (outcome.outcome === 'unsafe') process.stderr.write(`ksplice-create: ${message}\n`);
  else if (!values.json) process.stdout.write(`${message}\n`);
  return exitCodeOf(outcome);
});
