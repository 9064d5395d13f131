#!/usr/bin/env bash
# README command 2: builds everything and runs the whole test suite (ctest: lit check
# tests, plugin and editor tests, runtime unit/stress/fuzz tests under TSan and
# ASan+UBSan, benchmark smoke test). Also builds the project with gcc to keep it
# warning-free under both compilers. Assumes scripts/install-deps.sh has run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${TSMAP_BUILD_DIR:-$root/build}"
jobs="$(nproc)"

echo "== build (clang-19, -Werror) =="
"$root/scripts/build.sh" -DTSMAP_WERROR=ON

echo "== build (gcc, -Werror) =="
cmake -S "$root" -B "$build-gcc" -G Ninja -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
  -DTSMAP_WERROR=ON -DBUILD_TESTING=OFF -DTSMAP_BUILD_BENCH=OFF >/dev/null
cmake --build "$build-gcc"

echo "== test suite =="
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 1800
