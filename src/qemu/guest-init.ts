/**
 * The guest's side of the harness: its initramfs (busybox, the files in /files, one script per
 * step in /steps) and its init, which writes the protocol that src/qemu/judge.ts reads.
 *
 * Usage:
 *   const initramfs = await buildInitramfs(dir, files, steps, keepGoing);   // dir/initramfs.cpio.gz
 *   const initramfs = await buildInitramfs(dir, files, steps, keepGoing, await guestModules(...));
 *   // ... and the target's modules at /lib/modules/<release>/ (guest-modules.ts), /sbin/modprobe
 *
 * Protocol on ttyS1 (the init below): KSPLICE-GUEST-START once userspace runs,
 * KSPLICE-TAINT=<n>, then per step KSPLICE-STEP-BEGIN <i> / its output / KSPLICE-STEP-END <i> rc=<n>
 * (KSPLICE-STEP-KILLED <i> just before the END when its own timeout killed it: the step runs in a
 * session of its own, and the whole session is killed; the watchdog waits in poll() on a fifo nobody writes, not
 * in nanosleep, so a test that keeps do_nanosleep busy meets only its own sleepers),
 * KSPLICE-TAINT=<n> again, the whole dmesg between KSPLICE-DMESG-BEGIN/-END, and a forced
 * power-off. Steps stop at the first failure unless `keepGoing`. ttyS0 stays the kernel's console
 * alone; the init raises its loglevel once userspace runs, so every later kernel message reaches
 * the host as it is printed.
 */
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runShell } from '../util/exec.ts';
import type { GuestModules } from './guest-modules.ts';

export interface GuestFile {
  /** A plain name: the file lands in /files/<guestName>. */
  guestName: string;
  /** Copy this host file ... */
  hostPath?: string;
  /** ... or write this content. */
  content?: string | Buffer;
  /** File mode; `executable: true` is 0o755. Default 0o644. */
  mode?: number;
  executable?: boolean;
}

export interface GuestStep {
  name: string;
  /** Shell text run by busybox sh in /files (PATH includes /files). */
  run: string;
  /** Killed (with everything it started) after this long. Default 120 s. */
  timeoutSeconds?: number;
}

export const DEFAULT_STEP_TIMEOUT = 120;

export function initScript(steps: GuestStep[], keepGoing: boolean): string {
  const calls = steps.map((step, i) => `run_step ${i} ${step.timeoutSeconds ?? DEFAULT_STEP_TIMEOUT}`).join('\n');
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/files
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# the kernel's request_module() runs /sbin/modprobe: only when the run ships modules
[ -d /lib/modules ] && ln -s /bin/busybox /sbin/modprobe
# the protocol and the steps' output go to ttyS1; ttyS0 stays the kernel's console alone
exec </dev/null >/dev/ttyS1 2>&1
# booted quiet for speed; from here on every kernel message reaches the console as it is printed
echo 8 4 1 8 > /proc/sys/kernel/printk
echo KSPLICE-GUEST-START
echo "KSPLICE-TAINT=$(cat /proc/sys/kernel/tainted)"
cd /files
failed=0
run_step() {
  if [ "$failed" != 0 ] && [ ${keepGoing ? 1 : 0} = 0 ]; then return; fi
  mkfifo /tmp/watchdog.$1
  echo "KSPLICE-STEP-BEGIN $1"
  setsid sh /steps/$1.sh </dev/null 2>&1 &
  pid=$!
  # the mark is made before the kill, so it is there when wait returns (an echo after the kill
  # raced with the kill of the watchdog below and was sometimes lost)
  (read -t "$2" x <>/tmp/watchdog.$1; touch /tmp/killed.$1; kill -9 -$pid 2>/dev/null) &
  dog=$!
  wait $pid
  rc=$?
  kill $dog 2>/dev/null
  [ -e /tmp/killed.$1 ] && echo "KSPLICE-STEP-KILLED $1"
  echo "KSPLICE-STEP-END $1 rc=$rc"
  [ $rc = 0 ] || failed=1
}
${calls}
echo "KSPLICE-TAINT=$(cat /proc/sys/kernel/tainted)"
echo KSPLICE-DMESG-BEGIN
dmesg
echo KSPLICE-DMESG-END
poweroff -f
`;
}

/**
 * A gzip'd newc cpio with busybox, the init, the steps and the files, written into `dir`; with
 * `modules`, their .ko files and index at /lib/modules/<release>/.
 */
export async function buildInitramfs(
  dir: string,
  files: GuestFile[],
  steps: GuestStep[],
  keepGoing: boolean,
  modules?: GuestModules,
): Promise<string> {
  const root = path.join(dir, 'root');
  for (const sub of ['bin', 'sbin', 'proc', 'sys', 'dev', 'tmp', 'files', 'steps']) await mkdir(path.join(root, sub), { recursive: true });
  await copyFile('/bin/busybox', path.join(root, 'bin/busybox'));
  await writeFile(path.join(root, 'init'), initScript(steps, keepGoing), { mode: 0o755 });
  for (const [i, step] of steps.entries()) await writeFile(path.join(root, 'steps', `${i}.sh`), step.run + '\n');
  for (const file of files) {
    if (!/^[\w+][\w.+-]*$/.test(file.guestName)) throw new Error(`guest file name must be a plain name: ${file.guestName}`);
    if ((file.hostPath === undefined) === (file.content === undefined))
      throw new Error(`guest file ${file.guestName}: give hostPath or content (one of them)`);
    const dest = path.join(root, 'files', file.guestName);
    if (file.hostPath !== undefined) await copyFile(file.hostPath, dest);
    else await writeFile(dest, file.content!);
    await chmod(dest, file.mode ?? (file.executable ? 0o755 : 0o644));
  }
  if (modules) {
    const modulesRoot = path.join(root, 'lib', 'modules', modules.release);
    for (const m of modules.files) {
      const dest = path.join(modulesRoot, m.guestPath);
      if (!dest.startsWith(modulesRoot + path.sep)) throw new Error(`module path outside /lib/modules: ${m.guestPath}`);
      await mkdir(path.dirname(dest), { recursive: true });
      await copyFile(m.hostPath, dest);
    }
    await mkdir(modulesRoot, { recursive: true });
    for (const [name, content] of Object.entries(modules.metadata)) await writeFile(path.join(modulesRoot, name), content);
  }
  const image = path.join(dir, 'initramfs.cpio.gz');
  await runShell('cd "$1" && find . | cpio -o -H newc --quiet | gzip -1 > "$2"', [root, image]);
  return image;
}
