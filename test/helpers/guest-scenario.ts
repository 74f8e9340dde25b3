/**
 * Test helper: one scenario script (test/fixtures/.../scenario-*.sh, busybox sh) run in a guest of
 * the target kernel through the harness (src/qemu/guest.ts), with host files in /files, and the
 * run asserted clean: the guest booted, the scenario ran to its end and exited 0, no kernel splat,
 * no taint beyond the expected. Scenario lines "CHECK name: value" come back as a map for the
 * test's own assertions; the console is kept in `keepLogAs` for inspection.
 *
 * Usage:
 *   const run = await runScenario({ vmlinuz, scenario: path.join(FIX, 'scenario-tools.sh'), files: [ko, tarball] });
 *   assert.equal(run.checks.get('apply-rc'), '0');
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { runGuest, TAINT_EXPECTED_FROM_MODULES, type GuestOptions, type GuestVerdict } from '../../src/qemu/guest.ts';

export interface ScenarioOptions extends Pick<GuestOptions, 'smp' | 'cpu' | 'appendCmdline' | 'timeoutSeconds' | 'modules' | 'disks'> {
  vmlinuz: string;
  scenario: string;
  /** Host files, copied to /files under their own names. */
  files: string[];
  /** Taint bits the scenario may add on top of our modules' (e.g. 1 << 3 after `rmmod -f`). */
  extraTaint?: number;
  /** Where to keep the console (a file path), for reading after a failure. */
  keepLogAs?: string;
}

export interface ScenarioRun {
  checks: Map<string, string>;
  dmesg: string;
  /** The scenario's own output. */
  output: string;
  verdict: GuestVerdict;
}

export function parseChecks(log: string): Map<string, string> {
  const checks = new Map<string, string>();
  for (const m of log.matchAll(/^CHECK ([^:]+): ?(.*)$/gm)) checks.set(m[1], m[2]);
  return checks;
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioRun> {
  const name = path.basename(options.scenario);
  if (options.keepLogAs) await mkdir(path.dirname(options.keepLogAs), { recursive: true });
  const verdict = await runGuest({
    vmlinuz: options.vmlinuz,
    files: [{ guestName: name, hostPath: options.scenario }, ...options.files.map((f) => ({ guestName: path.basename(f), hostPath: f }))],
    steps: [{ name: name.replace(/\.sh$/, ''), run: `sh ./${name}`, timeoutSeconds: options.timeoutSeconds ?? 300 }],
    timeoutSeconds: (options.timeoutSeconds ?? 300) + 60,
    smp: options.smp,
    cpu: options.cpu,
    appendCmdline: options.appendCmdline,
    modules: options.modules,
    disks: options.disks,
    allowedTaint: TAINT_EXPECTED_FROM_MODULES | (options.extraTaint ?? 0),
    serialLogPath: options.keepLogAs,
    log: () => {},
  });
  const output = verdict.steps[0].output;
  const tail = verdict.serialLog.replace(/\r/g, '').slice(-3000);
  assert.ok(verdict.booted, `the guest booted:\n${tail}`);
  assert.equal(verdict.steps[0].status, 'passed', `${name} ran to its end and exited 0:\n${tail}`);
  assert.deepEqual(verdict.splats, [], 'no kernel splat in the guest');
  assert.equal(verdict.failures.join('; '), '', 'a clean run');
  return {
    checks: parseChecks(output.replace(/\r/g, '')),
    dmesg: verdict.dmesg.replace(/\r/g, ''),
    output: output.replace(/\r/g, ''),
    verdict,
  };
}
