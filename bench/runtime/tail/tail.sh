#!/usr/bin/env bash
# bench/runtime/tail/tail.sh [threshold_ns] [inserts]: builds tail.c against the runtime's
# sources (it reads shard internals) and runs it. See tail.c for what it prints.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cc="${CC:-$(command -v clang-19 || command -v gcc)}"
out="${TMPDIR:-/tmp}/tsmap-tail"
"$cc" -O2 -std=c11 -D_GNU_SOURCE -I"$root/runtime/include" -I"$root/annotations/include" \
  -I"$root/runtime/src" "$here/tail.c" "$root"/runtime/src/*.c -lpthread -o "$out"
exec "$out" "$@"
