# The pinned toolchain for building updates of Debian bookworm's 6.1 kernels: the gcc-12 and
# binutils that built them (gcc 12.2.0-14+deb12u1, binutils 2.40), kbuild's tools, QEMU and
# busybox for the guest proof, and Node for the Action's bundle. ksplice-create still checks the
# fingerprint against the target's config before building (src/setup/toolchain.ts).
#
# Build, push, and pin by digest (docs/action.md):
#   docker build -f docker/toolchain.Dockerfile -t ghcr.io/<org>/ksplice-toolchain:bookworm .
#   docker push ghcr.io/<org>/ksplice-toolchain:bookworm
#   docker buildx imagetools inspect ghcr.io/<org>/ksplice-toolchain:bookworm   # → sha256:…
# then give the Action  toolchain-image: ghcr.io/<org>/ksplice-toolchain@sha256:<digest>
FROM debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc-12 binutils make flex bison bc libelf-dev libssl-dev dwarves python3 kmod cpio rsync patch \
      xz-utils zstd dpkg-dev apt-utils libc6-dev ca-certificates \
      qemu-system-x86 busybox-static nodejs \
 && rm -rf /var/lib/apt/lists/* \
 && gcc-12 --version | head -n 1 && ld --version | head -n 1
