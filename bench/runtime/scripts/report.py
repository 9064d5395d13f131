#!/usr/bin/env python3
"""Turn one run of bench/runtime (out/<stamp>/) into RESULTS.md and gnuplot PNGs.

Reads results.jsonl (the harness's JSON lines), machine.txt, callgrind.<map>.<pid>.<n>
files and profile.tsmap.*.txt; writes RESULTS.md, plots/*.png and, beside the raw data,
the gnuplot inputs.  Standard library only.
"""
import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys

OURS = "tsmap"
UNSYNC = "absl"
LOCKED = {"absl_rwlock", "glib_rwlock"}


def load(path):
    recs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    recs.append(json.loads(line))
                except json.JSONDecodeError:
                    print("skipping bad line: " + line[:80], file=sys.stderr)
    return recs


def median_rec(rs, key):
    """The record whose `key` is the median (lower median for even counts)."""
    rs = sorted(rs, key=lambda r: r.get(key, 0))
    return rs[(len(rs) - 1) // 2]


def group(recs, kind, *keys):
    out = {}
    for r in recs:
        if r.get("kind") == kind:
            out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def parse_callgrind(run_dir):
    """{map: {part: {event: count}}} from the dumps triggered by client requests."""
    out = {}
    for path in glob.glob(os.path.join(run_dir, "callgrind.*.*.*")):
        m = re.match(r"callgrind\.(.+)\.\d+\.\d+$", os.path.basename(path))
        if not m:
            continue
        name, part, events, totals = m.group(1), None, None, None
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith("desc: Trigger: Client Request: "):
                    part = line.split(": ")[-1].strip()
                elif line.startswith("events:"):
                    events = line.split()[1:]
                elif line.startswith("totals:"):
                    totals = [int(x) for x in line.split()[1:]]
        if part and events and totals:
            out.setdefault(name, {})[part] = dict(zip(events, totals))
    return out


def parse_hitratio(run_dir):
    """hitratio.txt (tsmap_bench_hitratio's table): its header line and, per trace, the
    columns by name (percent)."""
    path = os.path.join(run_dir, "hitratio.txt")
    if not os.path.exists(path):
        return None
    lines = [l.rstrip("\n") for l in open(path)]
    cols = ["OPT", "top-C", "A0", "LRU", "LFU", "tsmap", "tsmap 1 shard"]
    rows = {}
    for l in lines[2:]:
        f = l.split()
        if len(f) >= 8:
            try:
                rows[f[0]] = dict(zip(cols, (float(x) for x in f[1:8])))
            except ValueError:
                pass
    return {"header": lines[0] if lines else "", "rows": rows} if rows else None


def gnuplot(script):
    """Runs one gnuplot script; a missing or failing gnuplot costs the plot, not the report."""
    try:
        subprocess.run(["gnuplot", script], check=True, timeout=120)
        return True
    except (OSError, subprocess.SubprocessError) as e:
        print("report.py: gnuplot %s failed: %s" % (script, e), file=sys.stderr)
        return False


def fmt(x, digits=2):
    if x is None:
        return "–"
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return ("%%.%df" % digits) % x


def us(ns):
    return None if ns is None else ns / 1000.0


class Report:
    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.recs = load(os.path.join(run_dir, "results.jsonl"))
        self.machine = []
        mt = os.path.join(run_dir, "machine.txt")
        if os.path.exists(mt):
            self.machine = [l.rstrip("\n") for l in open(mt)]
        self.info = dict(l.split(": ", 1) for l in self.machine if ": " in l)
        self.desc = {}
        for r in self.recs:
            if r["kind"] == "map":
                self.desc[r["map"]] = (r["desc"], r.get("concurrent", 1))
        self.mix = {k: median_rec(v, "mops") for k, v in group(self.recs, "mix", "workload", "map", "threads").items()}
        self.growth_all = group(self.recs, "growth", "map", "threads")
        self.cia = {k: median_rec(v, "mops") for k, v in group(self.recs, "cia", "map", "threads").items()}
        self.growread = {k: v[-1] for k, v in group(self.recs, "growread", "map", "threads").items()}
        self.memory = {k[0]: v[-1] for k, v in group(self.recs, "memory", "map").items()}
        self.reshard = [r for r in self.recs if r["kind"] == "reshard"]
        self.failures = [r for r in self.recs if r["kind"] == "failure"]
        self.unfinished = [r for r in self.recs if r["kind"] == "step_failed"]
        self.selfcheck = {}
        for r in self.recs:
            if r["kind"] == "selfcheck":
                ok = self.selfcheck.get(r["map"], True)
                self.selfcheck[r["map"]] = ok and bool(r["ok"])
        self.cg = parse_callgrind(run_dir)
        self.hitratio = parse_hitratio(run_dir)
        self.maps = []
        for r in self.recs:  # order of first appearance, ours first
            m = r.get("map")
            if m and m not in self.maps and m != "null":
                self.maps.append(m)
        self.maps.sort(key=lambda m: (m != OURS, m != UNSYNC))
        self.threads = sorted({k[2] for k in self.mix})

    def reshard_section(self):
        """G (`--mode reshard`): every operation of one thread timed, steady state first,
        then while the shard count goes to 4x and back (findings.md, Workload G)."""
        L = []
        n = self.reshard[0].get("entries", 0)
        L.append("## G: latency during a live reshard of %s entries (ours)" % format(int(n), ","))
        L.append("")
        L.append("One thread, 50% gets and 50% overwrites of the prefilled keys, uniform, every "
                 "operation timed: the steady state, then while the map reshards to 4× its shards "
                 "(two doublings), then back (two halvings); RUNS. The target (issue 23): p99.99 during a "
                 "reshard within 2× of the steady state, nothing over 1 ms. Wall-clock tails follow "
                 "the machine's load (see the preemptions, and the load average); the minor page "
                 "faults of the thread per phase do not (they include ~1 a 1,024 operations from "
                 "the harness's sample vectors). *Ops > 10 µs a second* is to be read next to "
                 "machine.txt's interruptions (how often this machine stops a busy thread for "
                 "over 10 µs): when a phase's count is about the machine's, a p99.99 above "
                 "10 µs is the machine stopping the thread, and a phase whose operations are "
                 "slower takes more of those stops per operation.".replace("RUNS",
                     "%d runs, each a fresh process; the targets compare each phase with the steady "
                     "state of its own run and take the median over the runs" % len(self.reshard_runs())
                     if len(self.reshard_runs()) > 1 else "one run"))
        L.append("")
        L.append("| phase | shards | ops | get p50 / p99.9 / p99.99 / max µs | put p50 / p99.9 / p99.99 / max µs "
                 "| ops > 10 µs a second | ops > 1 ms (alone) | minor faults | preemptions | load |")
        L.append("|---|---|---:|---|---|---:|---:|---:|---:|---:|")
        several = len(self.reshard_runs()) > 1
        label = lambda r: "%s (run %d)" % (r["phase"], r.get("rep", 1)) if several else r["phase"]
        for r in self.reshard:
            q = lambda p: "%s / %s / %s / %s" % tuple(fmt(r.get(p + k, 0) / 1e3) for k in
                                                     ("p50_ns", "p999_ns", "p9999_ns", "max_ns"))
            over10 = r.get("get_over_10us", 0) + r.get("put_over_10us", 0)
            L.append("| %s | %d → %d | %s | %s | %s | %s | %d (%d) | %s | %d | %s |" % (
                label(r), r["shards_from"], r["shards_to"], format(int(r["ops"]), ","), q("get_"), q("put_"),
                "%.0f" % (over10 / r["wall_s"]) if "get_over_10us" in r and r.get("wall_s") else "–",
                r.get("get_over_1ms", 0) + r.get("put_over_1ms", 0), r.get("over_1ms_alone", 0),
                format(int(r.get("minor_faults", 0)), ","), r.get("preemptions", 0), fmt(r.get("load1", 0), 1)))
        L.append("")
        if any(r.get("irqs", -1) >= 0 for r in self.reshard):
            L.append("What sets each p99.99 (`--pin`): the interrupts the timing thread's CPU took, "
                     "how many of 10,000 operations of the mean length one lands in (above 1, the "
                     "p99.99 is an interrupt's cost plus an operation), and the p99.99 of a timed "
                     "spin as long as the mean operation (the machine's floor for it; "
                     "runtime/DESIGN.md, G15).")
            L.append("")
            L.append("| phase | interrupts | get mean µs / per 10k / spin p99.99 µs "
                     "| put mean µs / per 10k / spin p99.99 µs |")
            L.append("|---|---:|---|---|")
            for r in self.reshard:
                q = lambda p: "%s / %s / %s" % (fmt(r.get(p + "mean_ns", 0) / 1e3, 2),
                                                fmt(r.get(p + "irq_per_10k", 0), 2),
                                                fmt(r.get(p + "floor_p9999_ns", 0) / 1e3))
                L.append("| %s | %d | %s | %s |" % (label(r), r.get("irqs", -1), q("get_"), q("put_")))
            L.append("")
        return L

    # ---- derived figures -------------------------------------------------------------
    def mops(self, w, m, t):
        r = self.mix.get((w, m, t))
        return r["mops"] if r else None

    def concurrent_peers(self):
        return [m for m in self.maps if m not in (OURS, UNSYNC)]

    def best_peer(self, w, t):
        best = None
        for m in self.concurrent_peers():
            v = self.mops(w, m, t)
            if v is not None and (best is None or v > best[1]):
                best = (m, v)
        return best

    def growth(self, m, t):
        rs = self.growth_all.get((m, t))
        if not rs:
            return None
        stats = {}
        for key in ("p50_ns", "p99_ns", "p999_ns", "p9999_ns", "max_ns", "mops", "cpu", "steal"):
            stats[key] = statistics.median(r[key] for r in rs)
        stats["cut"] = [r for r in rs if not r.get("complete", 1)]
        pre = [r["preemptions"] for r in rs if "preemptions" in r]
        stats["preemptions"] = statistics.median(pre) if pre else None
        over = [r["over_10us"] for r in rs if "over_10us" in r]
        stats["over_10us"] = statistics.median(over) if over else None
        inside = [r["inside_s"] for r in rs if "inside_s" in r]
        stats["inside_s"] = statistics.median(inside) if inside else None
        stats["runs"] = len(rs)
        stats["n"] = rs[0].get("ops", 1)
        stats["max_all"] = [r["max_ns"] for r in rs]
        stats["curve"] = median_rec(rs, "p9999_ns")["curve"]
        return stats

    def instr(self, m, part, ev="Ir"):
        d = self.cg.get(m, {}).get(part)
        ops = None
        for r in self.recs:
            if r["kind"] == "instr" and r["map"] == m and r["workload"] == part:
                ops = r["ops"]
        if not d or not ops or ev not in d:
            return None
        return d[ev] / ops

    def cpu_of(self, w, m, t):
        r = self.mix.get((w, m, t))
        return "%.0f%%" % (100 * r["cpu"]) if r else "–"

    def per_cpu(self, w, m, t, ref, tref):
        """The same ratio computed from operations per CPU second (CPU ns/op), not per wall
        second: what the ratio would be had both obtained the same CPU.  Informative only."""
        a, b = self.mix.get((w, m, t)), self.mix.get((w, ref, tref))
        if not a or not b or not a.get("cpu_ns_per_op") or not b.get("cpu_ns_per_op"):
            return ""
        return "; per CPU second %.2f×" % (b["cpu_ns_per_op"] / a["cpu_ns_per_op"] * (t / tref if ref == m else 1))

    def machine_number(self, key):
        """The whole number a machine.txt line starts its value with (None if there is none)."""
        words = self.info.get(key, "").split()
        return int(words[0]) if words and words[0].isdigit() else None

    def busy(self):
        """(is the machine busy, a sentence saying how) from the run's own measurements."""
        info = self.info
        nproc = int(info.get("nproc", "0") or 0) or 1
        load = info.get("load at start", "")
        try:
            load1 = float(load.split()[0])
        except (ValueError, IndexError):
            load1 = None
        cpus = [r["cpu"] for r in self.recs if r.get("kind") in ("mix", "cia") and "cpu" in r
                and r.get("map") not in LOCKED]
        med = statistics.median(cpus) if cpus else None
        busy = (load1 is not None and load1 > 0.5 * nproc) or (med is not None and med < 0.9)
        parts = []
        if load1 is not None:
            parts.append("load average %.1f on %d CPUs when the run started" % (load1, nproc))
        if med is not None:
            parts.append("the lock-free maps' threads obtained a median %.0f%% of a CPU in their "
                         "timed windows" % (100 * med))
        return busy, "; ".join(parts)

    # ---- targets ----------------------------------------------------------------------
    def targets(self):
        rows = []

        def row(name, measured, required, ok, cpu="–"):
            if ok is None:
                rows.append((name, measured, required, "NOT RUN", cpu))
            else:
                rows.append((name, measured, required, "PASS" if ok else "FAIL", cpu))

        have = OURS in self.maps
        for w, need in (("A", 0.9), ("B", 0.9), ("C", 0.6)):
            a, o = self.mops(w, UNSYNC, 1), self.mops(w, OURS, 1)
            name = "%s, 1 thread: ≥ %.1f× unsynchronized absl (issue 19)" % (w, need)
            if have and a and o:
                ratios = [o / a] + self.pair_ratios(w)
                ratio = statistics.median(ratios)
                text = ("%.2f× (%s vs %s Mops/s)" % (o / a, fmt(o), fmt(a)) if len(ratios) == 1 else
                        "%.2f× (median of %d rounds of adjacent processes: %s; the main step %s vs %s Mops/s)" % (
                            ratio, len(ratios), ", ".join("%.2f" % r for r in ratios), fmt(o), fmt(a)))
                row(name, text, "≥ %.2f×" % need, ratio >= need,
                    "%s / %s%s" % (self.cpu_of(w, OURS, 1), self.cpu_of(w, UNSYNC, 1), self.per_cpu(w, OURS, 1, UNSYNC, 1)))
            else:
                row(name, "–", "≥ %.2f×" % need, None)
        for w, need in (("A", 2.0), ("B", 2.0), ("C", 1.5)):
            bp, o = self.best_peer(w, 2), self.mops(w, OURS, 2)
            name = "%s, 2 threads: ≥ %.1f× the best concurrent peer (issue 19)" % (w, need)
            if have and bp and o:
                row(name, "%.2f× (%s vs %s %s Mops/s)" % (o / bp[1], fmt(o), bp[0], fmt(bp[1])),
                    "≥ %.2f×" % need, o / bp[1] >= need,
                    "%s / %s%s" % (self.cpu_of(w, OURS, 2), self.cpu_of(w, bp[0], 2), self.per_cpu(w, OURS, 2, bp[0], 2)))
            else:
                row(name, "–", "≥ %.2f×" % need, None)
        g = self.growth(OURS, 1)
        name = "D, 1 thread: p99.99 insert latency ≤ 5 µs (issue 19)"
        if have and g:
            row(name, "%.1f µs (median of %d runs)" % (g["p9999_ns"] / 1e3, g["runs"]), "≤ 5 µs",
                g["p9999_ns"] <= 5000, "%.0f%%" % (100 * g["cpu"]))
        else:
            row(name, "–", "≤ 5 µs", None)
        peers = [(m, self.growth(m, 1)) for m in self.maps if m != OURS]
        peers = [(m, s) for m, s in peers if s]
        name = "D, 1 thread: max insert latency ≤ 0.1× the best peer's max (issue 19)"
        if have and g and peers:
            bm, bs = min(peers, key=lambda p: p[1]["max_ns"])
            ratio = g["max_ns"] / bs["max_ns"]
            row(name, "%.2f× (%.0f µs vs %s %.0f µs; medians of %d runs)"
                % (ratio, g["max_ns"] / 1e3, bm, bs["max_ns"] / 1e3, g["runs"]),
                "≤ 0.10×", ratio <= 0.1, "%.0f%% / %.0f%%" % (100 * g["cpu"], 100 * bs["cpu"]))
        else:
            row(name, "–", "≤ 0.10×", None)
        name = "E: bytes per entry ≤ 1.0× absl (issue 19)"
        e, a = self.memory.get(OURS), self.memory.get(UNSYNC)
        if have and e and a and a["rss_bytes_per_entry"] > 0:
            ratio = e["rss_bytes_per_entry"] / a["rss_bytes_per_entry"]
            # four places: the two maps' tables are often the same size, and what
            # decides is tens of KiB in over 100 MiB (findings.md, workload E)
            row(name, "%.4f× (%.3f vs %.3f B)" % (ratio, e["rss_bytes_per_entry"], a["rss_bytes_per_entry"]),
                "≤ 1.00×", ratio <= 1.0)
        else:
            row(name, "–", "≤ 1.00×", None)
        name = "Reads lock-free: A at 2 threads ≥ 1.8× A at 1 thread"
        o1, o2 = self.mops("A", OURS, 1), self.mops("A", OURS, 2)
        if have and o1 and o2:
            row(name, "%.2f× (%s vs %s Mops/s)" % (o2 / o1, fmt(o2), fmt(o1)), "≥ 1.80×", o2 / o1 >= 1.8,
                "%s / %s%s" % (self.cpu_of("A", OURS, 2), self.cpu_of("A", OURS, 1), self.per_cpu("A", OURS, 2, OURS, 1)))
        else:
            row(name, "–", "≥ 1.80×", None)
        self.reshard_targets(row)
        self.variant_targets(row)
        self.hitratio_targets(row)
        return rows

    def reshard_runs(self):
        """G's records by run (run.sh's "rep"; records written before runs had one run)."""
        runs = {}
        for r in self.reshard:
            runs.setdefault(r.get("rep", 1), {})[r["phase"]] = r
        return runs

    def reshard_targets(self, row):
        """Issue 23: during each reshard phase, p99.99 of gets and of puts within 2x the
        steady state's, and no operation over 1 ms. With several runs, each phase is
        compared with its own run's steady state and the median over the runs is taken
        (as D's figures are medians of three runs); the worst phase decides."""
        runs = self.reshard_runs()
        pairs = [(rs["steady"], r) for rs in runs.values() if "steady" in rs
                 for ph, r in rs.items() if ph != "steady"]
        if not pairs:
            row("G: p99.99 during a live reshard ≤ 2× steady (issue 23)", "–", "≤ 2.00×", None)
            row("G: no operation over 1 ms during a live reshard (issue 23)", "–", "0", None)
            return
        for op in ("get", "put"):
            key = op + "_p9999_ns"
            per_phase = {}
            for st, r in pairs:
                if st.get(key):
                    per_phase.setdefault(r["phase"], []).append((r[key] / st[key], r[key], st[key]))
            if not per_phase:
                row("G: %s p99.99 during a live reshard ≤ 2× steady (issue 23)" % op, "–", "≤ 2.00×", None)
                continue
            med = {ph: statistics.median(x[0] for x in v) for ph, v in per_phase.items()}
            worst = max(med, key=med.get)
            v = per_phase[worst]
            if len(v) == 1:
                text = "%.2f× (%.1f µs in %s vs %.1f µs steady)" % (med[worst], v[0][1] / 1e3, worst, v[0][2] / 1e3)
            else:
                text = "%.2f× (%s: median of %d runs, each against its steady state: %s)" % (
                    med[worst], worst, len(v),
                    ", ".join("%.2f× (%.1f vs %.1f µs)" % (x[0], x[1] / 1e3, x[2] / 1e3) for x in v))
            row("G: %s p99.99 during a live reshard ≤ 2× steady (issue 23)" % op, text, "≤ 2.00×",
                med[worst] <= 2.0)
        phases = [r for _, r in pairs]
        over = sum(r.get("get_over_1ms", 0) + r.get("put_over_1ms", 0) for r in phases)
        row("G: no operation over 1 ms during a live reshard (issue 23)",
            "%d (%s operations%s)" % (over, format(sum(int(r["ops"]) for r in phases), ","),
                                      ", every run" if len(runs) > 1 else ""), "0", over == 0)

    # Variants of tsmap against the plain map in the same run (run.sh's variant step):
    # (variant, issue, workloads, required ratio).
    VARIANT_TARGETS = (
        ("metrics", 21, ("A", "C"), 0.95),
        ("versions", 22, ("A", "C"), 0.85),
        ("bound_never", 20, ("A",), 0.9),
        ("bound_half", 20, ("A",), 0.7),
    )
    VARIANT_DESC = {
        "plain": "the plain map (the reference)",
        "versions": "versions on (`TSMAP_BENCH_VERSIONS=1`, G12)",
        "metrics": "metrics on (`TSMAP_BENCH_METRICS=1`, M1-M5)",
        "bound_never": "max_entries at 2× the prefill, never reached (G11)",
        "bound_half": "max_entries at half the prefill (G11)",
    }

    def variant_mops(self, v, w, t):
        """Median Mops/s over every timed window of every round of variant v."""
        rs = [r for r in self.recs if r.get("kind") == "variant" and r.get("variant") == v
              and r.get("workload") == w and r.get("threads") == t]
        return (statistics.median(r["mops"] for r in rs), len(rs)) if rs else (None, 0)

    def round_ratios(self, kind, field, num, den, w, t):
        """Per round (run.sh's "round"), the median window of records whose `field` is
        `num` over that of `den`, kind `kind`, workload w at t threads: two things measured
        next to each other in time, in round order."""
        rounds = {}
        for r in self.recs:
            if (r.get("kind") == kind and r.get("workload") == w and r.get("threads") == t
                    and r.get("round") is not None):
                rounds.setdefault(r["round"], {}).setdefault(r.get(field), []).append(r["mops"])
        return [statistics.median(m[num]) / statistics.median(m[den])
                for _, m in sorted(rounds.items()) if m.get(num) and m.get(den)]

    def pair_ratios(self, w):
        """run.sh's pair step: per round, tsmap's median 1-thread window of workload w over
        unsynchronized absl's, the two run in adjacent fresh processes."""
        return self.round_ratios("pair", "map", OURS, UNSYNC, w, 1)

    def variant_ratio(self, v, w, t):
        """Median over rounds of (v's median window / plain's median window in that round):
        each variant is compared with the plain map it shared the machine's state with. The
        host's speed can change between rounds (C at 2 threads moved between ~27 and ~50
        Mops/s from one round to the next in one run), so a ratio of medians pooled over
        every round depends on which variant met which state. Records from runs before the
        rounds were written fall back to the pooled ratio."""
        paired = self.round_ratios("variant", "variant", v, "plain", w, t)
        if paired:
            return statistics.median(paired), len(paired)
        (om, _), (pm, _) = self.variant_mops(v, w, t), self.variant_mops("plain", w, t)
        return (om / pm, 0) if om and pm else (None, 0)

    def variant_targets(self, row):
        for v, issue, ws, need in self.VARIANT_TARGETS:
            for w in ws:
                for t in (1, 2):
                    name = "%s: %s at %d thread%s ≥ %.2f× plain (issue %d)" % (
                        v, w, t, "" if t == 1 else "s", need, issue)
                    (o, _), (p, _) = self.variant_mops(v, w, t), self.variant_mops("plain", w, t)
                    ratio, rounds = self.variant_ratio(v, w, t)
                    if ratio is not None:
                        how = ("median of %d rounds' ratios; pooled %s vs %s Mops/s" % (rounds, fmt(o), fmt(p))
                               if rounds else "%s vs %s Mops/s" % (fmt(o), fmt(p)))
                        row(name, "%.2f× (%s)" % (ratio, how), "≥ %.2f×" % need, ratio >= need)
                    else:
                        row(name, "–", "≥ %.2f×" % need, None)

    def hitratio_targets(self, row):
        h = self.hitratio["rows"] if self.hitratio else {}
        name = "hit ratio ≥ exact LRU on every trace (issue 20)"
        if h:
            worst = min(h, key=lambda t: h[t]["tsmap"] - h[t]["LRU"])
            d = h[worst]["tsmap"] - h[worst]["LRU"]
            row(name, "lowest LRU %+.2f points (%s: %.2f vs %.2f%%)" % (d, worst, h[worst]["tsmap"], h[worst]["LRU"]),
                "≥ LRU", d >= 0)
        else:
            row(name, "–", "≥ LRU", None)
        for t, zipf in (("scan-0.8", "0.8"), ("scan", "0.99")):
            name = "scan trace over Zipf %s: ≥ LRU + 10 points (issue 20)" % zipf
            if t in h:
                r = h[t]
                row(name, "LRU %+.2f (%.2f vs %.2f%%; A0, the optimal online policy: LRU %+.2f)" % (
                    r["tsmap"] - r["LRU"], r["tsmap"], r["LRU"], r["A0"] - r["LRU"]),
                    "≥ LRU + 10", r["tsmap"] - r["LRU"] >= 10.0)
            else:
                row(name, "–", "≥ LRU + 10", None)

    def hitratio_section(self):
        L = ["## Hit ratio of a bounded map (issue 20)", ""]
        L.append("`tsmap_bench_hitratio` (`hitratio/hitratio.c`, deterministic): a cache-aside loop "
                 "(get; on a miss, put) over tsmap with `max_entries` = the capacity, against exact "
                 "LRU and exact LFU on the same traces; OPT (Belady) is the ceiling, top-C the "
                 "capacity's most accessed keys kept all along, A0 the capacity's most probable "
                 "keys (the optimal online policy for independent draws). Traces: Zipf over 10× the "
                 "capacity; `scan`/`scan-0.8`: a pass over 5× the capacity every 10%% of the trace; "
                 "`moving`: the hot set moves halfway. %s." % self.hitratio["header"])
        L.append("")
        L.append("| trace | OPT | top-C | A0 | LRU | LFU | tsmap | tsmap, 1 shard | tsmap − LRU |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for t, r in self.hitratio["rows"].items():
            L.append("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | **%.2f** | %.2f | %+.2f |" % (
                t, r["OPT"], r["top-C"], r["A0"], r["LRU"], r["LFU"], r["tsmap"], r["tsmap 1 shard"],
                r["tsmap"] - r["LRU"]))
        L.append("")
        return L

    def variants_section(self):
        L = ["## Variants: versioned, metered and bounded tsmap against the plain map", ""]
        L.append("The same 1M-key A and C as above, run by `run.sh`'s variant step: each variant in "
                 "a fresh process, the variants interleaved (plain, versions, metrics, bound never "
                 "reached, bound at half) and repeated in rounds, so that each shares the machine's "
                 "state with the plain map it is compared to. Median Mops/s over every timed window "
                 "of every round (n windows); the ratio is the median over rounds of the variant's "
                 "median window against the plain map's of the same round (the host's speed can "
                 "change between rounds, and pooled windows would mix its states).")
        L.append("")
        L.append("| variant | A, 1 thread | A, 2 threads | C, 1 thread | C, 2 threads |")
        L.append("|---|---:|---:|---:|---:|")
        for v in ("plain", "versions", "metrics", "bound_never", "bound_half"):
            cells = []
            for w, t in (("A", 1), ("A", 2), ("C", 1), ("C", 2)):
                o, n = self.variant_mops(v, w, t)
                p, _ = self.variant_mops("plain", w, t)
                if o is None:
                    cells.append("–")
                elif v == "plain" or not p:
                    cells.append("%s (n=%d)" % (fmt(o), n))
                else:
                    cells.append("%s (%.2f×, n=%d)" % (fmt(o), self.variant_ratio(v, w, t)[0], n))
            L.append("| %s | %s |" % (self.VARIANT_DESC[v], " | ".join(cells)))
        L.append("")
        return L

    # ---- plots ------------------------------------------------------------------------
    def plots(self, plot_dir):
        os.makedirs(plot_dir, exist_ok=True)
        data_dir = os.path.join(self.run_dir, "plot-data")
        os.makedirs(data_dir, exist_ok=True)
        made = []
        threads = self.threads or [1]
        colors = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
                  "#9c755f", "#bab0ac"]
        ours_color = "#000000"

        def histogram(fname, title, ylabel, rows, series):
            dat = os.path.join(data_dir, fname + ".dat")
            with open(dat, "w") as f:
                f.write("# map " + " ".join('"%s"' % s for s in series) + "\n")
                for label, vals in rows:
                    f.write('"%s" %s\n' % (label, " ".join("%.6g" % v if v else "NaN" for v in vals)))
            gp = os.path.join(data_dir, fname + ".gp")
            png = os.path.join(plot_dir, fname + ".png")
            cols = ", ".join(
                "'%s' using %d:xtic(1) title '%s' lc rgb '%s'" % (dat, i + 2, s, colors[i % len(colors)])
                for i, s in enumerate(series))
            with open(gp, "w") as f:
                f.write("set terminal pngcairo size 900,480 font 'DejaVu Sans,11'\n")
                f.write("set output '%s'\n" % png)
                f.write("set title \"%s\"\n" % title)
                f.write("set ylabel '%s'\nset logscale y\nset grid ytics mytics\n" % ylabel)
                f.write("set style data histogram\nset style histogram cluster gap 1\n")
                f.write("set style fill solid 0.9 border -1\nset boxwidth 0.9\n")
                f.write("set xtics rotate by -25 scale 0 noenhanced\nset key top right noenhanced\n")
                f.write("set yrange [0.01:*]\n")
                f.write("plot " + cols + "\n")
            if gnuplot(gp):
                made.append(png)

        for w, title in (("A", "A: 95% get / 5% put, uniform, 1M keys"),
                         ("B", "B: 95% get / 5% put, Zipfian 0.99, 1M keys"),
                         ("C", "C: 50% get / 50% put, uniform, 1M keys")):
            rows = [(m, [self.mops(w, m, t) for t in threads]) for m in self.maps]
            histogram("throughput-" + w, title + " (median of runs)", "million ops/s (log)",
                      rows, ["%d thread%s" % (t, "s" if t > 1 else "") for t in threads])
        ct = sorted({k[1] for k in self.cia})
        rows = [(m, [self.cia.get((m, t), {}).get("mops") for t in ct]) for m in self.maps]
        histogram("throughput-F1", "F1: compute_if_absent on a hot set of keys, 1/16 erases",
                  "million ops/s (log)", rows, ["%d thread%s" % (t, "s" if t > 1 else "") for t in ct])
        gt = sorted({k[1] for k in self.growread})
        rows = [(m, [self.growread.get((m, t), {}).get("mops") for t in gt]) for m in self.maps
                if any((m, t) in self.growread for t in gt)]
        if rows:
            histogram("throughput-F2", "F2: gets while one more thread grows the map 1M -> 4M",
                      "million gets/s (log)", rows, ["%d reader%s + 1 grower" % (t - 1, "s" if t > 2 else "") for t in gt])

        for t in sorted({k[1] for k in self.growth_all}):
            dat_files = []
            for m in self.maps:
                g = self.growth(m, t)
                if not g:
                    continue
                dat = os.path.join(data_dir, "latency-D-%dt-%s.dat" % (t, m))
                with open(dat, "w") as f:
                    f.write("# fraction-of-inserts-slower latency_us\n")
                    for pt in g["curve"].split(";"):
                        q, ns = pt.split(":")
                        tail = 1.0 - float(q)
                        if tail <= 0:  # the maximum: shown in the key instead
                            continue
                        f.write("%.9g %.6g\n" % (tail, float(ns) / 1000.0))
                    # the maximum, drawn one step below the last quantile
                    f.write("%.9g %.6g\n" % (0.5 / max(1, g["n"]), g["max_ns"] / 1000.0))
                dat_files.append((m, dat, g["max_ns"] / 1000.0))
            gp = os.path.join(data_dir, "latency-D-%dt.gp" % t)
            png = os.path.join(plot_dir, "latency-D-%dt.png" % t)
            with open(gp, "w") as f:
                f.write("set terminal pngcairo size 900,560 font 'DejaVu Sans,11'\n")
                f.write("set output '%s'\n" % png)
                f.write("set title \"D: insert latency while growing from empty to %s keys, %d thread%s\"\n"
                        % (format(int(self.run_param("growth") or 0), ","), t, "s" if t > 1 else ""))
                f.write("set logscale xy\nset grid xtics ytics mxtics mytics\n")
                f.write("set xlabel 'insert latency (µs, log)'\n")
                f.write("set ylabel 'fraction of inserts slower (log)'\n")
                f.write("set format y '10^{%L}'\nset key top right noenhanced\n")
                f.write("set arrow from 10, graph 0 to 10, graph 1 nohead dt 2 lc rgb '#888888'\n")
                f.write("set arrow from graph 0, first 1e-4 to graph 1, first 1e-4 nohead dt 3 lc rgb '#888888'\n")
                f.write("set label 'target: p99.99 (10^{-4}) at ≤ 10 µs' at 10, graph 0.97 offset 0.5,0 tc rgb '#666666'\n")
                parts = []
                peers = [d for d in dat_files if d[0] != OURS]
                for (m, dat, mx) in dat_files:
                    lw = 3.5 if m == OURS else 1.6
                    col = ours_color if m == OURS else colors[peers.index((m, dat, mx)) % len(colors)]
                    parts.append("'%s' using 2:1 with lines lw %g lc rgb '%s' title '%s (max %s µs)'"
                                 % (dat, lw, col, m, fmt(mx)))
                f.write("plot " + ", ".join(parts) + "\n")
            if gnuplot(gp):
                made.append(png)
        return made

    # ---- markdown -----------------------------------------------------------------------
    def markdown(self, plots, results_path):
        L = []
        rel = lambda p: os.path.relpath(p, os.path.dirname(results_path))
        info = self.info
        L.append("# Runtime benchmark: results of the last run")
        L.append("")
        L.append("Generated by `bench/runtime/run.sh` on %s from commit %s; regenerate, do not edit. "
                 "Hand-written findings come from `bench/runtime/findings.md`. Issue 7 defines the "
                 "workloads and targets." % (info.get("date", "?"), info.get("commit", "?")))
        if info.get("quick") == "1":
            L.append("")
            L.append("**This is a `--quick` run with reduced sizes: its figures are not the issue's.**")
        L.append("")
        L.append("## Machine")
        L.append("")
        for l in self.machine:
            if l.startswith(("date:", "commit:", "quick:")):
                continue
            L.append("- " + l.replace("lscpu ", ""))
        steals = [r["steal"] for r in self.recs if "steal" in r]
        if steals:
            L.append("- steal time over the timed windows: median %.1f%%, max %.1f%% of all CPU time "
                     "(from /proc/stat; this is a shared VM)" % (100 * statistics.median(steals), 100 * max(steals)))
        L.append("")
        L.append("## Targets")
        L.append("")
        if OURS not in self.maps:
            L.append("tsmap was not in this run (its runtime had not landed): every target is NOT RUN.")
            L.append("")
        busy, how = self.busy()
        if busy:
            L.append("**Measured on a busy machine** (%s): other jobs shared the 2 CPUs, so absolute "
                     "figures are low and noisy; ratios within the run are fairer but still skewed "
                     "where one map obtained less CPU than another. Compare the *CPU obtained* "
                     "column next to each figure; CPU ns/op (CPU time per operation) is the least "
                     "disturbed figure. Re-run `bench/runtime/run.sh` on a quiet machine before "
                     "claiming a target." % how)
            L.append("")
        L.append("| target | measured | required | result | CPU obtained (tsmap / reference) |")
        L.append("|---|---|---|---|---|")
        for name, measured, required, res, cpu in self.targets():
            L.append("| %s | %s | %s | **%s** | %s |" % (name, measured, required, res, cpu))
        L.append("")
        L.append("Ratios are taken within this run. \"Best concurrent peer\" is the fastest of every map "
                 "except tsmap and unsynchronized absl at the same thread count. *CPU obtained* is the "
                 "CPU time the measured threads got (CLOCK_THREAD_CPUTIME_ID) over wall time × threads; "
                 "*per CPU second* is the same ratio from operations per CPU second, what it would be "
                 "had both sides obtained the same CPU (informative: a lock-based peer's sleeping "
                 "threads make it look better than it is; the result column uses wall time).")
        L.append("")
        if self.selfcheck:
            bad = sorted(m for m, ok in self.selfcheck.items() if not ok)
            L.append("Correctness self-check before timing (gets return what was put, overwrites and "
                     "erases are seen, compute_if_absent computes once per absent key, two threads "
                     "writing while reading): %s." % (
                         "every map passed" if not bad else "**FAILED: %s (not measured)**" % ", ".join(bad)))
            L.append("")
        if self.failures:
            L.append("**Verification failures in this run:**")
            L.append("")
            for f in self.failures:
                L.append("- %s %s: %s" % (f["map"], f["workload"], f["message"]))
            L.append("")
        if self.unfinished:
            why = lambda r: "stopped at run.sh's step limit" if r["exit"] == 124 else "exit %d" % r["exit"]
            L.append("**Steps that did not finish in this run** (their figures are missing below): %s." %
                     "; ".join("%s %s (%s)" % (r["mode"], r["map"], why(r)) for r in self.unfinished))
            L.append("")

        # A B C
        L.append("## A, B, C: throughput (1,000,000 keys prefilled)")
        L.append("")
        L.append("Median of %s timed windows of %s s each. *CPU obtained* is the CPU time the "
                 "measured threads actually got (CLOCK_THREAD_CPUTIME_ID per thread; the least any "
                 "one thread got in parentheses) over wall time × threads: below 100%% means threads "
                 "slept (blocked on a lock), or other jobs or the hypervisor took the CPU; *steal* "
                 "is the machine's steal time in the same window (/proc/stat). *CPU ns/op* is CPU "
                 "time per operation, which a busy machine disturbs least." % (self.run_param("reps"), self.run_param("seconds")))
        if self.busy()[0]:
            L.append("")
            L.append("**Busy machine** (%s): read the Mops/s next to the CPU obtained." % self.busy()[1])
        L.append("")
        for w, title in (("A", "95% get / 5% overwrite, uniform"), ("B", "95% get / 5% overwrite, Zipfian θ = 0.99"),
                         ("C", "50% get / 50% overwrite, uniform")):
            L.append("### %s: %s" % (w, title))
            L.append("")
            L.append("| map | threads | Mops/s | ns/op per thread | CPU obtained (min thread) | CPU ns/op | steal | × absl (1 thread) | × best concurrent peer |")
            L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            a1 = self.mops(w, UNSYNC, 1)
            for m in self.maps:
                for t in self.threads:
                    r = self.mix.get((w, m, t))
                    if not r:
                        continue
                    bp = self.best_peer(w, t)
                    vs_bp = ("%.2f×" % (r["mops"] / bp[1])) if bp and m not in (UNSYNC,) and bp[0] != m else "–"
                    if bp and bp[0] == m:
                        vs_bp = "best"
                    L.append("| %s | %d | %s | %s | %.0f%% (%.0f%%) | %s | %.1f%% | %s | %s |" % (
                        self.bold(m), t, fmt(r["mops"]), fmt(r["ns_per_op_thread"], 1), 100 * r["cpu"],
                        100 * r.get("cpu_min", r["cpu"]), fmt(r.get("cpu_ns_per_op"), 1),
                        100 * r["steal"], ("%.2f×" % (r["mops"] / a1)) if a1 else "–", vs_bp))
            L.append("")
        for w in ("A", "B", "C"):
            p = [x for x in plots if x.endswith("throughput-%s.png" % w)]
            if p:
                L.append("![%s throughput](%s)" % (w, rel(p[0])))
        L.append("")

        # D
        L.append("## D: growth from empty to %s keys, latency of every insert" % format(int(self.run_param("growth") or 0), ","))
        L.append("")
        L.append("No reserved capacity. Every insert is timed with rdtsc (lfence/rdtscp fenced); "
                 "each figure is the median over %s runs (the max column also lists every run). "
                 "Mops/s is inserts per wall second. *Preemptions* counts the involuntary context "
                 "switches of the inserting threads during the run (getrusage RUSAGE_THREAD, "
                 "median of the runs): each puts a scheduler time slice (milliseconds) into "
                 "some insert's latency, so when they number more than 1 in 10,000 inserts "
                 "the p99.99 and max measure the machine, not the map. *Inserts > 10 µs* counts "
                 "the inserts over 10 µs (median of the runs): p99.99 ≤ 10 µs means at most one "
                 "in 10,000 (400 of 4M). *Inside s* is the time the inserts took in all (median of "
                 "the runs): the machine's own stops land in it in proportion." % self.run_param_growth_reps())
        n = self.machine_number("interruptions")
        if n:
            L.append("")
            L.append("This machine stopped a busy thread for more than 10 µs about %d times a second "
                     "(*Machine*; `tail/tail.sh` measures it and sorts D's slow inserts by cause). "
                     "An insert that such a stop hits takes over 10 µs whatever the map, so p99.99 "
                     "≤ 10 µs needs the 4M inserts to spend less than about %.1f s inside the map "
                     "(fewer than 400 hit)." % (n, 400.0 / n))
            ours = self.growth(OURS, 1)
            if ours and ours.get("inside_s"):
                L[-1] += (" tsmap's inserts spent %.2f s inside the map in this run (median), "
                          "so the machine alone predicts about %d over 10 µs; they had %s."
                          % (ours["inside_s"], round(n * ours["inside_s"]),
                             "–" if ours["over_10us"] is None else format(int(ours["over_10us"]), ",")))
            lat = self.machine_number("memory latency")
            if lat:
                L[-1] += (" One dependent load over 128 MiB took %d ns at the start of the run "
                          "(170–180 ns when the host is quiet; an insert into a large table costs "
                          "about one such load)." % lat)
        L.append("")
        cut_notes = []
        L.append("| map | threads | p50 µs | p99 µs | p99.9 µs | p99.99 µs | inserts > 10 µs | inside s | max µs (each run) | Mops/s | CPU | steal | preemptions |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for m in self.maps:
            for t in sorted({k[1] for k in self.growth_all}):
                g = self.growth(m, t)
                if not g:
                    continue
                L.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s (%s) | %s | %.0f%% | %.1f%% | %s |" % (
                    self.bold(m), t, fmt(us(g["p50_ns"]), 3), fmt(us(g["p99_ns"])), fmt(us(g["p999_ns"])),
                    fmt(us(g["p9999_ns"])),
                    "–" if g["over_10us"] is None else format(int(g["over_10us"]), ","),
                    "–" if g["inside_s"] is None else "%.2f" % g["inside_s"],
                    fmt(us(g["max_ns"])),
                    ", ".join("%.0f" % (x / 1e3) for x in g["max_all"]), fmt(g["mops"]), 100 * g["cpu"], 100 * g["steal"],
                    "–" if g["preemptions"] is None else format(int(g["preemptions"]), ",")))
                for r in g["cut"]:
                    cut_notes.append("%s at %d thread%s, run %d: cut off after %s s at %s of %s inserts "
                                     "(its figures cover the inserts it made)" % (
                                         m, t, "s" if t > 1 else "", r["rep"] + 1, fmt(self.run_param("growth_cap")),
                                         format(r["ops"], ","), format(r.get("target", 0), ",")))
        L.append("")
        for c in cut_notes:
            L.append("- " + c)
        if cut_notes:
            L.append("")
        for x in plots:
            if "latency-D" in x:
                L.append("![D latency](%s)" % rel(x))
        L.append("")

        # E
        L.append("## E: resident bytes per entry at %s entries" % format(int(self.run_param_memory() or 0), ","))
        L.append("")
        L.append("One fresh process per map: RSS (/proc/self/statm) after filling minus before "
                 "creating the map, divided by the entry count. *Heap* is the same from glibc's "
                 "mallinfo2 (oneTBB allocates through its own allocator, so its heap figure is not "
                 "meaningful).")
        L.append("")
        L.append("| map | RSS bytes/entry | heap bytes/entry | × absl |")
        L.append("|---|---:|---:|---:|")
        a = self.memory.get(UNSYNC)
        for m in self.maps:
            e = self.memory.get(m)
            if not e:
                continue
            L.append("| %s | %.1f | %.1f | %s |" % (self.bold(m), e["rss_bytes_per_entry"], e["heap_bytes_per_entry"],
                                                   ("%.2f×" % (e["rss_bytes_per_entry"] / a["rss_bytes_per_entry"])) if a else "–"))
        L.append("")

        # F
        L.append("## F1: compute_if_absent on a hot set (ours)")
        L.append("")
        L.append("%s hot keys, uniform; 15/16 of operations are compute_if_absent with a callback "
                 "of %s mixing rounds, 1/16 erase a hot key so that keys keep going absent. "
                 "*Callbacks per absence* is callbacks run ÷ (keys absent at the start + successful "
                 "erases): 1.00 means single-flight, above 1 means duplicate computation. Peers "
                 "without a native compute_if_absent run the callback unlocked and insert-if-absent "
                 "(oneTBB holds its write accessor while computing)." % (self.run_param_hot(), self.run_param_work()))
        L.append("")
        L.append("| map | threads | Mops/s | ns/op per thread | callbacks per absence | CPU | steal |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for m in self.maps:
            for t in sorted({k[1] for k in self.cia}):
                r = self.cia.get((m, t))
                if r:
                    L.append("| %s | %d | %s | %s | %.3f | %.0f%% | %.1f%% |" % (
                        self.bold(m), t, fmt(r["mops"]), fmt(r["ns_per_op_thread"], 1), r["callbacks_per_absence"],
                        100 * r["cpu"], 100 * r["steal"]))
        L.append("")
        L.append("## F2: gets while another thread grows the map")
        L.append("")
        L.append("1,000,000 keys prefilled; one grower inserts new keys towards 4,000,000 (stopping "
                 "after %s s) while the other threads get prefilled keys. Mops/s counts the readers' gets." % self.run_param_cap())
        L.append("")
        L.append("| map | readers | gets Mops/s | grower Mops/s | keys grown | CPU | steal |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for m in self.maps:
            for t in sorted({k[1] for k in self.growread}):
                r = self.growread.get((m, t))
                if r:
                    L.append("| %s | %d | %s | %s | %s | %.0f%% | %.1f%% |" % (
                        self.bold(m), r["readers"], fmt(r["mops"]), fmt(r["grow_mops"]), format(r.get("grown", 0), ","),
                        100 * r["cpu"], 100 * r["steal"]))
        L.append("")
        for w in ("F1", "F2"):
            p = [x for x in plots if x.endswith("throughput-%s.png" % w)]
            if p:
                L.append("![%s throughput](%s)" % (w, rel(p[0])))
        L.append("")

        # G
        if self.reshard:
            L.extend(self.reshard_section())

        if any(r.get("kind") == "variant" for r in self.recs):
            L.extend(self.variants_section())

        if self.hitratio:
            L.extend(self.hitratio_section())

        # instructions
        L.append("## Instructions per operation (callgrind, 1 thread)")
        L.append("")
        if not self.cg:
            L.append("valgrind was not available: no figures.")
        else:
            base = {p: self.instr("null", p) for p in "ABC"}
            L.append("`valgrind --tool=callgrind --cache-sim=yes` on the binary's `instr` mode: %s keys "
                     "prefilled uninstrumented, then the same operation stream as A/B/C, one thread, "
                     "instrumented. Figures are per operation and include the harness's own loop "
                     "(stream read, key mixing), measured with an empty map at %s / %s / %s "
                     "instructions for A / B / C. Cache misses are callgrind's simulated D1 and "
                     "last-level read misses (the LL set to the machine's L3, see machine.txt; "
                     "callgrind ignores prefetch instructions and timing, so a miss here is a "
                     "line the operation needs, not its latency) — repeatable, unlike wall "
                     "time." % (
                         format(int(self.run_param("prefill") or 0), ","),
                         fmt(base["A"], 1), fmt(base["B"], 1), fmt(base["C"], 1)))
            L.append("")
            L.append("| map | A instr/op | B instr/op | C instr/op | A D1 misses/op | A LL misses/op | C D1 misses/op | C LL misses/op | A instr × absl |")
            L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            aA = self.instr(UNSYNC, "A")
            for m in self.maps:
                if m not in self.cg:
                    continue
                iA = self.instr(m, "A")
                L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    self.bold(m), fmt(iA, 1), fmt(self.instr(m, "B"), 1), fmt(self.instr(m, "C"), 1),
                    fmt(self.instr(m, "A", "D1mr"), 2), fmt(self.instr(m, "A", "DLmr"), 2),
                    fmt(self.instr(m, "C", "D1mr"), 2), fmt(self.instr(m, "C", "DLmr"), 2),
                    ("%.2f×" % (iA / aA)) if iA and aA else "–"))
        L.append("")

        # findings
        L.append("## Findings")
        L.append("")
        fpath = os.path.join(os.path.dirname(results_path), "findings.md")
        if os.path.exists(fpath):
            L.append(open(fpath).read().strip())
            L.append("")
        for part in ("A", "C"):
            prof = os.path.join(self.run_dir, "profile.tsmap.%s.txt" % part)
            if os.path.exists(prof):
                L.append("### tsmap profile, workload %s (callgrind, exclusive instructions by function, this run)" % part)
                L.append("")
                L.append("```")
                L.extend(self.profile_lines(prof))
                L.append("```")
                L.append("")

        # method
        L.append("## How it is measured")
        L.append("")
        L.append("- Keys are `splitmix64(n)` of a key number n, 8 bytes; values are 8 bytes. Each "
                 "thread replays a precomputed, seeded stream (%s operations, cycled), the same for "
                 "every map. Zipfian ranks follow Gray et al. (the YCSB generator)." % format(int(self.run_param("stream_len") or 1048576), ","))
        L.append("- Threads are %s and released together; the window closes after the set time, "
                 "each thread checking a stop flag every 64 operations." % (
                     "pinned to CPUs 0..n-1" if self.run_param("pinned") else
                     "left to the scheduler (not pinned: on a shared machine a pinned thread cannot "
                     "flee a busy CPU; `run.sh --pin` pins them)"))
        L.append("- One process per map and mode, so no map inherits another's heap; E uses a fresh "
                 "process per map by construction.")
        L.append("- Each peer sits behind one adapter file in `bench/runtime/adapters/` and takes "
                 "no reserved capacity; liburcu overwrites a present key's value with one atomic "
                 "store, libcuckoo and oneTBB use their default (identity) `std::hash`, GLib stores "
                 "the 8-byte keys and values in its pointer slots.")
        L.append("")
        L.append("| map | adapter |")
        L.append("|---|---|")
        for m in self.maps:
            L.append("| %s | %s |" % (m, self.desc.get(m, ("?",))[0]))
        L.append("")
        return "\n".join(L) + "\n"

    def profile_lines(self, path):
        out, take = [], False
        for line in open(path):
            line = line.rstrip("\n")
            if line.startswith("Ir ") or re.match(r"^\s*Ir\s", line):
                take = True
            if take:
                if line.strip().startswith("-----") and out and len(out) > 2:
                    continue
                line = re.sub(r"/work/main/", "", line)
                out.append(line[:150])
            if len(out) >= 18:
                break
        return out or ["(no profile)"]

    def bold(self, m):
        return "**%s**" % m if m == OURS else m

    def run_param(self, k):
        for r in self.recs:
            if r["kind"] == "run" and r.get("mode") in ("mix", "all"):
                return r.get(k)
        for r in self.recs:
            if r["kind"] == "run" and k in r:
                return r.get(k)
        return None

    def run_param_growth_reps(self):
        return max((r["rep"] + 1 for r in self.recs if r["kind"] == "growth"), default=0)

    def run_param_memory(self):
        for r in self.recs:
            if r["kind"] == "memory":
                return r["entries"]
        return 0

    def run_param_hot(self):
        r = [x for x in self.recs if x["kind"] == "run" and x.get("mode") == "cia"]
        return format(r[0].get("hot", 1024), ",") if r else "1,024"

    def run_param_work(self):
        r = [x for x in self.recs if x["kind"] == "run" and x.get("mode") == "cia"]
        return r[0].get("cia_work", 64) if r else 64

    def run_param_cap(self):
        r = [x for x in self.recs if x["kind"] == "run" and x.get("mode") == "growread"]
        return r[0].get("growread_cap", 6) if r else 6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, help="out/<stamp> directory of one run")
    ap.add_argument("--results", required=True, help="RESULTS.md to write")
    ap.add_argument("--plots", required=True, help="directory for the PNGs")
    a = ap.parse_args()
    rep = Report(a.run)
    plots = rep.plots(a.plots)
    with open(a.results, "w") as f:
        f.write(rep.markdown(plots, a.results))
    for name, measured, required, res, cpu in rep.targets():
        print("%-8s %s: %s (%s)" % (res, name, measured, required))


if __name__ == "__main__":
    main()
