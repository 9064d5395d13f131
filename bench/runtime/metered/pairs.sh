#!/usr/bin/env bash
# bench/runtime/metered/pairs.sh - tsmap_bench_metered in many fresh processes, with the
# median of their ratios: on a VM one process's ratio moves by up to ±14% with where each
# map's tables landed (two identical plain maps: 0.95-1.14, findings.md "Metrics on, round
# 6"), so a 5% question needs ten or more processes. Alternates TSMAP_BENCH_SWAP (which
# map is created first) process by process; with OTHER_LIB set, also alternates that
# runtime directory (LD_LIBRARY_PATH) with the binary's own, for a before/after of two
# builds in the same minutes.
#
#   pairs.sh BIN WRITE_PERCENT THREADS PROCESSES
#   OTHER_LIB=/path/to/other/build/tsmap-runtime pairs.sh BIN 50 1 16
#   TSMAP_BENCH_PAIR=versions pairs.sh BIN 50 1 10     (any tsmap_bench_metered setting)
#
# Each process: KEYS keys (1,000,000), ROUNDS rounds (15) of OPS operations a thread per
# window (1,000,000); the smoke test makes them small.
set -euo pipefail
if [ $# -ne 4 ]; then
  echo "usage: [OTHER_LIB=dir] pairs.sh BIN WRITE_PERCENT THREADS PROCESSES" >&2
  exit 2
fi
bin="$1" write="$2" threads="$3" n="$4"
[ -x "$bin" ] || { echo "pairs.sh: $bin is not an executable" >&2; exit 2; }
case "$n" in '' | *[!0-9]*) echo "pairs.sh: PROCESSES must be a number" >&2; exit 2 ;; esac

ratio() { # one process; prints its cpu ratio (on/off)
  env "$@" "$bin" "${KEYS:-1000000}" "$write" "${ROUNDS:-15}" "$threads" "${OPS:-1000000}" |
    awk '/^on\/off/ {print $3}'
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {
  if (NR == 0) print "none"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

own=() other=()
for i in $(seq 1 "$n"); do
  swap=()
  if (( i % 2 == 0 )); then swap=(TSMAP_BENCH_SWAP=1); fi
  own+=("$(ratio "${swap[@]}")")
  if [ -n "${OTHER_LIB:-}" ]; then
    other+=("$(ratio "${swap[@]}" LD_LIBRARY_PATH="$OTHER_LIB")")
  fi
done
echo "this build:  ${own[*]}  median $(median "${own[@]}")"
if [ -n "${OTHER_LIB:-}" ]; then
  echo "OTHER_LIB:   ${other[*]}  median $(median "${other[@]}")"
fi
