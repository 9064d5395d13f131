#!/bin/sh
# promtool_check.sh EXE: EXE (tsmap_rt_metrics) writes an exposition of two metered maps
# to a file; `promtool check metrics` (Debian package prometheus) must accept it with no
# problem reported. Exits 77 (ctest: skipped) without promtool.
set -eu
exe="$1"
if ! command -v promtool >/dev/null 2>&1; then
  echo "SKIP: promtool not installed (Debian package prometheus)"
  exit 77
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
TSMAP_METRICS_OUT="$tmp/metrics.txt" "$exe" test_exposition_file
grep -q '^tsmap_operation_duration_seconds_bucket{map="orders",op="get",le="+Inf"} 3000$' \
  "$tmp/metrics.txt"
# the families every map has (tsmap_retired_bytes among them), each with its series
for family in tsmap_entries tsmap_shards tsmap_table_bytes tsmap_retired_bytes \
    tsmap_growth_in_progress tsmap_migrated_groups_total; do
  grep -q "^# TYPE $family " "$tmp/metrics.txt" || { echo "no $family"; exit 1; }
  grep -q "^$family{map=\"orders\"} [0-9]" "$tmp/metrics.txt" || { echo "no $family{map=orders}"; exit 1; }
done
out="$(promtool check metrics < "$tmp/metrics.txt" 2>&1)" || { echo "$out"; exit 1; }
if [ -n "$out" ]; then echo "$out"; exit 1; fi
echo "promtool check metrics: $(wc -l < "$tmp/metrics.txt") lines, no problems"
