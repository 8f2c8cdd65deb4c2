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
  # Any configured gcc build has the compile database; the test command's (asan) comes first.
  db=""
  for d in build/asan build/dev; do
    [ -f "$d/compile_commands.json" ] && { db="$d"; break; }
  done
  [ -n "$db" ] || { cmake --preset asan >/dev/null; db=build/asan; }
  mapfile -t tidy < <(git ls-files 'src/*.cc')
  printf '%s\n' "${tidy[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$db" --quiet 2>/dev/null
fi
echo "check: ok"
