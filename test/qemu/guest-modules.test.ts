// Modules of the target kernel in the guest (runGuest's `modules`, src/qemu/guest-modules.ts).
// Without booting: which modules a name needs, from modules.dep text (dependencies first,
// soft dependencies through exact aliases, built-in and unknown names apart), the index files
// filtered to them, the modules folder next to a prepared vmlinuz, and an unknown module refused
// before anything boots. One boot of Debian's 6.1.0-50 for the rest: `modprobe sch_multiq` and a
// multiq qdisc added through rtnetlink (test/fixtures/modules/qdisc-netlink.c: busybox's tc
// only shows one) on a multiqueue dummy device (dummy.ko loaded by the kernel on demand), rmmod
// refused while the qdisc holds it, then the qdisc removed, `rmmod sch_multiq`, `modprobe` again
// and the qdisc back; `modprobe ext4` and an ext4
// image made by the host's mke2fs mounted through loop.ko, a host file read and a guest file
// written, read back after a remount (the mount's crc32c comes from the kernel's autoload through
// the guest's modules.alias: busybox's modprobe ignores soft dependencies); an SCTP association over loopback with sctp.ko loaded by
// the socket itself (sctp-loopback.c); lsmod and modinfo; no splat, no taint (Debian's modules are
// signed with the key built into its kernel).
//
// Run: flock /tmp/ksa-guest.lock bash scripts/test.sh test/qemu/guest-modules.test.ts   (about 1 min under TCG)
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { filterIndex, modulesDirFor, moduleName, parseModulesDep, resolveModules } from '../../src/qemu/guest-modules.ts';
import { runGuest } from '../../src/qemu/guest.ts';
import { ensureTarget, type TargetKernel } from '../../src/setup/target-kernel.ts';
import { run } from '../../src/util/exec.ts';
import { fixture, scratchDir } from '../helpers/paths.ts';

const DEP = `kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/lib/crc16.ko:
kernel/crypto/crc32c_generic.ko:
kernel/arch/x86/crypto/crc32c-intel.ko:
kernel/lib/libcrc32c.ko:
kernel/net/ipv4/udp_tunnel.ko:
kernel/net/ipv6/ip6_udp_tunnel.ko:
kernel/net/sctp/sctp.ko: kernel/net/ipv6/ip6_udp_tunnel.ko kernel/net/ipv4/udp_tunnel.ko kernel/lib/libcrc32c.ko
kernel/net/sched/sch_multiq.ko:
kernel/drivers/net/dummy.ko:
`;
const ALIAS = `alias crypto-crc32c crc32c_intel
alias crc32c crc32c_intel
alias cpu:type:x86,ven*fam*mod*:feature:*0094* crc32c_intel
alias crypto-crc32c crc32c_generic
alias crc32c crc32c_generic
alias net-pf-2-proto-132 sctp
alias rtnl-link-dummy dummy
`;
const SOFTDEP = `# Soft dependencies extracted from modules themselves.
softdep ext4 pre: crypto-crc32c
softdep jbd2 pre: crypto-crc32c
softdep libcrc32c pre: crc32c
`;
const BUILTIN = 'kernel/net/ipv6/ipv6.ko\nkernel/fs/proc/proc.ko\n';

