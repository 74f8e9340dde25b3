#!/usr/bin/env bash
# Makes a fresh Debian bookworm machine ready for `npm test`, `npm run demo` and `npm run bench`:
# node packages (npm ci, skipped when node_modules matches package-lock.json) and the host's
# apt packages (installed only when missing). The Debian kernel packages themselves are fetched
# and prepared, once, by the setup module into ~/.cache/ksplice-action/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[bootstrap] npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
node --import tsx src/setup/cli.ts --host-packages-only
# the container engine of test/container (podman, runc, podman-docker, debootstrap)
node --import tsx scripts/container-image.ts --host-packages-only
