#!/usr/bin/env python3
"""Keeps check names, doc pages and tests in step (STYLE.md, "What we absorb" 2).

Every check the plugin lists has a page rules/<name>.md and at least one test
test/rules/<name>*.c(pp); every page has a registered check. Prints one line per
check and exits non-zero on the first mismatch it reports.
Usage: check_registry.py <clang-tidy> <plugin> <source root>
"""
import glob
import os
import subprocess
import sys

tidy, plugin, root = sys.argv[1:4]
proc = subprocess.run([tidy, "--load", plugin, "--checks=-*,tsmap-*", "--list-checks"],
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
listed = sorted(line.strip() for line in proc.stdout.splitlines()
                if line.strip().startswith("tsmap-"))
pages = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(root, "rules", "tsmap-*.md")))
errors = []
if not listed and "error" in proc.stdout.lower() and "no checks enabled" not in proc.stdout.lower():
    errors.append("clang-tidy could not list the checks:\n" + proc.stdout)
for name in listed:
    if name not in pages:
        errors.append("%s: no doc page rules/%s.md" % (name, name))
    tests = glob.glob(os.path.join(root, "test", "rules", name + "*.c*"))
    if not tests:
        errors.append("%s: no test test/rules/%s*.c" % (name, name))
    print("%s: page, %d test file(s)" % (name, len(tests)))
for page in pages:
    if page not in listed:
        errors.append("rules/%s.md documents a check the plugin does not register" % page)
for e in errors:
    print("error: " + e)
print("registry: %d check(s), %d page(s)" % (len(listed), len(pages)))
sys.exit(1 if errors else 0)
