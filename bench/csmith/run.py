#!/usr/bin/env python3
"""csmith robustness: the tsmap checks over random C programs whose every function is a
callback of an annotated map.

    bench/csmith/run.py                              # 2,000 programs, seeds 1..2000
    bench/csmith/run.py --count 12 --first-seed 1    # what the test suite runs
    bench/csmith/run.py --plugin /x/libTsmapTidy.so --keep crashes/

Each program is `csmith --seed N` plus a tail (harness_tail): an annotated map type, and
for every function func_K of the program a map operation taking it as a TSMAP_CALLBACK
and one taking it as a TSMAP_CALLBACK_LOCKED argument, both called from a driver; a third
of the functions (by seed) also start with a map operation and a TSMAP_NON_IDEMPOTENT
call, so the checks' summaries, re-entry search and notes walk csmith's call graphs. Each
program is checked by clang-tidy-19 with the plugin and every tsmap check on. A crash (a
signal, or LLVM's crash report) or a run over --timeout fails the run; the program is kept
under --keep for reduction (bench/csmith/README.md says how). Prints the count of crashes
and timeouts and the time per program (clang-tidy wall clock; the csmith time apart).
Exit status: 0 no crash and no timeout, 1 otherwise, 2 could not run.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CSMITH_INCLUDE = "/usr/include/csmith"

DECL = re.compile(r"^static\s+(.+?)\s*\b(func_\d+)\s*\((.*)\);\s*$")
DEF = re.compile(r"^static\s+.+?\b(func_\d+)\s*\(.*\)\s*$")


def forward_decls(text):
    """[(return type, name, parameter list)] from csmith's FORWARD DECLARATIONS block."""
    out = []
    for line in text.splitlines():
        m = DECL.match(line)
        if m:
            out.append((m.group(1), m.group(2), m.group(3)))
    return out


HARNESS_HEAD = [
    "#include <tsmap/annotations.h>",
    "typedef struct TSMAP_THREAD_SAFE_MAP tsmap_cs_map tsmap_cs_map;",
    "static tsmap_cs_map *tsmap_cs_the_map;",
    "TSMAP_MAP_OPERATION void tsmap_cs_put(tsmap_cs_map *m, int key, void *value);",
    "TSMAP_NON_IDEMPOTENT void tsmap_cs_send(int what);"]


def harness_tail(funcs):
    tail = ["", "/* ---- tsmap harness: every function is a map callback ---- */"]
    calls = []
    for ret, name, params in funcs:
        tail.append("typedef %s (*tsmap_cs_%s_fn)(%s);" % (ret, name, params))
        tail.append("TSMAP_MAP_OPERATION void tsmap_cs_compute_%s(tsmap_cs_map *m, "
                    "TSMAP_CALLBACK tsmap_cs_%s_fn fn);" % (name, name))
        tail.append("TSMAP_MAP_OPERATION void tsmap_cs_each_%s(tsmap_cs_map *m, "
                    "TSMAP_CALLBACK_LOCKED tsmap_cs_%s_fn fn);" % (name, name))
        calls.append("  tsmap_cs_compute_%s(tsmap_cs_the_map, %s);" % (name, name))
        calls.append("  tsmap_cs_each_%s(tsmap_cs_the_map, %s);" % (name, name))
    tail.append("void tsmap_cs_drive(void) {")
    tail += calls
    tail.append("}")
    return "\n".join(tail) + "\n"


def instrument(text, seed):
    """The program with the harness: map effects at the start of some functions, the
    map's declaration before the functions, the tail at the end."""
    funcs = forward_decls(text)
    if not funcs:
        raise ValueError("no csmith forward declarations found")
    lines = text.splitlines()
    out, pending = [], None
    for i, line in enumerate(lines):
        out.append(line)
        if line.startswith("/* --- FORWARD DECLARATIONS --- */"):
            out += HARNESS_HEAD
        m = DEF.match(line)
        if m and i + 1 < len(lines) and lines[i + 1].startswith("{"):
            pending = int(m.group(1)[len("func_"):])
        elif pending is not None and line.startswith("{"):
            if (pending + seed) % 3 == 0:
                out.append("    tsmap_cs_put(tsmap_cs_the_map, %d, (void *)0);" % pending)
                out.append("    tsmap_cs_send(%d);" % pending)
            pending = None
    return "\n".join(out) + "\n" + harness_tail(funcs)


def find_clang_tidy():
    for name in ("clang-tidy-19", "/usr/lib/llvm-19/bin/clang-tidy"):
        if shutil.which(name):
            return shutil.which(name)
    raise SystemExit("csmith: no clang-tidy-19")


