#!/usr/bin/env python3
"""Times the tsmap-* checks against parsing alone, in one run.

For each input it runs, REPS times each, interleaved:
  parse:  clang-19 -fsyntax-only <flags> <file>
  tidy:   clang-tidy-19 --load <plugin> --checks='-*,tsmap-*' <file> -- <flags>
(on SQLite also clang-tidy with one preprocessor-only upstream check and no
plugin, and the tsmap-* checks with the annotations header force-included)
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


def tidy_cmd(args, path, flags, checks="-*,tsmap-*", plugin=True, tidy_config=None):
    cmd = [args.clang_tidy] + (["--load", args.plugin] if plugin else [])
    cmd += ["--checks=" + checks, "--quiet"]
    if tidy_config:
        cmd.append("--config=" + tidy_config)
    return cmd + [path, "--"] + flags


def measure(name, path, flags, args, tidy_config=None, extra=()):
    """Times parse and tidy on path, and each (key, cmd) of extra, interleaved."""
    cmds = [("parse", [args.clang, "-fsyntax-only"] + flags + [path]),
            ("tidy", tidy_cmd(args, path, flags, tidy_config=tidy_config))] + list(extra)
    times = {key: [] for key, _ in cmds}
    walls = {key: [] for key, _ in cmds}
    warnings = 0
    for _ in range(args.reps):
        for key, cmd in cmds:
            dt, wall, out = timed(cmd)
            times[key].append(dt)
            walls[key].append(wall)
            if key == "tidy":
                warnings = out.count("warning:")
    p, t = min(times["parse"]), min(times["tidy"])
    row = {
        "name": name, "path": path, "lines": sum(1 for _ in open(path, errors="replace")),
        "parse_min": p, "parse_med": statistics.median(times["parse"]),
        "tidy_min": t, "tidy_med": statistics.median(times["tidy"]),
        "overhead": (t - p) / p, "checks": t - p, "warnings": warnings,
        "parse_wall": min(walls["parse"]), "tidy_wall": min(walls["tidy"]),
    }
    for key, _ in extra:
        row[key + "_min"] = min(times[key])
        row[key + "_med"] = statistics.median(times[key])
    return row


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
    # Two reference points beside the target's pair: clang-tidy's own run with
    # the cheapest upstream check (preprocessor callbacks only, no plugin),
    # which every clang-tidy check pays (its AST-matcher traversal), and the
    # tsmap-* checks on the same file made to look as if it used contracts
    # (annotations.h force-included), which runs their matchers.
    annotations = os.path.join(HERE, "..", "..", "annotations", "include")
    contract_flags = sqlite_flags + ["-I" + annotations, "-include", "tsmap/annotations.h"]
    rows.append(measure("sqlite3.c (amalgamation)", args.sqlite, sqlite_flags, args, extra=[
        ("floor", tidy_cmd(args, args.sqlite, sqlite_flags,
                           checks="-*,readability-duplicate-include", plugin=False)),
        ("open", tidy_cmd(args, args.sqlite, contract_flags)),
    ]))

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
    s0, s1, s2 = rows[0], rows[1], rows[2]
    print()
    print("- SQLite overhead: %+.1f%% (target: at most +10%%)" % (100 * s0["overhead"]))
    print("- SQLite, clang-tidy's own run (`--checks=-*,readability-duplicate-include`, no "
          "plugin): %.2f / %.2f s, %+.1f%% over parsing; tsmap-* over it: %+.1f%%" % (
              s0["floor_min"], s0["floor_med"],
              100 * (s0["floor_min"] - s0["parse_min"]) / s0["parse_min"],
              100 * (s0["tidy_min"] - s0["floor_min"]) / s0["floor_min"]))
    print("- SQLite with `-include tsmap/annotations.h` (the checks' matchers run): "
          "%.2f / %.2f s, %+.1f%% over parsing" % (
              s0["open_min"], s0["open_med"],
              100 * (s0["open_min"] - s0["parse_min"]) / s0["parse_min"]))
    print("- stress 2N / N, whole clang-tidy run: %.2fx; checks alone (tidy - parse): %.2fx "
          "(target: at most 2.2x)" % (s2["tidy_min"] / s1["tidy_min"],
                                      s2["checks"] / s1["checks"] if s1["checks"] > 0 else float("nan")))
    print("- %d repetitions each, interleaved; load average before: %s, after: %s; %s, %d CPUs" % (
        args.reps, load_before, load_after, platform.platform(), os.cpu_count() or 0))


if __name__ == "__main__":
    main()
