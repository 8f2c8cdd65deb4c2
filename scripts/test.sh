#!/usr/bin/env bash
# Installs what is needed, builds everything (dev preset: Debug, -Werror) and
# runs every unit and integration test with ctest. Integration tests start
# their own real peers (docker-registry, skopeo) on 127.0.0.1.
# Usage: bash scripts/test.sh [PRESET]   (dev | asan | release; default dev)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dev}"
bash scripts/setup.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" -j "$(nproc)"
