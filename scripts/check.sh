#!/usr/bin/env bash
# Static checks: formatting, the layering rule, clang-tidy's curated list.
# Usage: bash scripts/check.sh [--no-tidy]
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files 'src/*.cc' 'src/*.h' 'test/*.cc' 'test/*.h' 'bench/*.cc')

echo "check: clang-format"
clang-format --dry-run --Werror "${sources[@]}"

echo "check: layering"
python3 scripts/check_layers.py

if [ "${1:-}" != "--no-tidy" ]; then
  echo "check: clang-tidy"
  [ -f build/dev/compile_commands.json ] || cmake --preset dev >/dev/null
  mapfile -t tidy < <(git ls-files 'src/*.cc')
  printf '%s\n' "${tidy[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p build/dev --quiet 2>/dev/null
fi
echo "check: ok"
