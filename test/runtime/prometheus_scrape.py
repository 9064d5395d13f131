#!/usr/bin/env python3
"""prometheus_scrape.py EXPORTER: a real Prometheus server scrapes examples/metrics_exporter.

Starts the exporter on a free loopback port, then `prometheus` on another free loopback
port with a temporary storage directory and a scrape configuration for the exporter
(interval 1 s), waits for a scrape, and asks Prometheus's HTTP API (/api/v1/query) for
`up`, `tsmap_entries{map="orders"}` and the rate of puts. Bounded: 60 s in all. Both
processes are stopped on every path. Exits 77 (ctest: skipped) without prometheus.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

DEADLINE = 60.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(port, expr):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": expr}))
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError("query %s: %s" % (expr, body))
    return [(res["metric"], float(res["value"][1])) for res in body["data"]["result"]]


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(what, fn, t0):
    """Call fn until it returns a true value or the deadline passes."""
    last = None
    while time.monotonic() - t0 < DEADLINE:
        try:
            got = fn()
            if got:
                return got
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.5)
    raise SystemExit("timed out after %.0f s waiting for %s (last error: %s)" % (DEADLINE, what, last))


def main():
    prom = shutil.which("prometheus")
    if not prom:
        print("SKIP: prometheus not installed (Debian package prometheus)")
        return 77
    t0 = time.monotonic()
    exporter = server = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            exporter = subprocess.Popen([sys.argv[1], "--port", "0", "--seconds", str(int(DEADLINE) + 10)],
                                        stdout=subprocess.PIPE, text=True)
            line = exporter.stdout.readline()
            target = line.strip().rsplit(" ", 1)[-1]
            print("exporter: " + line.strip())
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
            up = wait_for("up{job=\"tsmap\"} == 1", lambda: [v for _, v in query(port, 'up{job="tsmap"}') if v == 1], t0)
            entries = wait_for("tsmap_entries{map=\"orders\"} > 0",
                               lambda: [v for _, v in query(port, 'tsmap_entries{map="orders"}') if v > 0], t0)
            puts = wait_for("a rate of puts",
                            lambda: [v for _, v in query(port, 'sum(rate(tsmap_operations_total{map="orders",op="put"}[5s]))') if v > 0], t0)
            p99 = query(port, 'histogram_quantile(0.99, sum by (le) (rate(tsmap_operation_duration_seconds_bucket{map="orders",op="get"}[5s])))')
            print("up %s; tsmap_entries{map=\"orders\"} = %.0f; puts/s = %.0f; get p99 = %s s (%.1f s)"
                  % (up[0], entries[0], puts[0], p99[0][1] if p99 else "n/a", time.monotonic() - t0))
            return 0
        finally:
            stop(server)
            stop(exporter)


if __name__ == "__main__":
    sys.exit(main())
