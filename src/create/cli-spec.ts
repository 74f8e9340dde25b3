/**
 * ksplice-create's option table: it parses the arguments (src/create/cli.ts, through runCli) and
 * makes `ksplice-create --help` (src/util/cli.ts). Data only, so tests read it without running the tool.
 */
import { defineCli } from '../util/cli.ts';

export const CREATE_CLI = defineCli({
  name: 'ksplice-create',
  summary: 'build a rebootless update (ksplice-<id>.tar.gz) from a kernel source patch',
  usage: [
    '--patch=FILE [--config=DIR] [--id=ID] [--output-dir=DIR] [--json] [--analyze-only] [--allow-toolchain-mismatch] [--skip-reproduction-check] [--hooks=FILE.c] [--accept=SYMBOL[,SYMBOL]] [--sign-key=FILE --sign-cert=FILE] KERNEL_SOURCE',
    '--patch=FILE --kernel-release=RELEASE [options]   (a Debian release, prepared by the setup)',
    '--manifest=ksplice.yml [--kernel-release=RELEASE | KERNEL_SOURCE] [options]   (every patch × release of the project file)',
  ],
  positionals: true,
  options: {
    patch: { type: 'string', value: 'FILE', description: 'the source patch (unified diff, applied with -p1 to the kernel tree)' },
    config: {
      type: 'string',
      value: 'DIR',
      description: "the target's .config, System.map, build -> headers and shipped vmlinux (default: KERNEL_SOURCE/ksplice)",
    },
    id: { type: 'string', value: 'ID', description: 'the update id (default: derived from the patch)' },
    'output-dir': { type: 'string', value: 'DIR', description: 'where ksplice-<id>.tar.gz is written (default: the current folder)' },
    json: { type: 'boolean', default: false, description: 'print the outcome as one JSON object on stdout, whatever the outcome' },
    'analyze-only': { type: 'boolean', default: false, description: 'stop after the safety verdict: no modules built, no tarball' },
    'allow-toolchain-mismatch': {
      type: 'boolean',
      default: false,
      description: "build even if this machine's compiler is not the one that built the target",
    },
    'skip-reproduction-check': {
      type: 'boolean',
      default: false,
      description: 'build without the shipped vmlinux/.ko: run-pre matching at apply time is the only check',
    },
    'kernel-release': {
      type: 'string',
      value: 'RELEASE',
      description: 'a Debian release (6.1.0-50-amd64): the setup prepares its tree, instead of KERNEL_SOURCE',
    },
    hooks: {
      type: 'string',
      value: 'FILE.c',
      description: "the author's hook code (kmod/ksplice_hooks.h), compiled into the update module (docs/hooks.md)",
    },
    manifest: {
      type: 'string',
      value: 'ksplice.yml',
      description:
        'the project file: its patches (or series), ids, hooks and accepted findings, built one update per patch and kernel release (instead of --patch, --id, --hooks, --accept; docs/action.md)',
    },
    accept: {
      type: 'string',
      multiple: true,
      value: 'SYMBOL[,SYMBOL]',
      description: 'findings of the safety analysis the author has reviewed (their `symbol`): they no longer refuse the update',
    },
    'sign-key': {
      type: 'string',
      value: 'FILE',
      description:
        'sign ksplice.ko and the update module with this private key (PEM; KBUILD_SIGN_PIN if encrypted), for Secure Boot hosts; needs --sign-cert',
    },
    'sign-cert': {
      type: 'string',
      value: 'FILE',
      description: "the key's X.509 certificate (PEM or DER), the one the target trusts; its sha256 goes into the manifest",
    },
  },
  notes: [
    "With --manifest, each update is built as --patch with that entry's --id, --hooks and --accept would build it, for each of the file's kernel-releases (else --kernel-release or KERNEL_SOURCE); --json prints one line per update, and the exit code is the worst outcome (unsafe, then no changes). An error in the file names its line: FILE:LINE:COLUMN: message (exit 64).",
    'Without --json the tarball path is printed on stdout; a refusal and "No changes detected" go to stderr. In GitHub Actions (GITHUB_ACTIONS=true) each finding is also printed on stderr as an annotation of the patch file.',
  ],
  exitCodes: ['ok', 'error', 'unsafe', 'usage', 'noChanges', 'sigint', 'sigterm'],
});
