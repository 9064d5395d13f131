#!/bin/sh
# probes_check.sh notes LIB    readelf -n on the built libtsmap lists every USDT probe of
#                              runtime/src/probes.h with its argument format (sizes: 8 a
#                              pointer or size, -4 an int; locations are the compiler's).
# probes_check.sh attach EXE   where this machine lets a tracer attach (bpftrace, else
#                              perf probe on the SDT markers), count op_start hits in EXE
#                              (tsmap_rt_metrics: thousands); else exit 77 with the reason.
set -u
mode="$1"
target="$2"
if [ "$mode" = notes ]; then
  notes="$(readelf -n "$target" | awk '/stapsdt/ {p=1} p && /Name:/ {n=$2} p && /Arguments:/ {sub(/.*Arguments: /, ""); print n ": " $0; p=0}')"
  fail=0
  # probe and the pattern of its argument sizes
  for want in 'op_start:8 -4' 'op_end:-4 -4' 'growth_start:8 8 8 8' 'growth_step:8 8 8 8' \
              'growth_end:8 8 8' 'evict:8 -4 8 8' 'reentered:8 8 8' 'wait_start:8 8 8' \
              'wait_end:8 8 8'; do
    name="${want%%:*}"
    sizes="${want#*:}"
    lines="$(printf '%s\n' "$notes" | grep "^$name: ")"
    if [ -z "$lines" ]; then
      echo "missing probe tsmap:$name"; fail=1; continue
    fi
    got="$(printf '%s\n' "$lines" | sed 's/^[^:]*: //; s/@[^ ]*//g' | sort -u)"
    if [ "$got" != "$sizes" ]; then
      echo "tsmap:$name has arguments '$got', want '$sizes'"; fail=1
    fi
    echo "tsmap:$name ($(printf '%s\n' "$lines" | wc -l) sites): $(printf '%s\n' "$lines" | head -1 | sed 's/^[^:]*: //')"
  done
  exit $fail
fi

# attach: count real hits
if command -v bpftrace >/dev/null 2>&1; then
  out="$(timeout 60 bpftrace -e "usdt:$target:tsmap:op_start { @hits = count(); }" -c "$target" 2>&1)"
  hits="$(printf '%s\n' "$out" | sed -n 's/^@hits: //p')"
  [ -n "$hits" ] || { echo "SKIP: bpftrace could not attach: $(printf '%s' "$out" | tail -3)"; exit 77; }
elif command -v perf >/dev/null 2>&1; then
  # The event's name (sdt_tsmap:op_start) is the machine's, not this run's: another run of
  # this test (a second build's suite) would add its binary's sites as op_start_1 and
  # delete ours when it ends. One run at a time on the machine, then.
  exec 9>"${TMPDIR:-/tmp}/tsmap-probes-attach.lock"
  flock -w 100 9 || { echo "SKIP: another run held the probes lock for 100 s"; exit 77; }
  perf probe -q -d 'sdt_tsmap:*' >/dev/null 2>&1 # what a stopped run left behind
  # perf adds every site of the SDT note to one event; it may still report an error for
  # a site it sees twice, so the test looks at what was added, not at its status.
  out="$(perf probe -q -x "$target" sdt_tsmap:op_start 2>&1)"
  if ! perf probe -l 2>/dev/null | grep -q 'sdt_tsmap:op_start'; then
    echo "SKIP: perf probe cannot add the SDT event here: $(printf '%s' "$out" | grep -v 'debug information' | tr '\n' ' ')"
    echo "(needs root and a tracefs with uprobe_events, e.g. not in an unprivileged container)"
    exit 77
  fi
  hits="$(perf stat -x, -e sdt_tsmap:op_start "$target" 2>&1 >/dev/null | awk -F, '/sdt_tsmap:op_start/ {print $1}')"
  perf probe -q -d 'sdt_tsmap:*' >/dev/null 2>&1
else
  echo "SKIP: neither bpftrace nor perf is installed"; exit 77
fi
echo "tsmap:op_start hits: $hits"
[ "${hits:-0}" -gt 1000 ]
