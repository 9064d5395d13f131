#!/usr/bin/env bash
# README command 2: builds everything and runs the whole test suite (ctest: lit check
# tests, plugin and editor tests, runtime unit/stress/fuzz tests under TSan and
# ASan+UBSan, benchmark smoke test). Also builds the project with gcc to keep it
# warning-free under both compilers, and runs each extra build's plugin smoke test. Assumes scripts/install-deps.sh has run.
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
# The plugin g++ built must check a file, not just list its checks (plugin-smoke).
ctest --test-dir "$build-gcc" -R '^plugin-smoke$' --output-on-failure

if [ -d /usr/lib/llvm-22/lib/cmake/clang ]; then
  echo "== plugin for LLVM 22 (configure, build, load, check tests) =="
  cmake -S "$root" -B "$build-llvm22" -G Ninja -DTSMAP_LLVM_VERSION=22 \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 -DTSMAP_WERROR=ON \
    -DBUILD_TESTING=ON -DTSMAP_BUILD_BENCH=OFF -DTSMAP_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$build-llvm22" --target tsmap_tidy
  ctest --test-dir "$build-llvm22" -R '^plugin-smoke$' --output-on-failure
  /usr/lib/llvm-22/bin/clang-tidy --load "$build-llvm22/lib/libTsmapTidy.so" \
    --checks='-*,tsmap-*,misc-redundant-expression' --list-checks
  # The checks' own lit tests under clang-tidy 22 (the editor, example and tool
  # tests need clangd, the examples and clang-tidy 19: they run below).
  python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv "$build-llvm22/test" --filter 'rules/'
fi

echo "== test suite =="
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 1800
