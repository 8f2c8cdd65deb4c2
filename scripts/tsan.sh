#!/usr/bin/env bash
# Builds the concurrent parts under ThreadSanitizer and runs their tests: the parallel runner,
# the copy engine and mirror (unit tests and the CLI against real registries), registry
# sessions shared by many threads, the fault-injecting registry's resume paths, and the
# embedded registry (its HTTP server, store and auth, and `plugctl serve` under real clients).
# With CI=true a skipped test fails the run unless test/ci-skips.txt allows it.
# Usage: bash scripts/tsan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset tsan >/dev/null
cmake --build --preset tsan --target plugctl plugctl_base_test plugctl_transfer_test \
  plugctl_registry_test plugctl_integration_test plugctl_server_test plugctl_http_server_test \
  plugctl_auth_test
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
log="build/tsan/ctest.log"
# Suites whose code runs threads; the other tests in these binaries are single-threaded.
suites='RunParallel|Copy|Mirror|MapRepository|Session|Repository|Challenge|Fault|Registry|SecureRegistry|DockerConfig|HttpServer|Auth|Serve'
# EndlessPagination is one thread parsing 64 MiB of pages: minutes under TSan, nothing to find.
ctest --preset tsan -j "$(nproc)" -R "^(${suites})[A-Za-z]*\." -E "EndlessPagination" 2>&1 |
  tee "$log"
if [ "${CI:-}" = true ]; then
  python3 scripts/check_skips.py "$log"
fi
