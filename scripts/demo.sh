#!/usr/bin/env bash
# The main job on its embedded default: installs what is needed, builds
# plugctl (release), and runs `plugctl demo` — no registry or network needed.
# Usage: bash scripts/demo.sh [DIR]   (default DIR: ./plugctl-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target plugctl
exec ./build/release/plugctl demo --dir "${1:-plugctl-demo}"
