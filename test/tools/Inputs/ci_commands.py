"""ci_commands.py --doc docs/ci.md --runner "<tsmap-tidy invocation>" --extra "<args>"
                  --cwd DIR [--block NAME] [--env K=V...] [--merge-runner "<invocation>"]
                  (--run N | --check-workflows | --check-sharded-workflows)

--run N: runs the N-th `tsmap-tidy` line (1-based) of the block marked
`<!-- ci-test: NAME -->` (default: commands) in the doc, in DIR, with `tsmap-tidy` replaced
by the runner invocation (`tsmap-tidy merge` by the merge runner's, with nothing appended)
and <args> appended, $VARIABLES expanded from --env and globs from DIR; prints the
command and exits with its status.
--check-workflows: checks that the GitHub Actions and GitLab CI blocks run exactly the
block's every-run command (the last `tsmap-tidy` line).
--check-sharded-workflows: checks that the sharded GitHub Actions and GitLab CI blocks run
exactly the every-run commands of the shard-commands block (its last two lines)."""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys


def block(doc, name):
    m = re.search(r"<!-- ci-test: %s -->\s*```\w*\n(.*?)```" % name, doc, re.S)
    if not m:
        sys.exit("ci_commands.py: no block %s" % name)
    return m.group(1)


def tidy_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        line = re.sub(r"^(- )?(run: )?", "", line)
        line = re.sub(r"^export [A-Z_= $]*&& ", "", line)
        if line.startswith("tsmap-tidy "):
            out.append(line)
    return out


p = argparse.ArgumentParser()
p.add_argument("--doc", required=True)
p.add_argument("--runner", default="")
p.add_argument("--extra", default="")
p.add_argument("--cwd", default=".")
p.add_argument("--run", type=int)
p.add_argument("--check-workflows", action="store_true")
p.add_argument("--check-sharded-workflows", action="store_true")
p.add_argument("--block", default="commands")
p.add_argument("--env", action="append", default=[])
p.add_argument("--merge-runner", default="")
a = p.parse_args()
doc = open(a.doc).read()
commands = tidy_lines(block(doc, a.block))
if a.check_sharded_workflows:
    want = tidy_lines(block(doc, "shard-commands"))[-2:]
    for name in ("github-sharded", "gitlab-sharded"):
        lines = tidy_lines(block(doc, name))
        if lines != want:
            sys.exit("ci_commands.py: the %s block runs %s, not %s" % (name, lines, want))
        print("%s: runs the tested commands: %s" % (name, " && ".join(lines)))
    sys.exit(0)
if a.check_workflows:
    for name in ("github", "gitlab"):
        lines = tidy_lines(block(doc, name))
        if lines != commands[-1:]:
            sys.exit("ci_commands.py: the %s block runs %s, not %s" % (name, lines, commands[-1:]))
        print("%s: runs the tested command: %s" % (name, lines[0]))
    sys.exit(0)
cmd = commands[a.run - 1]
print("doc command:", cmd)
sys.stdout.flush()
env = dict(kv.split("=", 1) for kv in a.env)
words = shlex.split(re.sub(r"\$(\w+)", lambda m: env[m.group(1)], cmd))[1:]
expanded = []
for w in words:
    expanded += sorted(os.path.relpath(g, a.cwd) for g in glob.glob(os.path.join(a.cwd, w))) \
        if "*" in w else [w]
if expanded[:1] == ["merge"]:
    argv = shlex.split(a.merge_runner) + expanded
else:
    argv = shlex.split(a.runner) + expanded + shlex.split(a.extra)
sys.exit(subprocess.run(argv, cwd=a.cwd).returncode)
