#!/usr/bin/env bash
# bench/runtime/tail/tail.sh [threshold_ns] [inserts]: builds tail.c (it reads the runtime's
# shard internals) in the benchmark's build directory, as run.sh does, and runs it pinned
# to CPU 0. See tail.c for what it prints.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
"$here/../scripts/configure.sh" "$build"
cmake --build "$build" --target tsmap_bench_tail >/dev/null
exec "$build/tsmap_bench_tail" "$@"
