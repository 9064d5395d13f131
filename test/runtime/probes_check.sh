#!/bin/sh
# probes_check.sh notes LIB    readelf -n on the built libtsmap lists every USDT probe of
#                              runtime/src/probes.h with its argument format (sizes: 8 a
#                              pointer or size, -4 an int; locations are the compiler's).
# probes_check.sh attach EXE   where this machine lets a tracer attach (bpftrace, else
#                              perf probe on the SDT markers), count op_start hits in EXE
#                              (tsmap_rt_metrics: thousands); else exit 77 with the reason.
#                              With bpftrace, every probe of docs/observability.md is
#                              attached and must fire in EXE, op_start as often as op_end,
#                              with op codes, statuses and evict reasons in the documented
#                              ranges (black-box round 8).
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
  u="usdt:$target:tsmap"
  # op codes 0..16 (enum tsmap_op), statuses 0..12 (tsmap_status), reasons 0..5
  prog="$u:op_start { @hits = count(); } $u:op_start /arg1 > 16/ { @bad_op = count(); }
    $u:op_end { @op_end = count(); } $u:op_end /arg0 > 16 || arg1 > 12/ { @bad_end = count(); }
    $u:evict { @evict = count(); } $u:evict /arg1 > 5 || arg3 > 1073741824/ { @bad_evict = count(); }
    $u:growth_start { @growth_start = count(); } $u:growth_step { @growth_step = count(); }
    $u:growth_end { @growth_end = count(); } $u:reentered { @reentered = count(); }
    $u:wait_start { @wait_start = count(); } $u:wait_end { @wait_end = count(); }"
  out="$(timeout 100 bpftrace -e "$prog" -c "$target" 2>&1)"
  hits="$(printf '%s\n' "$out" | sed -n 's/^@hits: //p')"
  [ -n "$hits" ] || { echo "SKIP: bpftrace could not attach: $(printf '%s' "$out" | tail -3)"; exit 77; }
  fail=0
  for p in op_end evict growth_start growth_step growth_end reentered wait_start wait_end; do
    n="$(printf '%s\n' "$out" | sed -n "s/^@$p: //p")"
    echo "tsmap:$p hits: ${n:-0}"
    [ "${n:-0}" -gt 0 ] || { echo "tsmap:$p never fired"; fail=1; }
  done
  ends="$(printf '%s\n' "$out" | sed -n 's/^@op_end: //p')"
  [ "$ends" = "$hits" ] || { echo "op_start $hits times, op_end ${ends:-0}"; fail=1; }
  if printf '%s\n' "$out" | grep -q '^@bad_[a-z]*: [1-9]'; then # bpftrace lists zeros too
    printf '%s\n' "$out" | grep '^@bad_'; fail=1
  fi
  [ "$fail" = 0 ] || exit 1
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
