#!/usr/bin/env bash
# The main job: runs the tsmap-* checks over the bundled example project (examples/)
# through its compile_commands.json and prints clang-tidy's diagnostics.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${TSMAP_BUILD_DIR:-$root/build}"
plugin="$build/lib/libTsmapTidy.so"
[ -f "$plugin" ] || { echo "run-example: $plugin not built; run scripts/build.sh" >&2; exit 1; }

echo "== tsmap-* checks over the example project (examples/) =="
if [ -x "$root/tools/tsmap-tidy" ]; then
  # Findings are the point here, not a failure; a broken run still fails.
  "$root/tools/tsmap-tidy" -p "$build" --plugin "$plugin" --fail-on failures \
    $(find "$root/examples" \( -name "*.c" -o -name "*.cpp" \) | sort)
else
  /usr/lib/llvm-19/bin/run-clang-tidy -quiet -clang-tidy-binary /usr/lib/llvm-19/bin/clang-tidy \
    -load "$plugin" -checks='-*,tsmap-*' -p "$build" "$root/examples/" 2>/dev/null || true
fi
