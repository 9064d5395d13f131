#!/usr/bin/env bash
# bench/runtime/run.sh - one command: build, measure every map, regenerate RESULTS.md and
# the plots.  Non-interactive; sized to finish in about 10 minutes on a quiet 2-core machine
# (12 at most; a busy machine stretches wall time, not the amount of work).
#
#   bench/runtime/run.sh             the full run (issue 7 sizes)
#   bench/runtime/run.sh --quick     small sizes, for checking the pipeline (~2 minutes)
#   bench/runtime/run.sh --pin       pin worker thread i to CPU i (default: unpinned)
#   MAPS="tsmap libcuckoo" bench/runtime/run.sh    a subset of maps
#
# Durations of the full run (why it fits): A/B/C 3 windows of 1 s per workload and thread
# count after a 1M-key prefill (~20 s a map); D 3 runs per thread count of 4M inserts, each
# cut off after 15 s if a map cannot keep up (~15 s a map); E one 4M fill per map; F1
# 3 windows of 1 s per thread count; F2 one run, the grower stopping after 4 s; G one 4M
# prefill, 4M timed operations and a reshard to 4x the shards and back (~20 s); variants
# (versioned, metered, bounded tsmap against plain: A and C, 1 and 2 threads, four rounds
# of fresh processes, ~190 s; metered/pairs.sh measures such ratios over more processes);
# callgrind
# 1 thread, 1M keys prefilled uninstrumented then 100,000 operations per workload
# instrumented (~15 s a map).
#
# Output: bench/runtime/out/<stamp>/ (raw JSON lines, callgrind files; git-ignored),
#         bench/runtime/RESULTS.md and bench/runtime/plots/*.png (committed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
quick=0
pin=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --pin) pin=(--pin) ;;
    *) echo "usage: run.sh [--quick] [--pin]" >&2; exit 2 ;;
  esac
done
export LC_ALL=C

# ---- build -----------------------------------------------------------------------------
"$here/scripts/configure.sh" "$build"
if ! cmake --build "$build" --target tsmap_bench_runtime >"$build/build.log" 2>&1; then
  echo "run.sh: the build with the tsmap runtime failed (see $build/build.log);" \
       "measuring the peers only" >&2
  cmake -S "$here" -B "$build" -DTSMAP_BENCH_WITH_TSMAP=OFF >/dev/null
  cmake --build "$build" --target tsmap_bench_runtime >/dev/null
fi
bin="$build/tsmap_bench_runtime"
# D's context: how often this machine stops a busy thread for over 10 us (x86-64 only).
cmake --build "$build" --target tsmap_bench_tail >/dev/null 2>&1 || true

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$here/out/$stamp"
mkdir -p "$out"
res="$out/results.jsonl"
log="$out/run.log"
ln -sfn "$stamp" "$here/out/last"

maps="${MAPS:-$("$bin" --list | awk '!/\(hidden\)/ {print $1}')}"
nproc="$(nproc)"

if (( quick )); then
  sizes=(--prefill 100000 --growth 400000 --memory-n 400000 --stream-len 65536)
  timing=(--seconds 0.2 --reps 1 --growth-reps 1 --growread-cap 1 --growth-cap 10 "${pin[@]}")
  instr_sizes=(--prefill 100000 --instr-ops 20000)
else
  sizes=(--prefill 1000000 --growth 4000000 --memory-n 4000000)
  timing=(--seconds 1 --reps 3 --growth-reps 3 --growread-cap 4 --growth-cap 15 "${pin[@]}")
  instr_sizes=(--prefill 1000000 --instr-ops 100000)
fi

# ---- machine ---------------------------------------------------------------------------
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet -- runtime bench/runtime 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "nproc: $nproc"
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\)|Hypervisor vendor|L1d cache|L2 cache|L3 cache|NUMA node\(s\)|CPU max MHz|BogoMIPS)' \
    | sed -E 's/:[[:space:]]+/: /' | sed 's/^/lscpu /'
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  # The NUMA nodes tsmap's placement (runtime/DESIGN.md G14) reads: the online list of
  # /sys/devices/system/node, counted (a range "0-3" is four nodes).
  online="$(cat /sys/devices/system/node/online 2>/dev/null || true)"
  nodes="$(tr ',' '\n' <<<"$online" | awk -F- 'NF == 1 && $1 != "" {n++} NF == 2 {n += $2 - $1 + 1} END {print n + 0}')"
  echo "numa nodes: ${nodes} (online: ${online:-none}); tsmap placement: ${TSMAP_BENCH_PLACEMENT:-none} (TSMAP_BENCH_PLACEMENT)"
  echo "kernel: $(uname -sr)"
  echo "compiler: $("$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")" --version | head -1)"
  echo "build: RelWithDebInfo (-O2 -g -gdwarf-4), standalone bench/runtime project"
  for p in libabsl-dev liburcu-dev libcuckoo-dev libtbb-dev libglib2.0-dev valgrind; do
    echo "package $p: $(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || echo missing)"
  done
  if [[ -x "$build/tsmap_bench_tail" ]]; then
    machine_alone="$(taskset -c 0 "$build/tsmap_bench_tail" 10000 0)"
    echo "interruptions: $(sed -n 's/^machine: //p' <<<"$machine_alone") (CPU 0, at the start)"
    echo "memory latency: $(sed -n 's/^memory: //p' <<<"$machine_alone") (CPU 0, at the start)"
  fi
  echo "quick: $quick"
  echo "pinned: $(( ${#pin[@]} > 0 ))"
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; $(ps -e --no-headers -o stat | grep -c '^R') runnable)"
} > "$out/machine.txt"

