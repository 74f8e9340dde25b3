# The pinned toolchain for building updates of Debian bookworm's 6.1 kernels: the gcc-12 and
# binutils that built them (gcc-12 12.2.0-14+deb12u1, binutils 2.40-2, pinned below so a point
# release that changes them fails this build instead of the fingerprint check), `gcc` (bookworm's
# is gcc-12 too: kbuild builds its host programs, fixdep first, with HOSTCC=gcc), kbuild's tools,
# QEMU and busybox for the guest proof (src/setup/host-packages.ts lists them; a test checks this
# file installs every one), and Node 24 for the Action's bundle (package.json: engines >= 20;
# bookworm's own nodejs is 18). The base is Node's official image built on Debian bookworm, so
# the apt packages are bookworm's. ksplice-create still checks the fingerprint against the
# target's config before building (src/kbuild/toolchain.ts).
#
# Pin the base by digest too (a tag such as node:24-bookworm-slim moves with every Node release):
#   docker buildx imagetools inspect node:24-bookworm-slim          # Digest: sha256:…
#   docker build -f docker/toolchain.Dockerfile \
#     --build-arg BASE=node:24-bookworm-slim@sha256:<that digest> -t ghcr.io/<org>/ksplice-toolchain:bookworm .
# Then push and pin the result by its digest (docs/action.md):
#   docker push ghcr.io/<org>/ksplice-toolchain:bookworm
#   docker buildx imagetools inspect ghcr.io/<org>/ksplice-toolchain:bookworm   # Digest: sha256:…
# and give the Action  toolchain-image: ghcr.io/<org>/ksplice-toolchain@sha256:<digest>
ARG BASE=node:24-bookworm-slim
FROM ${BASE}
RUN . /etc/os-release && test "$VERSION_CODENAME" = bookworm \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc-12=12.2.0-14+deb12u1 binutils=2.40-2 gcc \
      make flex bison bc libelf-dev libssl-dev dwarves python3 kmod cpio rsync patch \
      xz-utils zstd dpkg-dev apt-utils libc6-dev ca-certificates \
      qemu-system-x86 busybox-static \
 && rm -rf /var/lib/apt/lists/* \
 && gcc-12 --version | head -n 1 && ld --version | head -n 1 && node --version
