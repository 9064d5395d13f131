#!/usr/bin/env bash
# install_consumer.sh: the ctest test install-consumer (see CMakeLists.txt beside it).
#   1. cmake --install <build> into <work>/prefix
#   2. consumer/ with find_package(tsmap CONFIG): configure, build, run; with
#      CONSUMER_BAD=ON the build log shows clang-tidy's findings in bad.c
#      (tsmap_enable_checks); with WARNINGS_AS_ERRORS the build fails on them; with a
#      clang-tidy of another LLVM version the configure step stops and names both
#   3. the same main.c built with `pkg-config --cflags --libs tsmap`, run
#   4. the installed tsmap-tidy finds the installed plugin by itself
set -euo pipefail
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2" ;; --work) work="$2" ;; --consumer) consumer="$2" ;;
    --cc) cc="$2" ;; --cmake) cmake="$2" ;; --generator) generator="$2" ;;
    --pkg-config) pkgconfig="$2" ;; --plugin) plugin="$2" ;;
    *) echo "install_consumer.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
fail() { echo "install-consumer: FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }
rm -rf "$work" && mkdir -p "$work"
prefix="$work/prefix"

step "install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" > "$work/install.log" || {
  cat "$work/install.log"; fail "cmake --install"; }
plugin_name="$(basename "$plugin")"
installed_plugin="$(find "$prefix" -path '*/tsmap/llvm-*/'"$plugin_name" | head -n 1)"
[ -n "$installed_plugin" ] || fail "no plugin installed under $prefix/lib*/tsmap/llvm-<N>/"
[ -x "$prefix/bin/tsmap-tidy" ] || fail "tsmap-tidy not installed in $prefix/bin"
[ -f "$(dirname "$(find "$prefix" -name tsmapConfig.cmake | head -n 1)")/TsmapClangTidy.cmake" ] \
  || fail "TsmapClangTidy.cmake not installed next to tsmapConfig.cmake"
echo "plugin: $installed_plugin"

# Checks for bad.c: every tsmap-* check, plus an upstream one so the test sees a finding
# even before the tsmap checks it expects are registered.
checks='-*;tsmap-*;misc-redundant-expression'
configure() { # configure <dir> <extra cmake args...>
  local dir="$1"; shift
  "$cmake" -S "$consumer" -B "$dir" -G "$generator" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@" > "$dir.configure.log" 2>&1
}

step "find_package(tsmap CONFIG): configure, build (clang-tidy with the plugin), run"
configure "$work/cmake" -DCONSUMER_BAD=ON "-DCONSUMER_CHECKS=$checks" || {
  cat "$work/cmake.configure.log"; fail "configure the consumer"; }
grep -q "consumer: tsmap 0\.[0-9.]*, plugin for LLVM [0-9]*: $prefix/" "$work/cmake.configure.log" \
  || { cat "$work/cmake.configure.log"; fail "the package did not give the installed plugin"; }
"$cmake" --build "$work/cmake" > "$work/cmake.build.log" 2>&1 || {
  cat "$work/cmake.build.log"; fail "build the consumer"; }
grep -q "bad.c:21:13: warning: both sides of operator are equivalent \[misc-redundant-expression\]" \
  "$work/cmake.build.log" || { cat "$work/cmake.build.log"; fail "no clang-tidy finding for bad.c in the build log"; }
out="$("$work/cmake/consumer")" || fail "the consumer did not run: $out"
echo "$out"
case "$out" in *"consumer: ok"*) ;; *) fail "consumer output: $out" ;; esac
# If the plugin registers tsmap-non-idempotent-callback, bad.c's callback must be found.
tidy="$(sed -n 's/^TSMAP_CLANG_TIDY_EXECUTABLE:[A-Z]*=//p' "$work/cmake/CMakeCache.txt")"
if "$tidy" --load "$installed_plugin" --checks='-*,tsmap-non-idempotent-callback' --list-checks 2>/dev/null \
     | grep -q tsmap-non-idempotent-callback; then
  grep -q "bad.c:[0-9]*:[0-9]*: warning: .*\[tsmap-non-idempotent-callback\]" "$work/cmake.build.log" \
    || { cat "$work/cmake.build.log"; fail "no tsmap-non-idempotent-callback finding in bad.c"; }
  echo "tsmap-non-idempotent-callback: found in bad.c"
fi

step "tsmap_enable_checks(WARNINGS_AS_ERRORS): a finding fails the build"
configure "$work/werror" -DCONSUMER_BAD=ON -DCONSUMER_WERROR=ON "-DCONSUMER_CHECKS=$checks" || {
  cat "$work/werror.configure.log"; fail "configure the consumer (WARNINGS_AS_ERRORS)"; }
if "$cmake" --build "$work/werror" --target consumer_bad > "$work/werror.build.log" 2>&1; then
  cat "$work/werror.build.log"; fail "the build passed despite WARNINGS_AS_ERRORS"
fi
grep -q "bad.c:21:13: error: both sides of operator are equivalent \[misc-redundant-expression,-warnings-as-errors\]" \
  "$work/werror.build.log" || { cat "$work/werror.build.log"; fail "no error for bad.c"; }

if command -v clang-tidy-22 > /dev/null && ! echo "$installed_plugin" | grep -q llvm-22; then
  step "tsmap_enable_checks with a clang-tidy of another LLVM: configure stops"
  if configure "$work/mismatch" -DCONSUMER_BAD=ON \
       -DTSMAP_CLANG_TIDY_EXECUTABLE="$(command -v clang-tidy-22)"; then
    fail "configure passed with clang-tidy-22"
  fi
  tr -s ' \n' ' ' < "$work/mismatch.configure.log" \
    | grep -q "the tsmap plugin was built for LLVM [0-9]*, but [^ ]*clang-tidy-22 is LLVM 22" || { cat "$work/mismatch.configure.log"; fail "no version message"; }
fi

step "pkg-config: build and run main.c"
if [ -n "$pkgconfig" ] && [ -f "$(find "$prefix" -name tsmap.pc | head -n 1)" ]; then
  pcdir="$(dirname "$(find "$prefix" -name tsmap.pc | head -n 1)")"
  flags="$(PKG_CONFIG_PATH="$pcdir" "$pkgconfig" --cflags --libs tsmap)" || fail "pkg-config tsmap"
  echo "pkg-config --cflags --libs tsmap: $flags"
  # shellcheck disable=SC2086
  "$cc" -std=c11 -Wall -Wextra -Werror -DCONSUMER_HAVE_RUNTIME=1 "$consumer/main.c" \
    -o "$work/consumer-pc" $flags -Wl,-rpath,"$pcdir/.." || fail "build with pkg-config flags"
  out="$("$work/consumer-pc")" || fail "the pkg-config consumer did not run: $out"
  case "$out" in *"runtime get -> 42"*"consumer: ok"*) echo "$out" ;; *) fail "output: $out" ;; esac
else
  fail "no pkg-config or no tsmap.pc installed"
fi

step "the installed tsmap-tidy finds the installed plugin"
set +e
"$prefix/bin/tsmap-tidy" -p "$work/cmake" --progress never \
  --checks='-*,tsmap-*,misc-redundant-expression' > "$work/tidy.out" 2> "$work/tidy.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$work/tidy.out" "$work/tidy.err"; fail "tsmap-tidy exit status $rc, expected 1"; }
grep -q "bad.c:21:13: warning: both sides of operator are equivalent" "$work/tidy.out" \
  || { cat "$work/tidy.out" "$work/tidy.err"; fail "installed tsmap-tidy found nothing"; }
echo "install-consumer: all passed"