describe('module resolution (no boot)', () => {
  test("module names: a path or a dashed name is the kernel's name", () => {
    assert.equal(moduleName('kernel/arch/x86/crypto/crc32c-intel.ko'), 'crc32c_intel');
    assert.equal(moduleName('kernel/fs/ext4/ext4.ko.xz'), 'ext4');
    assert.equal(moduleName('sch-multiq'), 'sch_multiq');
    assert.deepEqual(parseModulesDep(DEP).get('sctp'), {
      path: 'kernel/net/sctp/sctp.ko',
      deps: ['kernel/net/ipv6/ip6_udp_tunnel.ko', 'kernel/net/ipv4/udp_tunnel.ko', 'kernel/lib/libcrc32c.ko'],
    });
  });

  test('a module with no dependency is alone; dependencies come before their users; each module once', () => {
    const index = { dep: DEP, alias: ALIAS, softdep: SOFTDEP, builtin: BUILTIN };
    assert.deepEqual(resolveModules(['sch_multiq'], index), {
      load: [{ name: 'sch_multiq', path: 'kernel/net/sched/sch_multiq.ko' }],
      builtin: [],
      unknown: [],
    });
    const sctp = resolveModules(['sctp', 'sch-multiq', 'sctp'], index).load.map((m) => m.name);
    // libcrc32c's soft dependency "crc32c" is an alias of two modules: both shipped, both in
    assert.deepEqual(sctp, ['ip6_udp_tunnel', 'udp_tunnel', 'libcrc32c', 'crc32c_intel', 'crc32c_generic', 'sctp', 'sch_multiq']);
    const ext4 = resolveModules(['ext4'], index).load.map((m) => m.name);
    assert.deepEqual(ext4, ['crc16', 'mbcache', 'jbd2', 'crc32c_intel', 'crc32c_generic', 'ext4']);
    // without modules.softdep, modules.dep alone
    assert.deepEqual(
      resolveModules(['ext4'], { dep: DEP }).load.map((m) => m.name),
      ['crc16', 'mbcache', 'jbd2', 'ext4'],
    );
  });

  test('built-in names need nothing; unknown names are reported as given', () => {
    const r = resolveModules(['ipv6', 'no-such-module', 'dummy'], { dep: DEP, builtin: BUILTIN });
    assert.deepEqual(r, { load: [{ name: 'dummy', path: 'kernel/drivers/net/dummy.ko' }], builtin: ['ipv6'], unknown: ['no-such-module'] });
    // a soft dependency that is not shipped is skipped, not an error
    assert.deepEqual(
      resolveModules(['ext4'], { dep: 'kernel/fs/ext4/ext4.ko:\n', softdep: SOFTDEP, alias: ALIAS }).load.map((m) => m.name),
      ['ext4'],
    );
  });

  test("the guest's index files keep the lines of the modules that go in", () => {
    const keep = new Set(['sctp', 'udp_tunnel', 'ip6_udp_tunnel', 'libcrc32c']);
    assert.equal(
      filterIndex('modules.dep', DEP, keep),
      [
        'kernel/lib/libcrc32c.ko:',
        'kernel/net/ipv4/udp_tunnel.ko:',
        'kernel/net/ipv6/ip6_udp_tunnel.ko:',
        'kernel/net/sctp/sctp.ko: kernel/net/ipv6/ip6_udp_tunnel.ko kernel/net/ipv4/udp_tunnel.ko kernel/lib/libcrc32c.ko',
      ].join('\n') + '\n',
    );
    assert.equal(filterIndex('modules.alias', ALIAS, keep), 'alias net-pf-2-proto-132 sctp\n');
    assert.equal(filterIndex('modules.softdep', SOFTDEP, keep), 'softdep libcrc32c pre: crc32c\n');
    assert.equal(filterIndex('modules.builtin', BUILTIN, keep), BUILTIN);
  });

  test('the modules folder of a prepared image is next to its vmlinuz', () => {
    assert.equal(
      modulesDirFor('/c/6.1.0-50-amd64/image/boot/vmlinuz-6.1.0-50-amd64'),
      '/c/6.1.0-50-amd64/image/lib/modules/6.1.0-50-amd64',
    );
    assert.throws(() => modulesDirFor('/tmp/bzImage'), /cannot tell the kernel release .*give modulesDir/);
  });
});

let target: TargetKernel;
let scratch: string;
before(async () => {
  target = await ensureTarget();
  scratch = await scratchDir('guest-modules');
});
after(() => rm(scratch, { recursive: true, force: true }));

