#!/usr/bin/env bash
# The main job on its embedded default — no registry or network needed:
# installs what is needed, builds plugctl and the example proxy-wasm plugin
# (C, compiled with clang --target=wasm32 + lld), validates it, packages it
# reproducibly into a local OCI layout, and shows what `inspect` says.
# Usage: bash scripts/demo.sh [DIR]   (default DIR: ./plugctl-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target plugctl example_add_header
P=./build/release/plugctl
E=./build/release/examples/add-header
OUT="${1:-plugctl-demo}"

echo "== plugctl validate $E"
$P validate "$E"
echo
echo "== plugctl build $E -t oci:$OUT/layout:add-header:1.0.0 (reproducible)"
$P build "$E" -t "oci:$OUT/layout:add-header:1.0.0" -t "oci-archive:$OUT/add-header.tar:1.0.0"
echo
echo "== plugctl inspect oci:$OUT/layout:add-header:1.0.0"
$P inspect "oci:$OUT/layout:add-header:1.0.0"
