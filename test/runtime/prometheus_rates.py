#!/usr/bin/env python3
"""prometheus_rates.py EXPORTER: what a real Prometheus server computes from libtsmap's
counters and histograms while a load runs is never negative or NaN (black-box round 7).

Starts examples/metrics_exporter (its worker keeps two metered maps busy) and
`prometheus` on free loopback ports (scrape and evaluation every 1 s), lets it scrape for
about 12 s, then asks its HTTP API, at several instants:
  - rate() of every tsmap_operations_total series: >= 0 and a number;
  - histogram_quantile(0.5 and 0.99) of tsmap_operation_duration_seconds per op, where that
    op's _count rose: a number >= 0 (a bucket that went backwards, or _count ahead of the
    +Inf bucket, gives NaN or a negative rate);
  - resets() over the whole run of every counter series (operations, the duration
    histogram's buckets, _sum and _count, evictions, migrated groups): 0, since the
    exporter never restarts, so a reset means a counter went down between scrapes;
  - _count equal to the +Inf bucket at every scraped instant.
Bounded: 75 s in all. Both processes are stopped on every path. Exits 77 (ctest: skipped)
without prometheus.
"""
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prometheus_scrape import free_port, query, stop, wait_for  # noqa: E402

LOAD_SECONDS = 12.0


def main():
    prom = shutil.which("prometheus")
    if not prom:
        print("SKIP: prometheus not installed (Debian package prometheus)")
        return 77
    t0 = time.monotonic()
    exporter = server = None
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            exporter = subprocess.Popen([sys.argv[1], "--port", "0", "--seconds", "70"],
                                        stdout=subprocess.PIPE, text=True)
            line = exporter.stdout.readline()
            target = line.strip().rsplit(" ", 1)[-1]
            port = free_port()
            with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
                f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        "scrape_configs:\n  - job_name: tsmap\n    static_configs:\n"
                        "      - targets: ['%s']\n" % target)
            server = subprocess.Popen(
                [prom, "--config.file=" + os.path.join(tmp, "prometheus.yml"),
                 "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                 "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prometheus.log"), "w"))
            wait_for("up{job=\"tsmap\"} == 1",
                     lambda: [v for _, v in query(port, 'up{job="tsmap"}') if v == 1], t0)
            start = time.monotonic()
            looks = 0
            while time.monotonic() - start < LOAD_SECONDS:
                time.sleep(1.5)
                looks += 1
                for m, v in query(port, "rate(tsmap_operations_total[4s])"):
                    if math.isnan(v) or v < 0:
                        failures.append("rate %s = %s" % (m, v))
                counts = {(m["map"], m["op"]): v for m, v in query(
                    port, "sum by (map, op) (rate(tsmap_operation_duration_seconds_count[4s]))")}
                for q in ("0.5", "0.99"):
                    for m, v in query(port, "histogram_quantile(%s, sum by (map, op, le) "
                                      "(rate(tsmap_operation_duration_seconds_bucket[4s])))" % q):
                        if counts.get((m["map"], m["op"]), 0) > 0 and (math.isnan(v) or v < 0):
                            failures.append("quantile %s of %s = %s" % (q, m, v))
                inf = {(m["map"], m["op"]): v for m, v in query(
                    port, 'tsmap_operation_duration_seconds_bucket{le="+Inf"}')}
                for m, v in query(port, "tsmap_operation_duration_seconds_count"):
                    if inf.get((m["map"], m["op"])) != v:
                        failures.append("_count %s = %s, +Inf bucket %s"
                                        % (m, v, inf.get((m["map"], m["op"]))))
            window = "%ds" % int(time.monotonic() - start + 10)
            resets = 0
            for series in ("tsmap_operations_total", "tsmap_operation_duration_seconds_bucket",
                           "tsmap_operation_duration_seconds_sum",
                           "tsmap_operation_duration_seconds_count", "tsmap_evictions_total",
                           "tsmap_migrated_groups_total"):
                got = query(port, "resets(%s[%s])" % (series, window))
                resets += len(got)
                for m, v in got:
                    if v != 0:
                        failures.append("resets(%s) = %s for %s" % (series, v, m))
            ops = query(port, "sum(increase(tsmap_operations_total[%s]))" % window)
            print("%d looks over %.0f s; %d counter series checked for resets; operations in "
                  "the window: %s" % (looks, LOAD_SECONDS, resets, ops[0][1] if ops else "none"))
            if not ops or ops[0][1] <= 0 or resets == 0:
                failures.append("no load seen")
        finally:
            stop(server)
            stop(exporter)
    for f in failures[:20]:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