describe("modules of Debian's kernel in the guest", () => {
  test('an unknown module is refused by name before booting', async () => {
    const lines: string[] = [];
    await assert.rejects(
      runGuest({ vmlinuz: target.vmlinuz, modules: ['sch_multiq', 'no_such_module'], script: 'true', log: (l) => lines.push(l) }),
      /not shipped with 6\.1\.0-50-amd64: no_such_module \(no such module in .*modules\.dep, nor built in\)/,
    );
    assert.ok(!lines.some((l) => l.includes('booting')), lines.join('\n'));
  });

  test("modprobe, rmmod, lsmod, modinfo and the kernel's autoload: sch_multiq with a qdisc, ext4 mounted, sctp over loopback", async () => {
    const programs: string[] = [];
    for (const name of ['qdisc-netlink', 'sctp-loopback']) {
      programs.push(path.join(scratch, name));
      await run('gcc-12', ['-static', '-O2', '-o', path.join(scratch, name), fixture(`modules/${name}.c`)]);
    }
    // an ext4 image with a file in it, made on the host (busybox has no mkfs.ext4)
    const content = path.join(scratch, 'content');
    await mkdir(content);
    await writeFile(path.join(content, 'host.txt'), 'written on the host\n');
    const image = path.join(scratch, 'ext4.img');
    await run('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'ksplice', '-d', content, image, '8M']);
    const started = Date.now();
    const verdict = await runGuest({
      vmlinuz: target.vmlinuz,
      modules: ['sch_multiq', 'ext4', 'loop', 'sctp', 'dummy'],
      files: [
        ...programs.map((p) => ({ guestName: path.basename(p), hostPath: p, executable: true })),
        { guestName: 'ext4.img', hostPath: image },
      ],
      steps: [
        {
          name: 'multiq',
          timeoutSeconds: 60,
          run: [
            'set -e',
            'modprobe sch_multiq',
            'lsmod | grep "^sch_multiq "',
            'modinfo sch_multiq | grep -E "^(filename|license|vermagic):"',
            // a device with one queue (lo) is refused by multiq: a dummy one with four
            'qdisc-netlink dummy kd0 4',
            'ip link set kd0 up',
            'qdisc-netlink add kd0 multiq',
            'qdisc-netlink show kd0',
            // busybox's tc shows what it cannot add
            'tc qdisc show dev kd0',
            // in use by the qdisc: not removable
            'if rmmod sch_multiq; then echo "removed under its qdisc"; exit 1; fi',
          ].join('\n'),
        },
        {
          name: 'multiq-reload',
          timeoutSeconds: 60,
          run: [
            'set -e',
            'qdisc-netlink del kd0',
            'rmmod sch_multiq',
            'if lsmod | grep "^sch_multiq "; then echo "still loaded"; exit 1; fi',
            'echo "sch_multiq removed"',
            'modprobe sch_multiq',
            'qdisc-netlink add kd0 multiq',
            'qdisc-netlink show kd0',
          ].join('\n'),
        },
        {
          name: 'ext4',
          timeoutSeconds: 60,
          run: [
            'set -e',
            'modprobe ext4',
            'modprobe loop',
            'mkdir -p /mnt',
            'mount -t ext4 -o loop ext4.img /mnt',
            'cat /mnt/host.txt',
            'echo "written in the guest" > /mnt/guest.txt',
            'umount /mnt',
            'mount -t ext4 -o loop ext4.img /mnt',
            'grep ext4 /proc/mounts',
            'cat /mnt/guest.txt',
            'umount /mnt',
          ].join('\n'),
        },
        {
          name: 'sctp',
          timeoutSeconds: 60,
          run: [
            'set -e',
            'ip link set lo up',
            'if lsmod | grep "^sctp "; then echo "sctp loaded before the socket"; exit 1; fi',
            'sctp-loopback',
          ].join('\n'),
        },
        { name: 'lsmod', timeoutSeconds: 30, run: 'lsmod; cat /proc/sys/kernel/tainted' },
      ],
      log: () => {},
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    assert.ok(
      verdict.ok,
      `${verdict.failures.join('; ')}\n${verdict.steps.map((s) => `--- ${s.name} (${s.status})\n${s.output}`).join('\n')}\n${verdict.serialLog.slice(-3000)}`,
    );
    const out = Object.fromEntries(verdict.steps.map((s) => [s.name, s.output]));
    assert.match(out.multiq, /^sch_multiq /m);
    assert.match(out.multiq, /^filename:\s+\/lib\/modules\/6\.1\.0-50-amd64\/kernel\/net\/sched\/sch_multiq\.ko$/m);
    assert.match(out.multiq, /^vermagic:\s+6\.1\.0-50-amd64 /m);
    assert.match(out.multiq, /^root qdisc multiq handle 1: dev kd0$/m);
    assert.match(out.multiq, /^qdisc multiq 1: root /m);
    assert.match(out['multiq-reload'], /sch_multiq removed\nroot qdisc multiq handle 1: dev kd0$/m);
    assert.match(out.ext4, /^written on the host$/m);
    assert.match(out.ext4, /^\/dev\/loop\d+ \/mnt ext4 /m);
    assert.match(out.ext4, /^written in the guest$/m);
    assert.match(out.sctp, /^sctp: ping over sctp\nsctp: pong over sctp$/m);
    // loaded by modprobe (sch_multiq, ext4, loop) and by the kernel on demand (dummy, sctp)
    for (const m of [
      'sch_multiq',
      'dummy',
      'ext4',
      'jbd2',
      'mbcache',
      'crc16',
      'loop',
      'sctp',
      'libcrc32c',
      'udp_tunnel',
      'ip6_udp_tunnel',
    ]) {
      assert.match(out.lsmod, new RegExp(`^${m} `, 'm'), `${m} in lsmod`);
    }
    assert.deepEqual(verdict.splats, []);
    // Debian's modules carry signatures from the key built into its kernel: no taint at all
    assert.deepEqual([verdict.taint.before, verdict.taint.after, verdict.taint.unexpected], [0, 0, 0]);
    process.stderr.write(
      `# one guest with modules: ${seconds} s (userspace after ${((verdict.timingsMs.boot ?? 0) / 1000).toFixed(1)} s)\n`,
    );
  });
});
