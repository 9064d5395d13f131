#!/usr/bin/env bash
# Checker cost benchmark: clang-tidy-19 with the tsmap-* checks vs clang-19 -fsyntax-only,
# on the SQLite amalgamation (from the npm package better-sqlite3) and on a generated
# stress file at N and 2N. Prints a Markdown report (copy it into RESULTS.md).
#   bench/checker/run.sh [N] [REPS]        (defaults: 1000 3)
# Env: TSMAP_BUILD_DIR (default build/), CLANG, CLANG_TIDY.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${TSMAP_BUILD_DIR:-$root/build}"
plugin="$build/lib/libTsmapTidy.so"
out="$here/out"
n="${1:-1000}"
reps="${2:-3}"
[ -f "$plugin" ] || { echo "run.sh: $plugin not built (cmake --build build --target tsmap_tidy)" >&2; exit 1; }
mkdir -p "$out"

sqlite="$out/package/deps/sqlite3/sqlite3.c"
if [ ! -f "$sqlite" ]; then
  # better-sqlite3 vendors the amalgamation as deps/sqlite3/sqlite3.c (checked: 12.x).
  (cd "$out" && npm pack --silent better-sqlite3 >/dev/null)
  tarball="$(ls -t "$out"/better-sqlite3-*.tgz | head -1)"
  tar -xzf "$tarball" -C "$out" package/deps/sqlite3
fi
[ -f "$sqlite" ] || { echo "run.sh: no deps/sqlite3/sqlite3.c in the better-sqlite3 package" >&2; exit 1; }

exec python3 "$here/bench.py" --plugin "$plugin" --sqlite "$sqlite" --out "$out" \
  --n "$n" --reps "$reps" --clang "${CLANG:-clang-19}" --clang-tidy "${CLANG_TIDY:-clang-tidy-19}"
