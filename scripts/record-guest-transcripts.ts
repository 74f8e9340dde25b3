/**
 * Records real guest runs of Debian's 6.1.0-50 kernel as transcripts (what src/qemu/launch.ts
 * brings back, nothing judged) into test/fixtures/qemu/transcript-<name>.json, for
 * test/qemu/judge.test.ts to judge without booting.
 *
 * Usage (boots QEMU, so under the guest lock; all scenarios, or the ones named):
 *   flock /tmp/ksa-guest.lock node --import tsx scripts/record-guest-transcripts.ts [NAME]...
 *
 * Each file holds the steps and the policy the run had, and the transcript: console (ttyS0) and
 * protocol (ttyS1) as received, QEMU's own messages, exit, timeout and timings. The merged serial
 * log is left out (`serialLog: ""`: it is the other three, interleaved) and the kernel path is
 * written with `~` for the home folder. The `update` scenario makes a real update with
 * ksplice-create (corpus/examples/proc_cmdline.patch) and proves it with ksplice-qemu's steps;
 * KSPLICE_RECORD_TARBALL=ksplice-<id>.tar.gz gives it one made before (so the build does not hold
 * the guest lock).
 */
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildExternalModule } from '../src/kbuild/external-module.ts';
import { guestTranscript, type GuestOptions } from '../src/qemu/guest.ts';
import { updateSteps } from '../src/qemu/update-steps.ts';
import { ensureTarget, type TargetKernel } from '../src/setup/target-kernel.ts';
import { run } from '../src/util/exec.ts';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const OUT = path.join(REPO, 'test/fixtures/qemu');

type Scenario = (ctx: { target: TargetKernel; scratch: string }) => Promise<Omit<GuestOptions, 'vmlinuz'>>;

async function warnModule(target: TargetKernel, scratch: string): Promise<string> {
  const dir = path.join(scratch, 'warn');
  await mkdir(dir, { recursive: true });
  await copyFile(path.join(REPO, 'test/fixtures/qemu/warn.c'), path.join(dir, 'warn.c'));
  return buildExternalModule({ dir, moduleName: 'warn', parts: ['warn.o'], headersDir: target.headersDir });
}

const STOP_STEPS = [
  { name: 'first', run: 'echo first' },
  { name: 'check', run: 'echo checking; test -e /no/such/file' },
  { name: 'later', run: 'echo later' },
];