# No single step (one map, one mode) may take more than this: a map that a busy machine
# pathologically slows (liburcu's starved resize worker) is stopped, reported, and the run
# goes on (timeout kills the step's whole process group, E's child included).
step_limit="${STEP_LIMIT:-240}"
say() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$log"; }
# A step that did not finish: said, and recorded for RESULTS.md (exit 124: the step limit).
# The leading newline ends any line the stopped process left half written.
step_failed() {
  say "  $1 $2 failed (exit $3)"
  printf '\n{"kind":"step_failed","mode":"%s","map":"%s","exit":%d}\n' "$1" "$2" "$3" >>"$res"
}
t0=$SECONDS
# One fresh process per map and mode, so no map inherits another's heap.
for mode in mix growth cia growread; do
  for m in $maps; do
    say "$mode $m"
    timeout -k 10 "$step_limit" "$bin" --mode "$mode" --maps "$m" "${sizes[@]}" "${timing[@]}" --out "$res" 2>>"$log" \
      || step_failed "$mode" "$m" $?
  done
done
# G: latency during a live reshard (tsmap only: the peers cannot reshard). The growth size
# (4M; 400K quick), 4x the shards and back, each phase until the reshard is done. Three
# runs (one quick), each a fresh process, as D's figures are medians of three: this host's
# stop episodes last seconds and land in one phase of one run (findings.md, "The runs
# after the helper's merge"). Records carry their run ("rep"); report.py compares each
# phase with the steady state of its own run and takes the median over the runs.
if grep -qw tsmap <<<"$maps"; then
  g_runs=$(( quick ? 1 : 3 ))
  for (( rep = 1; rep <= g_runs; rep++ )); do
    say "reshard (G) tsmap (run $rep)"
    tmp="$out/reshard.$rep.jsonl"
    status=0
    timeout -k 10 "$step_limit" "$bin" --mode reshard --maps tsmap "${sizes[@]}" "${pin[@]}" --out "$tmp" 2>>"$log" \
      || status=$?
    # Its phases and any failure it recorded (a run that failed may have written both).
    grep -E '"kind":"(reshard|failure)"' "$tmp" 2>/dev/null \
      | sed "s/\"kind\":\"reshard\"/\"kind\":\"reshard\",\"rep\":$rep/" >>"$res" || true
    (( status == 0 )) || step_failed reshard tsmap "$status"
  done
fi
# The 1-thread ratios against unsynchronized absl (issue 19) again, in rounds of two
# adjacent fresh processes: the host's speed moves between minutes (absl's A ranged over
# 27.9-50.7 Mops/s across runs, and tsmap's own over 25-33 within one run), so one pair
# of processes decides little. report.py takes the median over the rounds (the main
# step's pair being round 0) of each round's ratio. Records become kind "pair".
if grep -qw tsmap <<<"$maps" && grep -qw absl <<<"$maps"; then
  pair_rounds=$(( quick ? 0 : 3 ))
  for (( round = 1; round <= pair_rounds; round++ )); do
    for m in tsmap absl; do
      say "pair $m (round $round)"
      tmp="$out/pair.$m.$round.jsonl"
      if timeout -k 10 "$step_limit" "$bin" --mode mix --maps "$m" --workloads A,B,C --threads 1 \
           "${sizes[@]}" "${timing[@]}" --out "$tmp" 2>>"$log"; then
        grep '"kind":"mix"' "$tmp" | sed "s/\"kind\":\"mix\"/\"kind\":\"pair\",\"round\":$round/" >>"$res" || true
      else
        step_failed "pair-$m" "$m" $?
      fi
    done
  done
