#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, fuzz preset) and runs each for N
# seconds (default 60) starting from its seed corpus in test/fuzz/corpus/.
# New inputs go to build/fuzz/corpus/<name>/, never into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
bash scripts/setup.sh
cmake --preset fuzz >/dev/null
# Only the fuzzers (and the libraries they need), not the CLI or the example plugin.
mapfile -t targets < <(sed -n 's/^plugctl_add_fuzzer(\([a-z_]*\) .*/\1/p' test/fuzz/CMakeLists.txt)
cmake --build --preset fuzz --target "${targets[@]}"
for fuzzer in build/fuzz/test/fuzz/*_fuzzer; do
  name=$(basename "$fuzzer" _fuzzer)
  work="build/fuzz/corpus/$name"
  mkdir -p "$work"
  echo "fuzz: $name for ${seconds}s"
  "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 \
    "$work" "test/fuzz/corpus/$name" 2>&1 | tail -n 3
done
