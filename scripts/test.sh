#!/usr/bin/env bash
# Installs what is needed, builds everything and runs every unit and integration test with
# ctest. Integration tests start their own real peers (docker-registry, skopeo) on 127.0.0.1.
# The default preset is asan: Debug, -Werror, ASan+UBSan, so every test run is a sanitized run.
# With CI=true a skipped test fails the run unless test/ci-skips.txt allows it.
# Usage: bash scripts/test.sh [PRESET]   (asan | dev | release; default asan)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-asan}"
bash scripts/setup.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
log="build/$preset/ctest.log"
ctest --preset "$preset" -j "$(nproc)" 2>&1 | tee "$log"
if [ "${CI:-}" = true ]; then
  python3 scripts/check_skips.py "$log"
fi
