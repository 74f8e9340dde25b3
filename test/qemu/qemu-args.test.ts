// QEMU's argument list (src/qemu/qemu-args.ts), without booting: the accelerator and its TCG
// threading, the CPU model, memory and vCPUs, the two serial ports (ttyS0 the console on stdio,
// ttyS1 the protocol socket), -no-reboot, the kernel and initramfs, and the kernel command line.
//
// Run: bash scripts/test.sh test/qemu/qemu-args.test.ts   (well under a second)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kernelCmdline, qemuArgs, TCG_THREAD_DEFAULT } from '../../src/qemu/qemu-args.ts';

const base = { vmlinuz: '/k/vmlinuz-6.1.0-50-amd64', initramfs: '/t/initramfs.cpio.gz', protocolSocket: '/t/protocol.sock' };

/** The value after `flag` (the first time it appears). */
function after(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i === -1 ? undefined : args[i + 1];
}

test("TCG defaults: single-threaded, QEMU's own CPU, 1 GiB, 2 vCPUs, no reboot, the kernel and initramfs given", () => {
  const args = qemuArgs({ ...base, accelerator: 'tcg' });
  assert.equal(TCG_THREAD_DEFAULT, 'single');
  assert.equal(after(args, '-accel'), 'tcg,thread=single');
  assert.equal(args.includes('-cpu'), false);
  assert.equal(after(args, '-m'), '1024');
  assert.equal(after(args, '-smp'), '2');
  assert.ok(args.includes('-no-reboot'));
  assert.ok(args.includes('-nographic'));
  assert.equal(after(args, '-kernel'), base.vmlinuz);
  assert.equal(after(args, '-initrd'), base.initramfs);
  assert.equal(after(args, '-append'), 'console=ttyS0 panic=-1 oops=panic softlockup_panic=1 quiet loglevel=3');
});

test('two serial ports in order: ttyS0 the console on stdio, ttyS1 the protocol socket', () => {
  const args = qemuArgs({ ...base, accelerator: 'tcg' });
  const serials = args.flatMap((a, i) => (a === '-serial' ? [args[i + 1]] : []));
  assert.deepEqual(serials, ['mon:stdio', 'chardev:protocol']);
  assert.equal(after(args, '-chardev'), 'socket,id=protocol,path=/t/protocol.sock');
});

test('KVM takes the host CPU; a given CPU model, memory, vCPUs and TCG threading are passed on', () => {
  const kvm = qemuArgs({ ...base, accelerator: 'kvm' });
  assert.equal(after(kvm, '-accel'), 'kvm');
  assert.equal(after(kvm, '-cpu'), 'host');
  const tcg = qemuArgs({ ...base, accelerator: 'tcg', cpu: 'max', memoryMiB: 2048, smp: 4, tcgThread: 'multi' });
  assert.equal(after(tcg, '-accel'), 'tcg,thread=multi');
  assert.equal(after(tcg, '-cpu'), 'max');
  assert.equal(after(tcg, '-m'), '2048');
  assert.equal(after(tcg, '-smp'), '4');
  // the thread option is TCG's only
  assert.equal(after(qemuArgs({ ...base, accelerator: 'kvm', tcgThread: 'multi' }), '-accel'), 'kvm');
});

test("the kernel command line: panics end the run unless told not to, quiet unless told not to, the caller's words last", () => {
  assert.equal(kernelCmdline({}), 'console=ttyS0 panic=-1 oops=panic softlockup_panic=1 quiet loglevel=3');
  assert.equal(kernelCmdline({ panicOnOops: false, quietBoot: false }), 'console=ttyS0 panic=-1');
  assert.equal(
    kernelCmdline({ appendCmdline: 'nokaslr mitigations=off' }),
    'console=ttyS0 panic=-1 oops=panic softlockup_panic=1 quiet loglevel=3 nokaslr mitigations=off',
  );
  assert.equal(
    after(qemuArgs({ ...base, accelerator: 'tcg', appendCmdline: 'nokaslr' }), '-append'),
    kernelCmdline({ appendCmdline: 'nokaslr' }),
  );
});

test('disks: none by default; each given image a raw virtio drive, in order (vda, vdb)', () => {
  assert.equal(qemuArgs({ ...base, accelerator: 'tcg' }).includes('-drive'), false);
  const args = qemuArgs({ ...base, accelerator: 'tcg', disks: ['/t/var.img', '/t/second.img'] });
  const drives = args.flatMap((a, i) => (a === '-drive' ? [args[i + 1]] : []));
  assert.deepEqual(drives, ['file=/t/var.img,format=raw,if=virtio', 'file=/t/second.img,format=raw,if=virtio']);
  // QEMU's option syntax: a comma in the file name is doubled
  assert.equal(qemuArgs({ ...base, accelerator: 'tcg', disks: ['/t/a,b.img'] }).at(-3), 'file=/t/a,,b.img,format=raw,if=virtio');
});