def run_tidy(cmd, src, timeout):
    """(status, compile errors, tsmap findings, CPU seconds) of one clang-tidy run; the
    CPU time is that process's own (os.wait4), right also when programs run in parallel."""
    with open(src + ".out", "w+") as out, open(src + ".err", "w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        expired = threading.Event()
        timer = threading.Timer(timeout, lambda: (expired.set(), proc.kill()))
        timer.start()
        _, wstatus, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(wstatus)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    os.remove(src + ".out")
    os.remove(src + ".err")
    cpu = usage.ru_utime + usage.ru_stime
    if expired.is_set():
        return "timeout", 0, 0, cpu
    crashed = proc.returncode < 0 or "PLEASE submit a bug report" in stderr
    return ("crash" if crashed else "ok", len(re.findall(r": error: ", stdout + stderr)),
            len(re.findall(r": warning: .*\[tsmap-", stdout)), cpu)


def check_one(seed, args, tmp):
    src = os.path.join(tmp, "cs%d.c" % seed)
    # csmith writes platform.info into its working directory: one of its own per program
    # (not the caller's checkout; parallel runs must not share one file)
    cwd = os.path.join(tmp, "csmith-%d" % seed)
    os.makedirs(cwd, exist_ok=True)
    t0 = time.time()
    try:  # csmith itself now and then loops on a seed: that seed is skipped and counted
        gen = subprocess.run(["csmith", "--seed", str(seed)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=300, cwd=cwd)
    except subprocess.TimeoutExpired:
        return "no-program", 0, 0, time.time() - t0, 0.0, 0.0
    if gen.returncode != 0:
        return "no-program", 0, 0, time.time() - t0, 0.0, 0.0
    with open(src, "w") as f:
        f.write(instrument(gen.stdout, seed))
    t1 = time.time()
    cmd = [args.clang_tidy, "--load=" + args.plugin, "--checks=-*,tsmap-*", "--quiet", src,
           "--", "-I" + CSMITH_INCLUDE, "-I" + os.path.join(REPO, "annotations", "include"),
           "-w"]
    status, errors, findings, cpu = run_tidy(cmd, src, args.timeout)
    t2 = time.time()
    if status != "ok" and args.keep:
        os.makedirs(args.keep, exist_ok=True)
        shutil.copy(src, args.keep)
        with open(os.path.join(args.keep, "cs%d.cmd" % seed), "w") as f:
            f.write(" ".join(cmd) + "\n")
    os.remove(src)
    return status, errors, findings, t1 - t0, t2 - t1, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plugin", default=os.path.join(REPO, "build", "lib", "libTsmapTidy.so"))
    ap.add_argument("--clang-tidy", default=None)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=120, help="seconds per program")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="programs checked at once")
    ap.add_argument("--keep", help="directory for programs that crash or time out")
    args = ap.parse_args()
    args.clang_tidy = args.clang_tidy or find_clang_tidy()
    if not shutil.which("csmith") or not os.path.isdir(CSMITH_INCLUDE):
        print("csmith: csmith or its headers (%s, package libcsmith-dev) missing" %
              CSMITH_INCLUDE)
        return 2
    if not os.path.isfile(args.plugin):
        print("csmith: no plugin at %s" % args.plugin)
        return 2
    bad, skipped, errs, finds = [], [], 0, 0
    gen_s, tidy_s, cpu_s, worst = 0.0, 0.0, 0.0, (0.0, 0)
    seeds = range(args.first_seed, args.first_seed + args.count)
    with tempfile.TemporaryDirectory(prefix="tsmap-csmith-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for seed, (status, e, n, g, t, c) in zip(seeds, pool.map(
                lambda sd: check_one(sd, args, tmp), seeds)):
            gen_s += g
            tidy_s += t
            cpu_s += c
            worst = max(worst, (c, seed))
            errs += 1 if e else 0
            finds += n
            if (seed - args.first_seed + 1) % 100 == 0:
                done = seed - args.first_seed + 1
                sys.stderr.write("csmith: %d seeds done: %d crashes or timeouts, %d skipped; "
                                 "clang-tidy %.2f s CPU per program so far\n" % (
                                     done, len(bad), len(skipped),
                                     cpu_s / max(done - len(skipped), 1)))
            if status == "no-program":
                skipped.append(seed)
                print("csmith: seed %d: csmith made no program in 300 s; skipped" % seed,
                      flush=True)
            elif status != "ok":
                bad.append((seed, status))
                print("csmith: seed %d: %s" % (seed, status), flush=True)
    n = args.count - len(skipped)
    print("csmith: %d programs (seeds %d..%d%s): %d crashes, %d timeouts; %d programs with "
          "compile errors; %d tsmap findings" % (
              n, args.first_seed, args.first_seed + args.count - 1,
              ", %d skipped: csmith did not finish" % len(skipped) if skipped else "",
              sum(1 for _, s in bad if s == "crash"), sum(1 for _, s in bad if s == "timeout"),
              errs, finds))
    print("csmith: clang-tidy %.2f s CPU per program (slowest %.1f s, seed %d), %.2f s wall "
          "clock; csmith %.2f s wall clock per program" % (
              cpu_s / max(n, 1), worst[0], worst[1], tidy_s / max(n, 1),
              gen_s / max(args.count, 1)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
