/**
 * The GitHub Action (action.yml → dist/index.js): for each patch, build the update with
 * ksplice-create (on the host, or in the pinned toolchain container; docker through @actions/exec),
 * for each kernel release, prove it in a QEMU guest,
 * publish the tarball (artifact, release asset), and report (outputs, annotations, job summary).
 *
 *   1. inputs          read and check every input (inputs.ts): the project file (manifest,
 *                      src/manifest/) or the shortcuts patch, id, hooks, accept, check-script
 *   2. setup           the host packages (every run, hostPackagesFor: a warm cache or a
 *                      kernel-source tree needs them too); per kernel release the target's
 *                      source, config, System.map and headers (with toolchain-image:
 *                      ksplice-setup in the container, with the network)
 *   3. build           ksplice-create: toolchain check, pre build, post build, diff, module build,
 *                      tarball, each stage its own log group (in the container: no network)
 *   4. QEMU            the article's proof: check, apply, check, view, undo, check (src/qemu/update-steps.ts);
 *                      a kernel-source config dir without vmlinuz skips it with a notice (proofPlan)
 *   5. publish         workflow artifact; release asset on release-tag
 *   6. report          outputs, an error annotation on the patch per unsafe finding, the job summary
 * The run fails on any refused patch, failed guest check or kernel splat.
 *
 * Usage: `await run()` (index.ts calls it; tests call it with the Actions environment set).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';
import { createUpdate } from '../create/create.ts';
import { findingAnnotations } from '../create/annotations.ts';
import { exitCodeOf, outcomeFromJson, outcomeMessage, OUTCOME_EXIT_CODES, type CreateOutcome } from '../create/outcome.ts';
import { runGuest, verdictJson, type GuestVerdict } from '../qemu/guest.ts';
import { updateSteps } from '../qemu/update-steps.ts';
import { defaultCacheDir, ensureTarget } from '../setup/target-kernel.ts';
import * as actionsExec from '@actions/exec';
import { ProjectFileError } from '../manifest/project-file.ts';
import { enforceAcceptRules } from '../manifest/updates.ts';
import { ensureHostPackages } from '../setup/host-packages.ts';
import type { LogSink } from '../util/progress.ts';
import { projectRoot } from '../util/repo-root.ts';
import { dockerArgv } from './container.ts';
import { InputError } from './errors.ts';
import { acceptOf, hostPackagesFor, proofPlan, readInputs, type ActionInputs, type ActionUpdate } from './inputs.ts';
import { attachToRelease, uploadTarball } from './publish.ts';
import { writeSummary, type UpdateResult } from './summary.ts';

interface Target {
  sourceDir: string;
  configDir?: string;
  vmlinuz: string | null;
  release: string;
}

/**
 * The line that opens a log group, and its title: each ksplice-create stage ("[ksplice-create
 * 5/8] diff"), and inside the double build its pre build and post build, each a group of its own.
 */
function groupTitle(line: string): string | null {
  const stage = /^\[ksplice-create \d+\/\d+\] (.*)/.exec(line);
  if (stage) return `ksplice-create: ${stage[1]}`;
  const build = /^\[double build \d+\/\d+\] ((?:pre|post) build.*)/.exec(line);
  return build ? `ksplice-create: ${build[1]}` : null;
}

/** ksplice-create's progress lines, one log group per stage (groups do not nest: each closes the last). */
function groupedLog(): { log: LogSink; close: () => void } {
  let open = false;
  const close = () => {
    if (open) core.endGroup();
    open = false;
  };
  return {
    log: (line) => {
      const title = groupTitle(line);
      if (title) {
        close();
        core.startGroup(title);
        open = true;
      }
      core.info(line);
    },
    close,
  };
}

