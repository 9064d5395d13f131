#!/usr/bin/env python3
"""bench/runtime/scripts/reshard_cost.py: the cost of a get and a put of workload G (a
live reshard), per phase, counted by callgrind instead of timed, so that a loaded machine
gives the same figures as a quiet one (issue 23).

  bench/runtime/scripts/reshard_cost.py BENCH [--entries N] [--out DIR]

BENCH is a tsmap_bench_runtime callgrind can read (bench/runtime/scripts/configure.sh
builds one with DWARF 4). It runs `--mode reshard --maps tsmap --growth N` (default
1,000,000 entries) under callgrind with its cache simulation (a 32 KiB L1, an 8 MiB last
level: the map does not fit, as 4M entries do not fit the real one), which dumps once per
phase, and prints per phase the instructions and the simulated L1 and last-level misses
of an average tsmap_get and tsmap_put (inclusive: everything they call).
"""
import argparse, glob, json, os, re, subprocess, sys, tempfile

EVENTS = "Ir,D1mr,D1mw,DLmr,DLmw"

def inclusive(dump):
    """{op: (calls, {event: inclusive cost})} of the calls into tsmap_get and tsmap_put."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=calling",
                          "--show=" + EVENTS, "--threshold=100", dump],
                         capture_output=True, text=True, check=True).stdout
    costs = {}
    for line in out.splitlines():
        m = re.search(r"=> \S*:(tsmap_get|tsmap_put) \(([\d,]+)x\)", line)
        if not m:
            continue
        head = re.sub(r"\([^)]*\)", " ", line[:m.start()]).split()  # the counts
        vals = [0 if n == "." else int(n.replace(",", "")) for n in head]
        calls, ev = costs.get(m.group(1), (0, dict.fromkeys(EVENTS.split(","), 0)))
        for k, v in zip(EVENTS.split(","), vals):
            ev[k] += v
        costs[m.group(1)] = (calls + int(m.group(2).replace(",", "")), ev)
    return costs

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench")
    ap.add_argument("--entries", type=int, default=1000000)
    ap.add_argument("--out", default=None, help="keep the dumps and the records here")
    a = ap.parse_args()
    d = a.out or tempfile.mkdtemp(prefix="reshard_cost.")
    os.makedirs(d, exist_ok=True)
    rec = os.path.join(d, "records.json")
    if os.path.exists(rec):
        os.remove(rec)
    for f in glob.glob(os.path.join(d, "callgrind.out*")):
        os.remove(f)
    subprocess.run(["valgrind", "--tool=callgrind", "--cache-sim=yes", "--I1=32768,8,64",
                    "--D1=32768,8,64", "--LL=8388608,16,64",
                    "--callgrind-out-file=" + os.path.join(d, "callgrind.out"),
                    a.bench, "--mode", "reshard", "--maps", "tsmap", "--growth",
                    str(a.entries), "--out", rec], check=True, stderr=subprocess.DEVNULL)
    phases = [json.loads(l) for l in open(rec) if '"G"' in l]
    dumps = sorted(glob.glob(os.path.join(d, "callgrind.out.*")),
                   key=lambda f: int(f.rsplit(".", 1)[1]))
    if len(dumps) < len(phases):
        sys.exit("reshard_cost: %d dumps for %d phases (is the bench built with "
                 "valgrind/callgrind.h?)" % (len(dumps), len(phases)))
    print("%d entries; per operation, inclusive (callgrind, simulated caches)" % a.entries)
    print("| phase | ops | get Ir | get D1 miss | get LL miss | put Ir | put D1 miss | put LL miss |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for p, dump in zip(phases, dumps):
        c = inclusive(dump)
        row = ["%s %d -> %d" % (p["phase"], p["shards_from"], p["shards_to"]), "{:,}".format(p["ops"])]
        for op in ("tsmap_get", "tsmap_put"):
            n, e = c.get(op, (0, None))
            if not n:
                row += ["-"] * 3
                continue
            row += ["%.0f" % (e["Ir"] / n), "%.2f" % ((e["D1mr"] + e["D1mw"]) / n),
                    "%.2f" % ((e["DLmr"] + e["DLmw"]) / n)]
        print("| " + " | ".join(row) + " |")
    print("(dumps and records in %s)" % d)

if __name__ == "__main__":
    main()
