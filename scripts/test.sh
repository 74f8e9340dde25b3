#!/usr/bin/env bash
# Runs the test files given (default: every test/**/*.test.ts) with node's own test runner.
# Node 20 has no glob support in --test, so the files are listed here. Files run one at a
# time: several share the prepared kernel tree and the machine has two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
  mapfile -t files < <(find test -name '*.test.ts' | sort)
else
  files=("$@")
fi
exec node --import tsx --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./test/count-reporter.mjs --test-reporter-destination=stdout \
  "${files[@]}"
