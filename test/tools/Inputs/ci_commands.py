"""ci_commands.py --doc docs/ci.md --runner "<tsmap-tidy invocation>" --extra "<args>"
                  --cwd DIR (--run N | --check-workflows)

--run N: runs the N-th `tsmap-tidy` line (1-based) of the block marked
`<!-- ci-test: commands -->` in the doc, in DIR, with `tsmap-tidy` replaced by the runner
invocation and <args> appended; prints the command and exits with its status.
--check-workflows: checks that the GitHub Actions and GitLab CI blocks run exactly the
block's every-run command (the last `tsmap-tidy` line)."""
import argparse
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
a = p.parse_args()
doc = open(a.doc).read()
commands = tidy_lines(block(doc, "commands"))
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
argv = shlex.split(a.runner) + shlex.split(cmd)[1:] + shlex.split(a.extra)
sys.exit(subprocess.run(argv, cwd=a.cwd).returncode)
