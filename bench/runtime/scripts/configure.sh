#!/usr/bin/env bash
# bench/runtime/scripts/configure.sh BUILD_DIR: configures the standalone benchmark
# project (with the runtime from ../../runtime) in BUILD_DIR, the one way run.sh and
# tail/tail.sh both use, so that neither reconfigures the other's build with other flags.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="$1"
cc="${CC:-$(command -v clang-19 || command -v gcc)}"
cxx="${CXX:-$(command -v clang++-19 || command -v g++)}"
# DWARF 4: valgrind 3.19 (Debian 12) cannot read clang 19's default DWARF 5.
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_C_FLAGS="-gdwarf-4" -DCMAKE_CXX_FLAGS="-gdwarf-4" -DTSMAP_BENCH_WITH_TSMAP=ON >/dev/null