const SCENARIOS: Record<string, { about: string; scenario: Scenario }> = {
  update: {
    about:
      'a real update of corpus/examples/proc_cmdline.patch proved: tools, check original, apply, check applied, view, undo, check reverted; every step passes',
    scenario: async ({ target, scratch }) => {
      let tarball = process.env.KSPLICE_RECORD_TARBALL;
      if (!tarball) {
        await run(path.join(REPO, 'node_modules/.bin/tsx'), [
          path.join(REPO, 'src/create/cli.ts'),
          `--patch=${path.join(REPO, 'corpus/examples/proc_cmdline.patch')}`,
          `--output-dir=${scratch}`,
          target.sourceDir,
        ]);
        const made = (await readdir(scratch)).find((f) => /^ksplice-.*\.tar\.gz$/.test(f));
        if (!made) throw new Error('ksplice-create wrote no tarball');
        tarball = path.join(scratch, made);
      }
      return updateSteps({ tarball, check: path.join(REPO, 'test/fixtures/qemu/check-cmdline.sh'), stepTimeoutSeconds: 120 });
    },
  },
  'failing-step': {
    about: 'three steps, the second fails (exit 1): the init stops there, the third never begins',
    scenario: async () => ({ steps: STOP_STEPS }),
  },
  'failing-step-keep-going': {
    about: 'the same three steps with keepGoing: the third runs after the failed second',
    scenario: async () => ({ steps: STOP_STEPS, keepGoing: true }),
  },
  'step-timeout': {
    about: 'a step that hangs, killed at its own 3 s timeout with what it started, then a step that passes (keepGoing)',
    scenario: async () => ({
      steps: [
        { name: 'hang', run: 'sleep 1000 & echo about to hang; sleep 1000', timeoutSeconds: 3 },
        { name: 'after', run: 'if pidof sleep; then echo a sleep survived; exit 1; fi; echo clean' },
      ],
      keepGoing: true,
    }),
  },
  'warn-then-hang': {
    about: 'warn.ko (WARN_ON(1)) loads, then a step hangs past the whole-run timeout of 25 s: QEMU killed, no final dmesg or taint',
    scenario: async ({ target, scratch }) => ({
      files: [{ guestName: 'warn.ko', hostPath: await warnModule(target, scratch) }],
      steps: [
        { name: 'warn', run: 'insmod warn.ko' },
        { name: 'hang', run: 'echo about to hang; sleep 1000' },
      ],
      timeoutSeconds: 25,
    }),
  },
  warn: {
    about: 'warn.ko (WARN_ON(1)) loads and the step passes: the WARNING on the console and in the final dmesg, taint W',
    scenario: async ({ target, scratch }) => ({
      files: [{ guestName: 'warn.ko', hostPath: await warnModule(target, scratch) }],
      script: 'insmod warn.ko',
    }),
  },
  'splat-like-output': {
    about: 'a step prints splat-like text (BUG, Oops, WARNING, panic, soft lockup) on ttyS1; the kernel says nothing of it',
    scenario: async () => ({
      files: [
        {
          guestName: 'fake.txt',
          content:
            [
              '[    1.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000',
              'Oops: 0002 [#1] PREEMPT SMP NOPTI',
              'WARNING: CPU: 0 PID: 1 at fake.c:1 fake+0x0/0x1',
              'Kernel panic - not syncing: not really',
            ].join('\n') + '\n',
        },
      ],
      steps: [{ name: 'print', run: 'cat fake.txt; echo "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [sh:1]" >&2' }],
    }),
  },
  'empty-dmesg': {
    about: 'a step clears the kernel log (dmesg -c): the guest finishes with an empty final dmesg',
    scenario: async () => ({ script: 'dmesg -c >/dev/null && echo cleared' }),
  },
  panic: {
    about: 'a step crashes the kernel (sysrq c): oops=panic and -no-reboot end the run at once, mid-step; the next step never begins',
    scenario: async () => ({
      steps: [
        { name: 'crash', run: 'echo c > /proc/sysrq-trigger', timeoutSeconds: 200 },
        { name: 'never', run: 'true' },
      ],
    }),
  },
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  for (const name of names) if (!SCENARIOS[name]) throw new Error(`no scenario ${name}: ${Object.keys(SCENARIOS).join(', ')}`);
  const target = await ensureTarget();
  for (const name of names.length > 0 ? names : Object.keys(SCENARIOS)) {
    const scratch = path.join(os.tmpdir(), `ksa-record-${name}-${process.pid}`);
    await mkdir(scratch, { recursive: true });
    try {
      const options = await SCENARIOS[name].scenario({ target, scratch });
      const { transcript, steps, policy } = await guestTranscript({
        vmlinuz: target.vmlinuz,
        ...options,
        log: (line) => process.stderr.write(`${name}: ${line}\n`),
      });
      const fixture = {
        fixture:
          `TEST FIXTURE: a real guest run of Debian's ${path.basename(target.vmlinuz).replace(/^vmlinuz-/, '')}: ${SCENARIOS[name].about}. ` +
          `Recorded by scripts/record-guest-transcripts.ts on ${new Date().toISOString().slice(0, 10)}; judged by test/qemu/judge.test.ts.`,
        steps: steps.map(({ name: stepName, run: runText, timeoutSeconds }) => ({
          name: stepName,
          run: runText,
          ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
        })),
        policy: { keepGoing: policy.keepGoing },
        transcript: { ...transcript, kernel: transcript.kernel.replace(os.homedir(), '~'), serialLog: '' },
      };
      const file = path.join(OUT, `transcript-${name}.json`);
      await writeFile(file, JSON.stringify(fixture, null, 1) + '\n');
      process.stderr.write(`${name}: ${path.relative(REPO, file)} (${transcript.timingsMs.total} ms)\n`);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
}

main().catch((e: Error) => {
  process.stderr.write(`record-guest-transcripts: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
