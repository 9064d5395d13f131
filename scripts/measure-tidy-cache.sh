#!/usr/bin/env bash
# Measures tsmap-tidy's result cache on this repository's own compilation database
# (docs/tsmap-tidy.md, "Result cache"): a first run into an empty cache, a second run with
# nothing changed, and a run with one file changed (a declaration appended to
# checker/TsmapTidyModule.cpp, an LLVM-heavy C++ file, restored afterwards). Prints the
# wall and CPU seconds (user+sys of tsmap-tidy and everything it ran) of each.
#   scripts/measure-tidy-cache.sh [build dir] [-j N]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
jobs="${2:-2}"
cache="$(mktemp -d)"
changed="$root/checker/TsmapTidyModule.cpp"
backup="$(mktemp)"
cp "$changed" "$backup"
trap 'cp "$backup" "$changed"; rm -rf "$cache" "$backup"' EXIT

run() {
  local label="$1"
  /usr/bin/time -f "$label: %e s wall, %U s user + %S s sys" \
    python3 "$root/tools/tsmap-tidy" -p "$build" --root "$root" -j "$jobs" --progress never \
      --cache "$cache" --fail-on never >/dev/null 2>"$cache.err" || true
  grep -E "cache:|files? checked" "$cache.err" | sed "s/^/  /"
  tail -1 "$cache.err"
}
cd "$root"
echo "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" \
  "$build/compile_commands.json") entries in $build/compile_commands.json, -j $jobs"
run "first run (empty cache)"
run "second run (nothing changed)"
echo "namespace { [[maybe_unused]] int MeasureTidyCacheChange = 0; }" >> "$changed"
run "third run (one C++ file changed)"
rm -f "$cache.err"
