#!/usr/bin/env python3
"""instr_guard.py: pin the instruction counts of the 8-byte get and put (ctest runtime.instr).

Runs instr_ops (test/runtime/instr_ops.c) under callgrind, with metrics off and on, and
reads the instructions of its "get" and "put" parts (20,000 operations each, including
the driver's loop). Callgrind counts are deterministic for one binary, so the figures
with metrics off are compared with instr-baseline.txt for this compiler: a change that
moves either by more than 3% fails, which catches a fast path silently falling back to
the generic one (about +50%) and a cost added to it. Without valgrind, or with no
baseline for this compiler, it exits 77 (ctest: skipped) after printing why.

Update the baseline after an intended change: run with --print and copy its lines.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

OPS = 20000
TOLERANCE = 0.03
SKIP = 77


def measure(valgrind, exe, mode, workdir):
    out = os.path.join(workdir, "cg-%s" % mode)
    cmd = [valgrind, "--tool=callgrind", "--instr-atstart=no",
           "--callgrind-out-file=" + out, exe, mode]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=600)
    if proc.returncode != 0:
        sys.exit("instr_guard: %s failed (%d):\n%s" % (" ".join(cmd), proc.returncode,
                                                        proc.stderr[-2000:]))
    parts = {}
    for path in glob.glob(out + ".*"):
        with open(path) as f:
            text = f.read()
        part = re.search(r"^desc: Trigger: Client Request: (\w+)", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if part and total:
            parts[part.group(1)] = int(total.group(1)) / OPS
    if set(parts) != {"get", "put"}:
        sys.exit("instr_guard: expected dumps 'get' and 'put', found %s" % sorted(parts))
    return parts


def read_baseline(path, compiler):
    base = {}
    with open(path) as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if len(fields) == 3 and fields[0] == compiler:
                base[fields[1]] = float(fields[2])
    return base


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--compiler", required=True, help="e.g. Clang-19.1.7")
    ap.add_argument("--print", action="store_true", help="print baseline lines, no check")
    args = ap.parse_args()
    valgrind = shutil.which("valgrind")
    if not valgrind:
        print("SKIP: valgrind not installed (Debian package valgrind)")
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        off = measure(valgrind, args.exe, "off", tmp)
        on = measure(valgrind, args.exe, "on", tmp)
    for part in ("get", "put"):
        print("%-4s instructions/op: metrics off %.1f, on %.1f (on/off %.3f)"
              % (part, off[part], on[part], on[part] / off[part]))
    if args.print:
        for part in ("get", "put"):
            print("%s %s %.1f" % (args.compiler, part, off[part]))
        return 0
    base = read_baseline(args.baseline, args.compiler)
    if set(base) != {"get", "put"}:
        print("SKIP: no baseline for compiler %s in %s (add the lines --print gives)"
              % (args.compiler, args.baseline))
        return SKIP
    failed = False
    for part in ("get", "put"):
        moved = off[part] / base[part] - 1
        verdict = "ok" if abs(moved) <= TOLERANCE else "MOVED"
        failed |= verdict != "ok"
        print("%-4s baseline %.1f, now %.1f: %+.2f%% (limit 3%%) %s"
              % (part, base[part], off[part], 100 * moved, verdict))
    if failed:
        print("the 8-byte fast path's instruction count moved by more than 3%%: if intended, "
              "update %s (run with --print)" % args.baseline)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