fi
# Variants of tsmap against the plain map, interleaved so that each pair shares the
# machine's state (issues 20, 21, 22): A and C at 1 and 2 threads, four rounds (one in
# quick runs): a fresh process places its 36 MiB of tables anew, and windows of one binary
# moved by up to 40% between processes here, so two rounds let one placement decide a
# ratio (findings.md, "A quiet run after round 4"). Records become kind "variant" with the
# variant's name and round: report.py compares each variant with the plain map of its own
# round (the host can change speed between rounds; pooled windows would mix its states).
if grep -qw tsmap <<<"$maps"; then
  declare -A variant_env=(
    [plain]=""
    [versions]="TSMAP_BENCH_VERSIONS=1"
    [metrics]="TSMAP_BENCH_METRICS=1"
    [bound_never]="TSMAP_BENCH_MAX_ENTRIES=$(( ${sizes[1]} * 2 ))"
    [bound_half]="TSMAP_BENCH_MAX_ENTRIES=$(( ${sizes[1]} / 2 ))"
  )
  # A bound at half the keys evicts half of the prefill: its gets miss by design.
  declare -A variant_args=([bound_half]="--lossy")
  rounds=$(( quick ? 1 : 4 ))
  for (( round = 1; round <= rounds; round++ )); do
    for v in plain versions metrics bound_never bound_half; do
      say "variant $v (round $round)"
      tmp="$out/variant.$v.$round.jsonl"
      # shellcheck disable=SC2086 # the variable is a list of NAME=VALUE words
      if timeout -k 10 "$step_limit" env ${variant_env[$v]} "$bin" ${variant_args[$v]:-} --mode mix --maps tsmap \
           --workloads A,C --threads "1,$(( nproc >= 2 ? 2 : 1 ))" "${sizes[@]}" "${timing[@]}" \
           --out "$tmp" 2>>"$log"; then
        grep '"kind":"mix"' "$tmp" \
          | sed "s/\"kind\":\"mix\"/\"kind\":\"variant\",\"variant\":\"$v\",\"round\":$round/" >>"$res" || true
      else
        step_failed "variant-$v" tsmap $?
      fi
    done
  done
fi
say "memory (E): one fresh process per map"
for m in $maps; do
  timeout -k 10 "$step_limit" "$bin" --mode memory --maps "$m" "${sizes[@]}" --out "$res" 2>>"$log" \
    || step_failed memory "$m" $?
done

# ---- hit ratio of a bounded map (issue 20): deterministic, ~3 s -------------------------
# tsmap with max_entries against exact LRU, exact LFU and the references (OPT, top-C, A0)
# on the five traces of hitratio/hitratio.c; its exit status says a trace missed its line,
# which report.py reads from the table itself.
if grep -qw tsmap <<<"$maps" && cmake --build "$build" --target tsmap_bench_hitratio >/dev/null 2>&1; then
  say "hit ratio (bounded tsmap)"
  hr_args=(); (( quick )) && hr_args=(1000 200000)
  timeout -k 10 "$step_limit" "$build/tsmap_bench_hitratio" "${hr_args[@]}" >"$out/hitratio.txt" 2>>"$log" || true
fi

# ---- instructions per operation: callgrind on the instr mode ----------------------------
# The simulated last-level cache is the machine's L3, given explicitly: valgrind 3.19
# misdetects this VM's (it simulated a 256 MiB direct-mapped LL, in which both maps' 1M-key
# tables fit, so the LL column said nothing about memory). Fallback: 32 MiB, 16 ways.
ll="$(lscpu -C 2>/dev/null | awk '$1 == "L3" {print $2, $4}')"
ll_bytes="$(numfmt --from=iec "${ll%% *}" 2>/dev/null || echo 33554432)"
ll_ways="${ll##* }"; [[ "$ll_ways" =~ ^[0-9]+$ ]] || ll_ways=16
echo "callgrind LL: $ll_bytes bytes, $ll_ways ways, 64-byte lines" >> "$out/machine.txt"
if command -v valgrind >/dev/null; then
  for m in null $maps; do
    say "callgrind $m"
    timeout -k 10 "$step_limit" valgrind --tool=callgrind --instr-atstart=no --cache-sim=yes \
      --LL="$ll_bytes,$ll_ways,64" --callgrind-out-file="$out/callgrind.$m.%p" \
      "$bin" --mode instr --maps "$m" "${instr_sizes[@]}" --out "$res" >>"$log" 2>&1 \
      || { step_failed callgrind "$m" $?; rm -f "$out"/callgrind."$m".*; }
  done
  # The per-function profile of tsmap's A and C parts, for the findings.
  for f in "$out"/callgrind.tsmap.*; do
    [[ -e "$f" ]] || continue
    part="$(grep -m1 '^desc: Trigger' "$f" | sed 's/.*: //')"
    [[ "$part" == A || "$part" == C ]] || continue
    callgrind_annotate --inclusive=no "$f" 2>/dev/null | head -40 > "$out/profile.tsmap.$part.txt" || true
  done
else
  say "valgrind not installed: no instructions/op figures"
fi
say "measurements took $((SECONDS - t0)) s"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)" >> "$out/machine.txt"
echo "measurement time: $((SECONDS - t0)) s" >> "$out/machine.txt"

python3 "$here/scripts/report.py" --run "$out" --results "$here/RESULTS.md" --plots "$here/plots"
say "wrote $here/RESULTS.md and $here/plots/ (total $((SECONDS - t0)) s)"
