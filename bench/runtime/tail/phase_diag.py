#!/usr/bin/env python3
"""What the slow operations of workload G did (issue 23): reads the dump written by a bench
built with phase_diag.patch and prints, per phase, how many operations were over the
threshold and, by what they did, how many and how long.

  git apply bench/runtime/tail/phase_diag.patch
  cmake -S bench/runtime -B /tmp/bdiag -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 -DCMAKE_C_FLAGS=-DTSMAP_DIAG
  cmake --build /tmp/bdiag
  TSMAP_DIAG_DUMP=/tmp/dump.txt TSMAP_DIAG_SLOW_NS=800 \
    /tmp/bdiag/tsmap_bench_runtime --mode reshard --maps tsmap --pin --out /dev/null
  bench/runtime/tail/phase_diag.py /tmp/dump.txt
  git apply -R bench/runtime/tail/phase_diag.patch

TSMAP_DIAG_NOPF=1 runs the same build without the moving read's prefetch (to compare).
Each dump line: time, "G", phase, operation index, what it did (bits, below), its ns, and
ns spent taking the pair's locks, in the pair's step, on its own key's move, in the moving
read's first and second look, and in the step's move.
"""
import collections
import sys

BITS = {0: "epoch advance (membarrier)", 1: "pair step", 2: "moved an entry",
        3: "populated a table chunk", 4: "waited for a lock", 5: "gave pages back",
        6: "moving key's read", 7: "waited for the grace period", 8: "ended a phase",
        9: "its shard's growth step", 10: "populate call", 12: "reclaimed",
        13: "diverted get", 14: "diverted put", 15: "likely moved: new shard first",
        16: "shard chores", 17: "missed in the old shard, then the new",
        18: "shard growing", 19: "probed more than one group", 20: "torn group, again",
        31: "a put"}


def describe(bits):
    return ", ".join(BITS.get(b, str(b)) for b in range(32) if bits >> b & 1) or "a plain get"


def main(path):
    rows = []
    for line in open(path):
        f = line.split()
        try:
            rows.append((f[2], int(f[4], 16), float(f[5]), [float(x) for x in f[6:12]]))
        except (IndexError, ValueError):
            pass
    for phase in ("steady", "up", "down"):
        ops = [r for r in rows if r[0] == phase]
        if not ops:
            continue
        short = [r for r in ops if r[2] < 1500]
        print(f"{phase}: {len(ops)} over the threshold; {len(short)} under 1.5 us (the map's "
              f"own, mostly), {sum(1 for r in ops if r[2] >= 6000)} over 6 us (the machine's)")
        by = collections.defaultdict(list)
        for r in short:
            by[r[1]].append(r)
        for bits, v in sorted(by.items(), key=lambda kv: -len(kv[1]))[:8]:
            n = len(v)
            parts = [sum(r[3][k] for r in v) / n for k in range(6)]
            print(f"  {n:6d}  mean {sum(r[2] for r in v) / n:5.0f} ns  lock {parts[0]:.0f} "
                  f"step {parts[1]:.0f} (move {parts[5]:.0f}) own {parts[2]:.0f} "
                  f"look {parts[3]:.0f} + {parts[4]:.0f}  [{describe(bits)}]")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/dump.txt")
