/**
 * The guest steps that prove an update, as the article's admin would type them: take the tools
 * out of the tarball, check the original behaviour, `ksplice-apply`, check the new behaviour,
 * `ksplice-view`, `ksplice-undo`, check the original behaviour is back.
 *
 * Usage:
 *   const { files, steps } = updateSteps({ tarball: 'out/ksplice-ab12cd34.tar.gz', check: 'check.sh' });
 *   const verdict = await runGuest({ vmlinuz, files, steps });
 *
 * The check script (optional) runs as `sh check-<id>.sh original|applied|reverted` in /files
 * and exits 0 when the kernel behaves as that phase expects; anything else fails the step.
 */
import path from 'node:path';
import type { GuestFile, GuestStep } from './guest.ts';

export const UPDATE_TOOLS = ['ksplice-apply', 'ksplice-undo', 'ksplice-view'] as const;

export type UpdatePhase = 'original' | 'applied' | 'reverted';

/** The id in a tarball named ksplice-<id>.tar.gz. */
export function updateIdOf(tarball: string): string {
  const m = /^ksplice-([a-z0-9_-]+)\.tar\.gz$/i.exec(path.basename(tarball));
  if (!m) throw new Error(`${tarball}: an update tarball is named ksplice-<id>.tar.gz`);
  return m[1];
}

export interface UpdateStepsOptions {
  tarball: string;
  /** Host path of a check script, run in each phase ... */
  check?: string;
  /** ... or its text. */
  checkContent?: string;
  /** Per-step timeout (apply and undo may retry while a function is busy). Default 120 s. */
  stepTimeoutSeconds?: number;
  /** Prefix of every step name, to prove several updates in one boot (e.g. `arp-apply`). */
  stepPrefix?: string;
  /** Programs the check runs (static binaries), copied to /files. */
  checkPrograms?: string[];
}

export function updateSteps(options: UpdateStepsOptions): { id: string; files: GuestFile[]; steps: GuestStep[] } {
  const id = updateIdOf(options.tarball);
  const tarName = path.basename(options.tarball);
  const timeoutSeconds = options.stepTimeoutSeconds ?? 120;
  const checkName = `check-${id}.sh`;
  const files: GuestFile[] = [{ guestName: tarName, hostPath: options.tarball }];
  if (options.check !== undefined) files.push({ guestName: checkName, hostPath: options.check, executable: true });
  else if (options.checkContent !== undefined) files.push({ guestName: checkName, content: options.checkContent, executable: true });
  for (const program of options.checkPrograms ?? []) files.push({ guestName: path.basename(program), hostPath: program, executable: true });
  const hasCheck = options.check !== undefined || options.checkContent !== undefined;
  const check = (phase: UpdatePhase): GuestStep[] =>
    hasCheck ? [{ name: `check-${phase}`, run: `sh ./${checkName} ${phase}`, timeoutSeconds }] : [];
  const steps: GuestStep[] = [
    // the tools travel in the tarball: the guest runs the ones the update was built with
    {
      name: 'tools',
      run: `tar -xzf ./${tarName} ${UPDATE_TOOLS.map((t) => `ksplice-${id}/${t}`).join(' ')} && mv ${UPDATE_TOOLS.map((t) => `ksplice-${id}/${t}`).join(' ')} . && chmod 755 ${UPDATE_TOOLS.join(' ')}`,
      timeoutSeconds,
    },
    ...check('original'),
    { name: 'apply', run: `ksplice-apply ./${tarName}`, timeoutSeconds },
    ...check('applied'),
    { name: 'view', run: `ksplice-view --id=${id}`, timeoutSeconds },
    { name: 'undo', run: `ksplice-undo ${id}`, timeoutSeconds },
    ...check('reverted'),
  ];
  const prefix = options.stepPrefix ? `${options.stepPrefix}-` : '';
  return { id, files, steps: steps.map((step) => ({ ...step, name: prefix + step.name })) };
}
