"""make_workspace.py --doc DOC --workspace DIR --source FILE [--add-check GLOB]
                     -- <compile flags>

A project as the editor sees it: DIR/src/<FILE>, DIR/build/compile_commands.json (one
entry, `cc <compile flags> -c DIR/src/<FILE>`, run from build/), and DIR/.clang-tidy taken from
the block marked `<!-- editors-test: clang-tidy-config -->` in DOC, with GLOB appended to
its Checks when given."""
import argparse
import json
import os
import re
import shutil

p = argparse.ArgumentParser()
p.add_argument("--doc", required=True)
p.add_argument("--workspace", required=True)
p.add_argument("--source", required=True)
p.add_argument("--add-check")
p.add_argument("flags", nargs="*")
a = p.parse_args()
ws = os.path.abspath(a.workspace)
shutil.rmtree(ws, ignore_errors=True)
os.makedirs(os.path.join(ws, "src"))
os.makedirs(os.path.join(ws, "build"))
name = os.path.basename(a.source)
shutil.copy(a.source, os.path.join(ws, "src", name))
with open(os.path.join(ws, "build", "compile_commands.json"), "w") as f:
    src = os.path.join(ws, "src", name)  # absolute, as CMake writes it
    json.dump([{"directory": os.path.join(ws, "build"), "file": src,
                "arguments": ["cc"] + a.flags + ["-c", src]}], f, indent=1)
config = re.search(r"<!-- editors-test: clang-tidy-config -->\s*```\w*\n(.*?)```",
                   open(a.doc).read(), re.S).group(1)
if a.add_check:
    config = re.sub(r"^Checks: '([^']*)'", r"Checks: '\1,%s'" % a.add_check, config, flags=re.M)
with open(os.path.join(ws, ".clang-tidy"), "w") as f:
    f.write(config)
