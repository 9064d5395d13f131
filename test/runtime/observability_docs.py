#!/usr/bin/env python3
"""observability_docs.py MODE DOC EXE [LIB]: what docs/observability.md tells a user to
paste works against the built runtime.

  prometheus  the scrape configuration passes `promtool check config`, the recording and
              alert rules pass `promtool check rules`, and every metric and label the doc's
              tables and rules name is in an exposition EXE (tsmap_rt_metrics) writes.
  c           the C snippets compile (-Wall -Wextra -Werror, C11) against the public header
              inside a function that declares what they leave to the reader; argument EXE
              is the C compiler and LIB... the header directories here.
  probes      the probe table lists exactly the USDT probes `readelf -n LIB` finds.
  bpftrace    every bpftrace one-liner of the doc, with $L replaced by EXE (which links
              libtsmap statically), attaches and runs EXE to its end; the ones that count
              operations and evictions print counts. Exits 77 (skipped) where bpftrace is
              missing or the kernel does not let it attach.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


def blocks(doc, lang):
    return re.findall(r"```" + lang + r"\n(.*?)```", doc, re.S)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def exposition(exe, tmp):
    out = os.path.join(tmp, "metrics.txt")
    r = run([exe, "test_exposition_file"], env=dict(os.environ, TSMAP_METRICS_OUT=out))
    if r.returncode != 0 or not os.path.exists(out):
        sys.exit(f"{exe} test_exposition_file failed:\n{r.stdout}{r.stderr}")
    return open(out).read()


def check_prometheus(doc, exe):
    if not shutil.which("promtool"):
        print("SKIP: promtool not installed (Debian package prometheus)")
        return SKIP
    yamls = blocks(doc, "yaml")
    configs = [y for y in yamls if "scrape_configs:" in y]
    rules = [y for y in yamls if y.lstrip().startswith("groups:")]
    if len(configs) != 1 or len(rules) != 1:
        sys.exit(f"expected one scrape configuration and one rules block, found "
                 f"{len(configs)} and {len(rules)}")
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, text in (("config", configs[0]), ("rules", rules[0])):
            path = os.path.join(tmp, kind + ".yaml")
            open(path, "w").write(text)
            r = run(["promtool", "check", kind, path])
            print(f"promtool check {kind}: {(r.stdout + r.stderr).strip().splitlines()[-1:]}")
            if r.returncode != 0:
                failed.append(f"promtool check {kind} failed:\n{r.stdout}{r.stderr}")
        text = exposition(exe, tmp)
    series = set(re.findall(r"^(tsmap_\w+)", text, re.M))
    labels = set(re.findall(r"[{,](\w+)=", text))
    # Names the doc uses: the series table, every metric in the rules' expressions, and the
    # label names of their selectors. A recorded rule's name (with ':') is not a series.
    table = set(re.findall(r"^\| `(tsmap_\w+)`", doc, re.M))
    table |= {m for row in re.findall(r"^\| (`tsmap_\w+`(?:, `tsmap_\w+`)+) \|", doc, re.M)
              for m in re.findall(r"`(tsmap_\w+)`", row)}
    named = table | set(re.findall(r"\b(tsmap_[a-z_]+)\b", rules[0]))
    for name in sorted(named):
        if name not in series and not any(s.startswith(name + "_") for s in series
                                          if s[len(name) + 1:] in ("bucket", "count", "sum")):
            failed.append(f"the doc names {name}, which the exposition does not have")
    for label in sorted(set(re.findall(r"[{(,]\s*(\w+)\s*(?:=~|!=|=)\s*\"", rules[0])) |
                        set(re.findall(r"by \(([\w, ]+)\)", rules[0]))):
        for one in (l.strip() for l in label.split(",")):
            if one not in labels and one != "le":
                failed.append(f"the rules use the label {one}, which no series has")
    print(f"{len(named)} metric names of the doc checked against {len(series)} series")
    if failed:
        sys.exit("\n".join(failed))
    return 0


C_PRELUDE = """#include <stddef.h>
#include <tsmap/tsmap.h>
struct session;
static int my_writer(const char *text, size_t len, void *ctx) {
  (void)text; (void)len; (void)ctx;
  return 0;
}
int doc_snippet(void);
int doc_snippet(void) {
  tsmap *sessions = NULL;
  char buf[4096];
  size_t cap = sizeof buf, len = 0;
  void *my_ctx = NULL;
"""


def check_c(doc, cc, include_dirs):
    snippets = blocks(doc, "c")
    if not snippets:
        sys.exit("no C snippet in the doc")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "snippets.c")
        open(src, "w").write(C_PRELUDE + "".join(snippets) +
                             "  (void)len;\n  return 0;\n}\n")
        r = run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                 *[f"-I{d}" for d in include_dirs], src])
    if r.returncode != 0:
        sys.exit(f"the doc's C snippets do not compile against {include_dirs}:\n{r.stderr}")
    print(f"{len(snippets)} C snippets compile against {' '.join(include_dirs)}")
    return 0


def probe_notes(lib):
    r = run(["readelf", "-n", lib])
    names, in_sdt = set(), False
    for line in r.stdout.splitlines():
        if "stapsdt" in line:
            in_sdt = True
        elif in_sdt and "Provider:" in line and "tsmap" not in line:
            in_sdt = False
        elif in_sdt and "Name:" in line:
            names.add(line.split("Name:")[1].strip())
            in_sdt = False
    return names


def check_probes(doc, lib):
    section = doc.split("## USDT probes", 1)[1]
    documented = set()
    for cell in re.findall(r"^\| (`\w+`(?:, `\w+`)*) \|", section, re.M):
        documented |= set(re.findall(r"`(\w+)`", cell))
    built = probe_notes(lib)
    if not built:
        print("SKIP: the library has no USDT notes (built without sys/sdt.h)")
        return SKIP
    print(f"documented: {sorted(documented)}\nbuilt: {sorted(built)}")
    if documented != built:
        sys.exit(f"the probe table and the library differ: only documented "
                 f"{sorted(documented - built)}, only built {sorted(built - documented)}")
    return 0


def one_liners(doc):
    """The `bpftrace -e "..."` commands of the doc's sh block, joined across lines."""
    text = blocks(doc, "sh")[0]
    return [m.replace('\\"', '"') for m in re.findall(r'bpftrace -e "(.*?)(?<!\\)"', text, re.S)]


def check_bpftrace(doc, exe):
    if not shutil.which("bpftrace"):
        print("SKIP: bpftrace is not installed (Debian package bpftrace)")
        return SKIP
    programs = one_liners(doc)
    if len(programs) < 5:
        sys.exit(f"found {len(programs)} bpftrace one-liners in the doc, expected at least 5")
    # Whether this kernel lets bpftrace attach at all (else skip): the smallest probe first.
    try:
        r = run(["bpftrace", "-e", f"usdt:{exe}:tsmap:op_start {{ @hits = count(); }}",
                 "-c", exe], timeout=180)
        probe_ok = re.search(r"^@hits: [1-9]", r.stdout, re.M)
    except subprocess.TimeoutExpired:
        r, probe_ok = None, False
    if not probe_ok:
        why = (r.stdout + r.stderr).strip().splitlines()[-3:] if r else "timed out"
        print(f"SKIP: bpftrace cannot attach here: {why}")
        return SKIP
    failed = []
    for i, prog in enumerate(programs):
        prog = prog.replace("$L", exe)
        try:
            r = run(["bpftrace", "-e", prog, "-c", exe], timeout=180)
        except subprocess.TimeoutExpired:
            failed.append(f"one-liner {i + 1} did not end within 180 s:\n{prog}")
            continue
        out = r.stdout + r.stderr
        errors = [l for l in out.splitlines()
                  if l.startswith("ERROR") and "RLIMIT_MEMLOCK" not in l]
        counted = re.findall(r"^@\w*(?:\[.*\])?: (\d+)$", r.stdout, re.M)
        wants_counts = "count()" in prog and ("op_end" in prog or ":evict " in prog)
        status = "ok"
        if r.returncode != 0 or errors:
            status = f"exit {r.returncode}, {errors or out.strip().splitlines()[-3:]}"
        elif wants_counts and not any(int(c) > 0 for c in counted):
            status = "no counts printed"
        elif "hist(" in prog and "op_start" in prog and "@get_ns" not in r.stdout:
            status = "no histogram printed"
        print(f"one-liner {i + 1}: {status} ({len(counted)} counts)")
        if status != "ok":
            failed.append(f"one-liner {i + 1} ({status}):\n{prog}\n{out[-2000:]}")
    if failed:
        sys.exit("\n".join(failed))
    return 0


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    mode, doc_path, exe = sys.argv[1:4]
    doc = open(doc_path).read()
    if mode == "prometheus":
        return check_prometheus(doc, exe)
    if mode == "c":
        return check_c(doc, exe, sys.argv[4:])
    if mode == "probes":
        return check_probes(doc, sys.argv[4])
    if mode == "bpftrace":
        if os.geteuid() != 0:
            print("SKIP: bpftrace needs root")
            return SKIP
        return check_bpftrace(doc, exe)
    sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main())
