#!/usr/bin/env python3
"""A stand-in C compiler for `make CC=recordcc.py`: it records each compile command for the
compile database and compiles nothing.

configure runs with the real clang-19; make then calls this instead, so an autotools build
costs the time of its scripts (generated headers and sources are still made) rather than of
compiling. Each `-c` of a source file is appended as one JSON line to $TSMAP_RW_RECORD with
clang-19 as the compiler; every output (-o, or the .o a -c makes by default) is created
empty, so make and libtool go on. A program the build runs after linking it is empty and
fails: make -k goes on, and a file that needed its output is reported by tsmap-tidy as not
compiling.
"""

import json
import os
import sys

SOURCE_EXT = (".c", ".cc", ".cpp", ".cxx")


def main(argv):
    args = argv[1:]
    out = None
    sources = [a for a in args if a.endswith(SOURCE_EXT) and not a.startswith("-")]
    if "-o" in args and args.index("-o") + 1 < len(args):
        out = args[args.index("-o") + 1]
    if "-c" in args and sources:
        record = os.environ.get("TSMAP_RW_RECORD")
        if record:
            with open(record, "a") as f:
                for src in sources:
                    f.write(json.dumps({"directory": os.getcwd(), "file": src,
                                        "arguments": ["clang-19"] + args}) + "\n")
        if out is None:
            out = os.path.splitext(os.path.basename(sources[0]))[0] + ".o"
    if "-E" in args or "-M" in args or "-MM" in args:
        os.execvp("clang-19", ["clang-19"] + args)  # the build wants real output
    if out and out != "-":
        d = os.path.dirname(out)
        if d:
            os.makedirs(d, exist_ok=True)
        open(out, "w").close()
        if "-c" not in args:
            os.chmod(out, 0o755)
    for i, a in enumerate(args):  # dependency files the Makefiles include
        if a == "-MF" and i + 1 < len(args):
            open(args[i + 1], "w").close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
