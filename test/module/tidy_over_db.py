#!/usr/bin/env python3
"""Runs clang-tidy with the plugin and every tsmap-* check over the entries of a
compile_commands.json whose file lies under one of the given directories, serially,
and prints all diagnostics followed by 'files checked: N'.
Usage: tidy_over_db.py <clang-tidy> <plugin> <build dir> <dir>...
"""
import json
import os
import subprocess
import sys

tidy, plugin, build, *dirs = sys.argv[1:]
with open(os.path.join(build, "compile_commands.json")) as f:
    db = json.load(f)
files = sorted({os.path.realpath(os.path.join(e["directory"], e["file"])) for e in db})
files = [f for f in files if any(f.startswith(os.path.realpath(d) + os.sep) for d in dirs)]
status = 0
for path in files:
    proc = subprocess.run([tidy, "--load", plugin, "--checks=-*,tsmap-*", "--quiet",
                           "-p", build, path],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0 and "error:" not in proc.stdout:
        sys.stdout.write("error: clang-tidy exited with %d on %s\n%s" % (proc.returncode, path, proc.stderr))
print("files checked: %d" % len(files))
