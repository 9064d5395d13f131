#!/usr/bin/env python3
"""Times the tsmap-* checks against parsing alone, in one run.

For each input it runs, REPS times each, interleaved:
  parse:  clang-19 -fsyntax-only <flags> <file>
  tidy:   clang-tidy-19 --load <plugin> --checks='-*,tsmap-*' <file> -- <flags>
and reports the minimum and the median CPU time (user + system) of each, and the
overhead of tidy over parse (from the minima: the least disturbed runs on a
busy machine; wall minima are shown too).
Note that `tidy` also pays clang-tidy's own fixed cost (option parsing, its
diagnostic engine), so the overhead is an upper bound on what the checks cost.

Inputs:
  sqlite  the SQLite amalgamation (sqlite3.c) from the npm package better-sqlite3
  stress  gen_stress.py at N and 2N (the checks' scaling: 2N should cost
          at most 2.2x N)

Usage: bench.py --plugin P --sqlite path/to/sqlite3.c --out DIR [--n 1000] [--reps 3]
Prints a Markdown report on stdout.
"""
import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd):
    """Runs cmd; returns (CPU seconds, wall seconds, output). CPU time (user +
    system of the child) is the figure reported: on a shared machine the wall
    time mostly measures the other jobs."""
    c0, t0 = cpu_children(), time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt, wall = cpu_children() - c0, time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write("bench: command failed (%d): %s\n%s\n" %
                         (proc.returncode, " ".join(cmd), proc.stdout[-2000:]))
        sys.exit(1)
    return dt, wall, proc.stdout


def measure(name, path, flags, args, tidy_config=None):
    parse = [args.clang, "-fsyntax-only"] + flags + [path]
    tidy = [args.clang_tidy, "--load", args.plugin, "--checks=-*,tsmap-*", "--quiet"]
    if tidy_config:
        tidy.append("--config=" + tidy_config)
    tidy += [path, "--"] + flags
    times = {"parse": [], "tidy": [], "parse_wall": [], "tidy_wall": []}
    warnings = 0
    for _ in range(args.reps):
        dt, wall, _ = timed(parse)
        times["parse"].append(dt)
        times["parse_wall"].append(wall)
        dt, wall, out = timed(tidy)
        times["tidy"].append(dt)
        times["tidy_wall"].append(wall)
        warnings = out.count("warning:")
    p, t = min(times["parse"]), min(times["tidy"])
    return {
        "name": name, "path": path, "lines": sum(1 for _ in open(path, errors="replace")),
        "parse_min": p, "parse_med": statistics.median(times["parse"]),
        "tidy_min": t, "tidy_med": statistics.median(times["tidy"]),
        "overhead": (t - p) / p, "checks": t - p, "warnings": warnings,
        "parse_wall": min(times["parse_wall"]), "tidy_wall": min(times["tidy_wall"]),
    }


def loadavg():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--sqlite", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--clang", default="clang-19")
    ap.add_argument("--clang-tidy", default="clang-tidy-19")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    load_before = loadavg()
    rows = []
    sqlite_flags = ["-std=c11", "-w", "-DSQLITE_THREADSAFE=1", "-DSQLITE_ENABLE_FTS5",
                    "-DSQLITE_ENABLE_JSON1", "-I" + os.path.dirname(args.sqlite)]
    rows.append(measure("sqlite3.c (amalgamation)", args.sqlite, sqlite_flags, args))

    # The stress file is checked with MaxCallDepth 24 so its 20-deep chains are
    # walked to the end (the default, 8, stops early and finds nothing there).
    deep = ("{CheckOptions: {tsmap-non-idempotent-callback.MaxCallDepth: 24, "
            "tsmap-reentrant-callback.MaxCallDepth: 24}}")
    for n in (args.n, 2 * args.n):
        path = os.path.join(args.out, "stress-%d.c" % n)
        with open(path, "w") as f:
            subprocess.run([sys.executable, os.path.join(HERE, "gen_stress.py"), str(n)],
                           stdout=f, check=True)
        rows.append(measure("stress N=%d" % n, path, ["-std=c11", "-w"], args, deep))
    load_after = loadavg()

    print("CPU seconds (user + system), min / median of the repetitions; wall minima "
          "for reference.")
    print()
    print("| input | lines | parse CPU min / median (s) | tsmap-* CPU min / median (s) | "
          "checks (s) | overhead | wall parse / tsmap-* (s) | warnings |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %d | %.2f / %.2f | %.2f / %.2f | %.2f | %+.1f%% | %.2f / %.2f | %d |" % (
            r["name"], r["lines"], r["parse_min"], r["parse_med"], r["tidy_min"],
            r["tidy_med"], r["checks"], 100 * r["overhead"], r["parse_wall"],
            r["tidy_wall"], r["warnings"]))
    s1, s2 = rows[1], rows[2]
    print()
    print("- SQLite overhead: %+.1f%% (target: at most +10%%)" % (100 * rows[0]["overhead"]))
    print("- stress 2N / N, whole clang-tidy run: %.2fx; checks alone (tidy - parse): %.2fx "
          "(target: at most 2.2x)" % (s2["tidy_min"] / s1["tidy_min"],
                                      s2["checks"] / s1["checks"] if s1["checks"] > 0 else float("nan")))
    print("- %d repetitions each, interleaved; load average before: %s, after: %s; %s, %d CPUs" % (
        args.reps, load_before, load_after, platform.platform(), os.cpu_count() or 0))


if __name__ == "__main__":
    main()
