#!/bin/sh
# cxx_user.sh SRC LIB INCDIRS CXX...: black-box round 18. Builds SRC (test_cxx_user.cpp)
# as a C++ user would, with each compiler CXX (missing ones are skipped, at least one must
# be there), at -std=c++17 and -std=c++20 with -Wall -Wextra -Wpedantic -Werror (and
# -Wold-style-cast: the header's constants are used without casts of C's), links it
# against the C library LIB (INCDIRS: the header directories, ':'-separated) and runs it.
set -eu
src="$1"; lib="$2"; incdirs="$3"; shift 3
inc=""
for d in $(echo "$incdirs" | tr ':' ' '); do inc="$inc -I$d"; done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
built=0; seen=""
for cxx in "$@"; do
  path="$(command -v "$cxx" 2>/dev/null)" || { echo "skip: $cxx not installed"; continue; }
  real="$(readlink -f "$path")"
  case " $seen " in *" $real "*) continue ;; esac  # the same compiler under two names
  seen="$seen $real"
  for std in c++17 c++20; do
    exe="$tmp/cxx_user_$(basename "$cxx")_$std"
    echo "== $cxx -std=$std"
    # shellcheck disable=SC2086
    "$cxx" -std="$std" -Wall -Wextra -Wpedantic -Wold-style-cast -Werror $inc "$src" "$lib" -pthread -o "$exe"
    "$exe"
    built=$((built + 1))
  done
done
[ "$built" -gt 0 ] || { echo "no C++ compiler found"; exit 1; }
echo "cxx_user: $built builds compiled cleanly and passed"