/** The runner's user, whom the container runs as (container.ts). */
function runnerUser(): string {
  return `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
}

/** docker, through @actions/exec: each output line to `onLine`, the exit code whatever it is. */
async function docker(argv: string[], onLine: (line: string) => void): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  core.info(`docker ${argv.join(' ')}`);
  return actionsExec.getExecOutput('docker', argv, {
    ignoreReturnCode: true,
    silent: true,
    listeners: { stdline: onLine, errline: onLine },
  });
}

function containerRun(inputs: ActionInputs) {
  return {
    image: inputs.toolchainImage!,
    actionPath: projectRoot(),
    workspace: process.env.GITHUB_WORKSPACE ?? process.cwd(),
    cacheDir: defaultCacheDir(),
    user: runnerUser(),
  };
}

/**
 * ksplice-setup in the pinned container, with the network: it downloads Debian's packages and
 * prepares the tree with the image's gcc-12 into the mounted cache, and checks the toolchain.
 * The build runs after it without network, on what it left there.
 */
async function setupInContainer(inputs: ActionInputs, release: string): Promise<Target> {
  const argv = dockerArgv({
    ...containerRun(inputs),
    tool: 'setup',
    network: true,
    mounts: [],
    args: [`--release=${release}`, '--json'],
  });
  const result = await docker(argv, (line) => core.info(line));
  if (result.exitCode !== 0) {
    throw new Error(
      `ksplice-setup ${release} in ${inputs.toolchainImage!.reference} failed (exit ${result.exitCode}): ${lastLines(result.stderr)}`,
    );
  }
  const target = JSON.parse(result.stdout) as { sourceDir: string; configDir: string; vmlinuz: string; release: string };
  return { sourceDir: target.sourceDir, configDir: target.configDir, vmlinuz: target.vmlinuz, release: target.release };
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-5).join('\n');
}

/** The kernels to build for: a tree of your own, or each Debian release (null: kernel-source). */
function targetsOf(inputs: ActionInputs): (string | null)[] {
  return inputs.kernelSource ? [null] : inputs.kernelReleases;
}

/** Host packages are ensured by the caller on every run (hostPackagesFor), warm cache or not. */
async function prepareTarget(inputs: ActionInputs, release: string | null): Promise<Target> {
  if (inputs.kernelSource || release === null) {
    const source = inputs.kernelSource!;
    const configDir = inputs.kernelConfig ?? path.join(source, 'ksplice');
    const vmlinuz = path.join(configDir, 'vmlinuz');
    return { sourceDir: source, configDir, vmlinuz: existsSync(vmlinuz) ? vmlinuz : null, release: 'custom' };
  }
  if (inputs.toolchainImage) return setupInContainer(inputs, release);
  const target = await ensureTarget({ release, log: core.info, skipHostPackages: true });
  return { sourceDir: target.sourceDir, vmlinuz: target.vmlinuz, release: target.release };
}

/** The Action's record of a create outcome, the same from both paths (an accept's rule enforced). */
async function fromCreate(update: ActionUpdate, created: CreateOutcome): Promise<UpdateResult> {
  const patch = update.patch;
  const { outcome: o, removedTarball } = enforceAcceptRules(created, update.accept);
  if (removedTarball) await rm(removedTarball, { force: true });
  return {
    patch,
    outcome: o.outcome,
    id: o.tarball ? o.id : null,
    tarball: o.tarball,
    changed: o.changed,
    unsafe: o.unsafe,
    exitCode: exitCodeOf(o),
    message: o.outcome === 'built' ? '' : outcomeMessage(o),
    verdict: null,
  };
}

/** ksplice-create on the host, through its API. */
async function buildOnHost(target: Target, update: ActionUpdate, outputDir: string): Promise<UpdateResult> {
  const { log, close } = groupedLog();
  try {
    return await fromCreate(
      update,
      await createUpdate({
        sourceDir: target.sourceDir,
        configDir: target.configDir,
        patchPath: update.patch,
        id: update.id ?? undefined,
        hooksPath: update.hooks ?? undefined,
        accept: acceptOf(update),
        outputDir,
        log,
      }),
    );
  } finally {
    close();
  }
}

/** Exit codes that come with an outcome on stdout (--json); any other is an error. */
const OUTCOME_EXITS: readonly number[] = Object.values(OUTCOME_EXIT_CODES);

/**
 * ksplice-create in the pinned container (container.ts), on the tree the setup prepared; its
 * --json answer read back. The output folder, the patch and a tree of your own are mounted too.
 */
async function buildInContainer(inputs: ActionInputs, target: Target, update: ActionUpdate, outputDir: string): Promise<UpdateResult> {
  const accept = acceptOf(update);
  const args = [
    `--patch=${update.patch}`,
    `--output-dir=${outputDir}`,
    '--json',
    ...(update.id ? [`--id=${update.id}`] : []),
    ...(update.hooks ? [`--hooks=${update.hooks}`] : []),
    ...(accept.length > 0 ? [`--accept=${accept.join(',')}`] : []),
    ...(target.configDir ? [`--config=${target.configDir}`] : []),
    target.sourceDir,
  ];
  const mounts = [
    outputDir,
    update.patch,
    ...(update.hooks ? [update.hooks] : []),
    ...(inputs.kernelSource ? [inputs.kernelSource] : []),
    ...(target.configDir ? [target.configDir] : []),
  ];
  await mkdir(outputDir, { recursive: true }); // docker would make a missing one, as root
  const argv = dockerArgv({ ...containerRun(inputs), tool: 'create', network: false, mounts, args });
  const { log, close } = groupedLog();
  const result = await docker(argv, log).finally(close);
  const json = result.stdout.trim().split('\n').pop() ?? '';
  const exitCode = result.exitCode ?? 1;
  if (!OUTCOME_EXITS.includes(exitCode) || !json.startsWith('{')) {
    throw new Error(`ksplice-create in ${inputs.toolchainImage!.reference} failed (exit ${exitCode}): ${lastLines(result.stderr)}`);
  }
  const outcome = outcomeFromJson(json);
  if (exitCodeOf(outcome) !== exitCode)
    throw new Error(`ksplice-create in ${inputs.toolchainImage!.reference} exited ${exitCode} with outcome ${outcome.outcome}`);
  return fromCreate(update, outcome);
}

async function prove(vmlinuz: string, check: string | null, update: UpdateResult, outputDir: string): Promise<GuestVerdict> {
  const proof = updateSteps({ tarball: update.tarball!, check: check ?? undefined });
  return runGuest({
    vmlinuz,
    files: proof.files,
    steps: proof.steps,
    serialLogPath: path.join(outputDir, `serial-${update.id}.log`),
    log: core.info,
  });
}

async function publish(inputs: ActionInputs, update: UpdateResult): Promise<void> {
  if (inputs.uploadArtifact) update.artifact = (await uploadTarball(update.tarball!)).name;
  if (inputs.releaseTag) {
    if (!inputs.githubToken) throw new InputError('release-tag needs github-token');
    const asset = await attachToRelease({
      token: inputs.githubToken,
      repository: process.env.GITHUB_REPOSITORY ?? '',
      tag: inputs.releaseTag,
      tarball: update.tarball!,
      overwrite: inputs.overwrite,
      apiUrl: process.env.GITHUB_API_URL,
    });
    if (asset.replaced) core.info(`${path.basename(update.tarball!)} was already on release ${inputs.releaseTag}: replaced by this build`);
    if (asset.unchanged)
      core.info(`${path.basename(update.tarball!)} was already on release ${inputs.releaseTag} with these very bytes: kept`);
    update.releaseAsset = asset.url;
  }
}

function setOutputs(results: UpdateResult[]): void {
  const built = results.filter((r) => r.tarball);
  core.setOutput('update-id', built.map((r) => r.id).join(' '));
  core.setOutput('tarball', built.map((r) => r.tarball).join('\n'));
  core.setOutput('changed-functions', JSON.stringify(results.flatMap((r) => r.changed.map((c) => ({ update: r.id, ...c })))));
  const verdicts = built.filter((r) => r.verdict).map((r) => ({ update: r.id, ...verdictJson(r.verdict!) }));
  core.setOutput('verdict', verdicts.length ? JSON.stringify(verdicts) : 'skipped');
}

function failureOf(r: UpdateResult): string | null {
  const name = path.basename(r.patch);
  if (r.outcome === 'unsafe') return `${name}: cannot be applied safely without custom code (${r.unsafe.map((u) => u.symbol).join(', ')})`;
  if (r.outcome === 'no-changes') return `${name}: No changes detected`;
  if (r.verdict && !r.verdict.ok) return `${name}: the QEMU proof failed: ${r.verdict.failures.join('; ')}`;
  return null;
}

/** A project file's problems: one error annotation each, on its line of the file (relative to the workspace, as GitHub wants it). */
function annotateProjectFile(e: ProjectFileError): void {
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  for (const p of e.problems) {
    const relative = path.relative(workspace, p.at.file);
    const file = relative.startsWith('..') || path.isAbsolute(relative) ? p.at.file : relative;
    core.error(`${file}:${p.at.line}:${p.at.column}: ${p.message}`, {
      title: path.basename(file),
      file,
      startLine: p.at.line,
      startColumn: p.at.column,
    });
  }
  process.exitCode = core.ExitCode.Failure;
}

export async function run(): Promise<void> {
  try {
    const inputs = await readInputs((name) => core.getInput(name));
    const outputDir = path.join(process.env.RUNNER_TEMP ?? process.env.GITHUB_WORKSPACE ?? process.cwd(), 'ksplice-out');
    const results: UpdateResult[] = [];
    // Every run, whatever the cache holds: a warm cache or a kernel-source tree still needs the tools.
    const packages = hostPackagesFor(inputs);
    if (packages.length > 0) await core.group('setup: host packages', () => ensureHostPackages(packages, core.info));
    for (const release of targetsOf(inputs)) {
      const target = await core.group(`setup: the target kernel${release ? ` ${release}` : ''}`, () => prepareTarget(inputs, release));
      for (const entry of inputs.updates) {
        const update = inputs.toolchainImage
          ? await buildInContainer(inputs, target, entry, outputDir)
          : await buildOnHost(target, entry, outputDir);
        for (const line of findingAnnotations(entry.patch, update.unsafe, [])) process.stdout.write(`${line}\n`);
        const plan = proofPlan(inputs, target);
        if (update.tarball && plan.prove)
          update.verdict = await core.group(`QEMU: prove update ${update.id}`, () => prove(plan.vmlinuz, entry.check, update, outputDir));
        else if (update.tarball && !plan.prove && plan.notice) core.notice(`${path.basename(entry.patch)}: ${plan.notice}`);
        if (update.tarball && (!update.verdict || update.verdict.ok))
          await core.group(`publish ${path.basename(update.tarball)}`, () => publish(inputs, update));
        results.push(update);
      }
    }
    setOutputs(results);
    await writeSummary(results);
    const failures = results.map(failureOf).filter((f): f is string => f !== null);
    if (failures.length > 0) core.setFailed(failures.join('\n'));
  } catch (e) {
    if (e instanceof ProjectFileError) annotateProjectFile(e);
    else core.setFailed((e as Error).message);
  }
}
