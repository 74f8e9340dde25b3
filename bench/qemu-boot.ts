/**
 * Boot-to-shell time of the target kernel under QEMU (TCG here, KVM where it works), for the
 * harness's default options and the variants worth knowing: one host thread per vCPU, fewer
 * vCPUs, less memory, another -cpu model, the kernel command line (no `quiet loglevel=3`,
 * `mitigations=off`, `nokaslr`), and the uncompressed vmlinux booted through PVH (no
 * decompression, but no KASLR: the tests keep vmlinuz). Each variant boots `RUNS` times; the median
 * is reported.
 *
 * "boot" is launch → the init's first line (userspace); "run" is launch → power-off with one
 * trivial step, the floor under every guest check.
 *
 * Fastest, as measured here (2 cores, TCG; medians of 3 boots to userspace, 2026-12-01): the
 * uncompressed vmlinux through PVH on 1 vCPU is the one big win (2.6 s against 5.9 s for the
 * default); 1 vCPU saves 0.1-0.5 s (`mitigations=off nokaslr`, 1 vCPU: 5.5 s); the command line
 * alone does not measurably help: no `quiet` 5.9 s (the boot log is only ~27 kB of console),
 * `mitigations=off` 6.5 s, `nokaslr` 6.3 s, PVH with `mitigations=off` 2.5 s, all within the
 * run-to-run spread (±0.5 s); `-cpu max` costs over a second (README's table). The harness keeps
 * vmlinuz (KASLR, as users run it), 2 vCPUs (SMP paths exercised), 1024 MiB and `quiet
 * loglevel=3` (no slower than without, and the console then carries the kernel's messages from
 * userspace on, not the boot chatter that the final dmesg has anyway).
 *
 * Usage: npm run bench -- qemu-boot
 */
import { runGuest, type GuestOptions } from '../src/qemu/guest.ts';
import { ensureTarget } from '../src/setup/target-kernel.ts';
import type { BenchRow } from './run.ts';

const RUNS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export default async function qemuBoot(): Promise<BenchRow[]> {
  const target = await ensureTarget();
  const variants: [string, Partial<GuestOptions>][] = [
    ['default: vmlinuz, 2 vCPUs, 1024 MiB, single-threaded TCG', {}],
    ["multi-threaded TCG (QEMU's default; see TCG_THREAD_DEFAULT)", { tcgThread: 'multi' }],
    ['1 vCPU', { smp: 1 }],
    ['256 MiB', { memoryMiB: 256 }],
    ['-cpu max', { cpu: 'max' }],
    ['no quiet loglevel=3 (the whole boot log on the serial console)', { quietBoot: false }],
    ['mitigations=off', { appendCmdline: 'mitigations=off' }],
    ['nokaslr', { appendCmdline: 'nokaslr' }],
    ['mitigations=off nokaslr, 1 vCPU', { appendCmdline: 'mitigations=off nokaslr', smp: 1 }],
    ['vmlinux through PVH (no KASLR), 1 vCPU', { vmlinuz: target.vmlinux, smp: 1 }],
  ];
  const rows: BenchRow[] = [];
  for (const [label, variant] of variants) {
    const boots: number[] = [];
    const runs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const verdict = await runGuest({ vmlinuz: target.vmlinuz, script: 'true', log: () => {}, ...variant });
      if (!verdict.ok || verdict.timingsMs.boot === null) throw new Error(`${label}: the guest run failed: ${verdict.failures.join('; ')}`);
      boots.push(verdict.timingsMs.boot);
      runs.push(verdict.timingsMs.total);
      if (i === 0) process.stderr.write(`[bench] ${label}: ${verdict.accelerator}\n`);
    }
    rows.push({ name: `boot to shell, ${label}`, value: median(boots), unit: 'ms', note: `median of ${RUNS}` });
    rows.push({ name: `launch to power-off, ${label}`, value: median(runs), unit: 'ms', note: `median of ${RUNS}` });
  }
  return rows;
}
