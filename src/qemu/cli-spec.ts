/**
 * ksplice-qemu's option table: it parses the arguments (src/qemu/cli.ts, through runCli) and makes
 * `ksplice-qemu --help` (src/util/cli.ts). Data only, so tests read it without running the tool.
 */
import { defineCli } from '../util/cli.ts';

export const QEMU_CLI = defineCli({
  name: 'ksplice-qemu',
  summary: 'boot the target kernel in a QEMU guest, run steps (or prove an update), print a verdict',
  usage: [
    '[--kernel=VMLINUZ | --kernel-release=R] [--file=HOST[:NAME]]... [--step=NAME=COMMAND]... [--script=FILE] [--update=TARBALL [--check=FILE]] [--modules=NAME,...] [--json]',
  ],
  options: {
    kernel: { type: 'string', value: 'VMLINUZ', description: 'any bzImage/vmlinuz to boot' },
    'kernel-release': {
      type: 'string',
      value: 'R',
      description: 'a Debian release prepared by the setup (default 6.1.0-50-amd64), instead of --kernel',
    },
    file: {
      type: 'string',
      multiple: true,
      default: [],
      value: 'HOST[:NAME]',
      description: 'copied to /files in the guest (the steps run there, as root, PATH has /files)',
    },
    step: {
      type: 'string',
      multiple: true,
      default: [],
      value: 'NAME=COMMAND',
      description: 'a named shell step; steps run in the order given, each with --step-timeout',
    },
    script: { type: 'string', value: 'FILE', description: 'a guest script, run as one step named after the file' },
    update: {
      type: 'string',
      value: 'TARBALL',
      description:
        'prove an update: tools from the tarball, [check original], ksplice-apply, [check applied], ksplice-view, ksplice-undo, [check reverted]',
    },
    check: {
      type: 'string',
      value: 'FILE',
      description: 'with --update: a script run as `sh check.sh original|applied|reverted` (exit 0 = as expected)',
    },
    'keep-going': { type: 'boolean', default: false, description: 'run the remaining steps after one fails' },
    'step-timeout': { type: 'string', value: 'S', description: 'seconds each step may run (default 120)' },
    timeout: { type: 'string', value: 'S', description: 'seconds the whole guest may run' },
    smp: { type: 'string', value: 'N', description: 'virtual CPUs' },
    memory: { type: 'string', value: 'MiB', description: "the guest's memory" },
    cpu: { type: 'string', value: 'MODEL', description: "QEMU's -cpu model" },
    append: { type: 'string', value: 'ARGS', description: 'more kernel command line' },
    'tcg-thread': {
      type: 'string',
      value: 'single|multi',
      description:
        'under TCG, one host thread for all vCPUs (single, the default) or one each (multi: faster, but runs stale code after kernel text patching)',
    },
    modules: {
      type: 'string',
      multiple: true,
      default: [],
      value: 'NAME[,NAME]',
      description:
        "modules of the target kernel (and their dependencies) put in the guest's /lib/modules/<release> with a modules.dep: steps can modprobe/rmmod them",
    },
    'serial-log': {
      type: 'string',
      default: 'ksplice-qemu-serial.log',
      value: 'FILE',
      description: 'the whole console (kernel console and steps, line by line), kept',
    },
    json: {
      type: 'boolean',
      default: false,
      description: 'the verdict as one JSON object on stdout (booted, steps, splats, taint, timings)',
    },
  },
  notes: ['Progress (boot time, each step, the last console line every 5 s) and a summary go to stderr.'],
  exitCodes: ['ok', 'error', 'guestFailed', 'usage', 'sigint', 'sigterm'],
});
