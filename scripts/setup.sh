#!/usr/bin/env bash
# Installs every Debian 12 package plugctl needs to build, test, fuzz and benchmark.
# Idempotent and quiet when everything is present; run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config git ca-certificates
  clang clang-14 lld libclang-rt-14-dev clang-format clang-tidy
  # libraries
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libarchive-dev
  libcli11-dev libfmt-dev libexpected-dev libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev libpcre2-dev libcrypt-dev libcmark-gfm-dev libcmark-gfm-extensions-dev
  # real peers and tools used by the integration tests and benchmarks
  skopeo docker-registry apache2-utils openssl wabt tar gzip zstd curl python3 time wrk
  # container engines as peers (engine_test.cc): a private dockerd and podman, vfs storage
  docker.io podman
  # the catalog page in a real browser (headless), and nginx as the downloads' benchmark peer
  # (a small CJK font, so the screenshots of Chinese descriptions show glyphs, not boxes)
  chromium fonts-wqy-microhei nginx-light
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
