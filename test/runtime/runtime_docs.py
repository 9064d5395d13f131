#!/usr/bin/env python3
"""runtime_docs.py: the runtime's C examples a user pastes from run against the built
libtsmap and do what their docs say.

Usage: runtime_docs.py --src SRC --cc CC --lib LIBTSMAP [-IDIR]...

Pages: docs/observability.md, runtime/DESIGN.md, README.md and examples/README.md (the
C and output fences of examples/*/README.md show the checks' findings: doc_examples.py
runs them; here only their sh fences). Every C fence of the pages is marked, as
rules/*.md are (test/module/doc_examples.py), by an HTML comment on the line before it:

  <!-- doc-example: run=HARNESS -->   pasted into HARNESS (test/runtime/docs/), a C program
                                      that checks what the doc says of the example: the
                                      page's blocks naming one harness go, in order, where
                                      its `@DOC_BLOCK@` lines are. Compiled (C11, -Wall
                                      -Wextra -Werror), linked with LIBTSMAP and run: it
                                      prints each claim it checked and must exit 0.
  <!-- doc-example: excerpt-of=PATH --> a copy of lines of PATH (comments and whitespace
                                      aside, `...` skipping), as doc_examples.py reads it.
  <!-- doc-example: fragment: WHY -->  not run, for the reason given.

An unmarked C fence fails. The header's own example, the indented lines at the top of
runtime/include/tsmap/tsmap.h's first comment, runs in test/runtime/docs/header_example.c;
its `...` are filled in by that harness's `@ELLIPSES: a | b @` line, in order. The sh
fences of the pages pass `bash -n` (a `<placeholder>` read as a word).

What is already tested elsewhere is not repeated: observability_docs.py compiles
docs/observability.md's C blocks, checks its Prometheus configuration and rules with
promtool, its probe table against the library's notes and runs its bpftrace one-liners;
doc_examples.py runs rules/*.md and docs/{ci,contracts-option,tsmap-tidy,editors}.md.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

HEADER = "runtime/include/tsmap/tsmap.h"
HEADER_HARNESS = "header_example.c"
failures = []


def fail(where, text):
    failures.append(f"{where}: {text}")


def load_doc_examples(src):
    """doc_examples.py's fence reader and mark parser: one format for every page."""
    sys.path.insert(0, os.path.join(src, "test", "module"))
    import doc_examples
    return doc_examples


def header_example(src):
    """(line, text) of the indented example of the header's first comment."""
    lines = open(os.path.join(src, HEADER)).read().split("\n")
    out, start = [], None
    for n, line in enumerate(lines):
        if line.startswith(" */"):
            break
        m = re.match(r"^ \*   (.*)$", line)
        if m:
            start = n + 1 if start is None else start
            out.append(m.group(1))
        elif out:
            break
    return start, "\n".join(out) + "\n"


def fill_ellipses(harness_text, block):
    m = re.search(r"@ELLIPSES:(.*?)@", harness_text)
    if not m:
        return block, None
    fills = [f.strip() for f in m.group(1).split("|")]
    parts = block.split("...")
    if len(parts) - 1 != len(fills):
        return None, (f"the example has {len(parts) - 1} `...`, the harness fills "
                      f"{len(fills)}: the example changed, update the harness's @ELLIPSES@")
    out = parts[0]
    for fill_text, rest in zip(fills, parts[1:]):
        out += fill_text + rest
    return out, None


