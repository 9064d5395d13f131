#!/usr/bin/env python3
"""Runs one clang-tidy check test, in the style of clang-tidy's check_clang_tidy.py.

Usage: check_tsmap_tidy.py [options] <source> <checks> <temp> [-- <tidy args> [-- <compiler args>]]

Expected diagnostics are written in the source next to the code they belong to:

    cb_bad(m);  // a line with a finding
    // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: callback 'bad' ... [tsmap-...]
    // CHECK-NOTES: :[[@LINE-5]]:7: note: calls 'send' here

CHECK-MESSAGES lines must match every warning and error, in order, and none may be
left over; with CHECK-NOTES, notes too. CHECK-FIXES lines are matched against the
file after -fix. A file with no CHECK-MESSAGES/CHECK-NOTES must produce no warning
at all. -check-suffixes=A,B selects CHECK-MESSAGES-A etc. for option variants.
"""
import argparse
import os
import re
import subprocess
import sys


def fail(msg, output=""):
    sys.stderr.write("check_tsmap_tidy: FAIL: " + msg + "\n")
    if output:
        sys.stderr.write("------ clang-tidy output ------\n" + output + "\n-------------------------------\n")
    sys.exit(1)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clang-tidy", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--filecheck", required=True)
    ap.add_argument("--include", action="append", default=[])
    ap.add_argument("-check-suffix", "-check-suffixes", dest="suffixes", default="")
    ap.add_argument("--expect-tidy-error", action="store_true",
                    help="clang-tidy is expected to exit non-zero (compile errors)")
    ap.add_argument("--std", default=None)
    ap.add_argument("source")
    ap.add_argument("checks")
    ap.add_argument("temp")
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    args = ap.parse_args(argv)
    tidy_args, cc_args = rest, []
    if "--" in tidy_args:
        i = tidy_args.index("--")
        tidy_args, cc_args = tidy_args[:i], tidy_args[i + 1:]

    with open(args.source, encoding="utf-8") as f:
        text = f.read()
    suffixes = [s.strip() for s in args.suffixes.split(",") if s.strip()] or [""]
    def prefixes(kind):
        return [kind + ("-" + s if s else "") for s in suffixes]
    def present(p):
        return re.search(r"\b" + re.escape(p) + r":", text) is not None
    msg_prefixes = [p for p in prefixes("CHECK-MESSAGES") if present(p)]
    note_prefixes = [p for p in prefixes("CHECK-NOTES") if present(p)]
    fix_prefixes = [p for p in prefixes("CHECK-FIXES") if present(p)]
    if msg_prefixes and note_prefixes:
        fail("use CHECK-MESSAGES or CHECK-NOTES in one file, not both")

    ext = os.path.splitext(args.source)[1] or ".c"
    temp = args.temp + ext
    os.makedirs(os.path.dirname(os.path.abspath(temp)), exist_ok=True)
    # Keep line numbers: every CHECK comment becomes an empty comment.
    cleaned = re.sub(r"//\s*CHECK-[A-Z0-9-]*:[^\r\n]*", "//", text)
    with open(temp, "w", encoding="utf-8") as f:
        f.write(cleaned)

    lang = ["-std=" + args.std] if args.std else (["-std=c11"] if ext == ".c" else ["-std=c++17"])
    cmd = [args.clang_tidy, "--load", args.plugin, "-checks=-*," + args.checks,
           "--quiet"]
    if fix_prefixes:
        cmd.append("-fix")
    cmd += tidy_args + [temp, "--"] + lang
    cmd += ["-I" + i for i in args.include] + cc_args
    proc = run(cmd)
    output = proc.stdout
    if proc.returncode != 0 and not args.expect_tidy_error:
        fail("clang-tidy exited with %d:\n  %s" % (proc.returncode, " ".join(cmd)), output)
    if proc.returncode == 0 and args.expect_tidy_error:
        fail("clang-tidy was expected to fail", output)
    msgs = temp + ".msg"
    with open(msgs, "w", encoding="utf-8") as f:
        f.write(output)

    if msg_prefixes or note_prefixes:
        implicit = "{{(warning|error|note):}}" if note_prefixes else "{{(warning|error):}}"
        check = run([args.filecheck, "-input-file=" + msgs, args.source,
                     "-check-prefixes=" + ",".join(msg_prefixes or note_prefixes),
                     "-implicit-check-not=" + implicit])
        if check.returncode != 0:
            fail("diagnostics differ from the expectations in %s\n%s" % (args.source, check.stdout), output)
    elif re.search(r"\b(warning|error):", output):
        fail("expected no diagnostics from %s" % args.source, output)

    if fix_prefixes:
        check = run([args.filecheck, "-input-file=" + temp, args.source,
                     "-check-prefixes=" + ",".join(fix_prefixes), "-strict-whitespace"])
        if check.returncode != 0:
            fail("fixed file differs from CHECK-FIXES\n" + check.stdout, output)


if __name__ == "__main__":
    main()
