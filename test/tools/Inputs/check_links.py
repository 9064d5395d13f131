"""check_links.py ROOT: every relative link of every Markdown file under ROOT (git's files)
stays inside ROOT and names a file or directory that exists; prints the bad ones."""
import os
import re
import subprocess
import sys

root = os.path.realpath(sys.argv[1])
files = subprocess.run(["git", "-C", root, "ls-files", "*.md"], stdout=subprocess.PIPE,
                       text=True, check=True).stdout.split()
bad = 0
for md in files:
    text = open(os.path.join(root, md), encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code blocks hold no links
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = os.path.realpath(os.path.join(root, os.path.dirname(md), target.split("#")[0]))
        if not (path + os.sep).startswith(root + os.sep) and path != root:
            print("%s: link outside the repository: %s" % (md, target))
            bad += 1
        elif not os.path.exists(path):
            print("%s: link to nothing: %s" % (md, target))
            bad += 1
print("%d bad link%s" % (bad, "" if bad == 1 else "s"))
sys.exit(1 if bad else 0)