def run_harness(a, where, harness, blocks):
    """Pastes `blocks` into test/runtime/docs/HARNESS, builds it and runs it."""
    path = os.path.join(a.src, "test", "runtime", "docs", harness)
    if not os.path.isfile(path):
        fail(where, f"run={harness}: no such harness in test/runtime/docs/")
        return
    text = open(path).read()
    slots = re.findall(r"^[ \t]*@DOC_BLOCK@[ \t]*$", text, re.M)
    if len(slots) != len(blocks):
        fail(where, f"{harness} has {len(slots)} @DOC_BLOCK@ lines and the page "
             f"{len(blocks)} blocks for it")
        return
    for body in blocks:
        body, why = fill_ellipses(text, body)
        if why:
            fail(where, why)
            return
        # The block goes in as written, indented like the slot; #line keeps the compiler's
        # messages on the harness.
        text = re.sub(r"^([ \t]*)@DOC_BLOCK@[ \t]*$",
                      lambda m: "".join(m.group(1) + l + "\n" for l in body.splitlines()),
                      text, count=1, flags=re.M)
    with tempfile.TemporaryDirectory() as tmp:
        c = os.path.join(tmp, harness)
        open(c, "w").write(text)
        exe = os.path.join(tmp, "example")
        cmd = [a.cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-g",
               "-I" + os.path.join(a.src, "test", "runtime", "docs")] + \
              [f"-I{d}" for d in a.include] + [c, a.lib, "-lpthread", "-o", exe]
        if a.lib.endswith(".so") or ".so." in a.lib:
            cmd.append("-Wl,-rpath," + os.path.dirname(os.path.abspath(a.lib)))
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            fail(where, f"the example does not compile in {harness}:\n{r.stderr}"
                 f"\n--- the program ---\n{text}")
            return
        r = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    for line in r.stdout.splitlines():
        print(f"  {harness}: {line}", flush=True)
    if r.returncode != 0:
        fail(where, f"{harness} exits {r.returncode}: what the doc says does not hold"
             f"\n{r.stdout}{r.stderr}")


def pages(src):
    out = ["docs/observability.md", "runtime/DESIGN.md", "README.md", "examples/README.md"]
    out += sorted(os.path.relpath(p, src)
                  for p in glob.glob(os.path.join(src, "examples", "*", "README.md")))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--src", required=True)
    p.add_argument("--cc", required=True)
    p.add_argument("--lib", required=True)
    p.add_argument("-I", dest="include", action="append", default=[])
    a = p.parse_args()
    a.src = os.path.abspath(a.src)
    de = load_doc_examples(a.src)
    counts = {"run": 0, "programs": 0, "excerpt": 0, "fragment": 0, "sh": 0}

    start, block = header_example(a.src)
    if not block.strip():
        fail(HEADER, "no example found at the top of the header's first comment")
    else:
        run_harness(a, f"{HEADER}:{start}", HEADER_HARNESS, [block])
        counts["run"] += 1
        counts["programs"] += 1

    for rel in pages(a.src):
        shell_only = rel.startswith("examples/") and rel != "examples/README.md"
        harnesses = {}   # harness -> [(line, body)]
        for line, info, body, mark in de.fences(os.path.join(a.src, rel)):
            where = f"{rel}:{line}"
            if info in ("sh", "bash"):
                # A placeholder a user replaces (`crash-<sha1>`, `<your build dir>`) is a word.
                text = re.sub(r"<[a-z][\w -]*>", "PLACEHOLDER", body)
                r = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
                if r.returncode != 0:
                    fail(where, f"bash -n: {r.stderr.strip()}")
                counts["sh"] += 1
                continue
            if info != "c" or shell_only:
                continue
            kind, opts = de.parse_mark(mark) if mark else (None, {})
            if kind == "fragment":
                if not opts["why"]:
                    fail(where, "a fragment must say why it is not run: "
                         "<!-- doc-example: fragment: WHY -->")
                counts["fragment"] += 1
            elif kind == "excerpt-of":
                de.check_excerpt(a, rel, line, body, opts["_excerpt-of"])
                counts["excerpt"] += 1
            elif mark and mark.startswith("run="):
                harnesses.setdefault(mark[4:].strip(), []).append((line, body))
                counts["run"] += 1
            else:
                fail(where, "a C block with no <!-- doc-example: ... --> mark (run=HARNESS, "
                     "excerpt-of=PATH or fragment: WHY)")
        for harness, blocks in harnesses.items():
            run_harness(a, f"{rel}:{blocks[0][0]}", harness, [b for _, b in blocks])
            counts["programs"] += 1

    failures.extend(de.failures)
    print("runtime docs: %(run)d C examples run in %(programs)d programs, %(excerpt)d "
          "excerpts compared, %(fragment)d fragments; %(sh)d sh blocks pass bash -n" % counts,
          flush=True)
    if failures:
        sys.exit("runtime_docs.py: %d drift(s):\n%s" % (len(failures), "\n".join(failures)))


if __name__ == "__main__":
    main()
