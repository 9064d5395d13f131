"""make_project.py DIR SOURCE... [--missing NAME...]: a tiny project for the runner tests.

Copies each SOURCE into DIR (SOURCE=SUB/NAME: into DIR/SUB as NAME) and writes
DIR/compile_commands.json with one entry per
file (cc -c <file>, include paths of the tsmap headers given with -I), plus entries for
files named after --missing that do not exist."""
import json
import os
import shutil
import sys

args = sys.argv[1:]
out, rest = args[0], args[1:]
missing, includes, sources = [], [], []
mode = sources
for a in rest:
    if a == "--missing":
        mode = missing
    elif a.startswith("-I"):
        includes.append(a)
    else:
        mode.append(a)
os.makedirs(out, exist_ok=True)
entries = []
for src in sources:
    src, _, name = src.partition("=")
    name = name or os.path.basename(src)
    os.makedirs(os.path.dirname(os.path.join(out, name)), exist_ok=True)
    shutil.copy(src, os.path.join(out, name))
    entries.append(name)
entries += missing
db = [{"directory": os.path.abspath(out), "file": name,
       "arguments": ["cc", "-std=c11"] + includes + ["-c", name, "-o", name + ".o"]}
      for name in entries]
with open(os.path.join(out, "compile_commands.json"), "w") as f:
    json.dump(db, f, indent=1)
