#!/usr/bin/env python3
"""The tsmap checks' own time (--enable-check-profile, the tsmap-* row) on every C file of
some compile databases, for two builds of the plugin.

Usage: profile_units.py PLUGIN_A PLUGIN_B DB_DIR... (a DB_DIR holds compile_commands.json)
"""
import json, os, re, subprocess, sys
plugins = sys.argv[1:3]
dbs = sys.argv[3:]
tot = {p: 0.0 for p in plugins}; opened = {p: 0 for p in plugins}; files = 0
for d in dbs:
    db = json.load(open(os.path.join(d, 'compile_commands.json')))
    seen = set()
    for e in db:
        p = os.path.normpath(os.path.join(e['directory'], e['file']))
        if not p.endswith('.c') or p in seen or not os.path.exists(p):
            continue
        seen.add(p); files += 1
        for pl in plugins:
            out = subprocess.run(['clang-tidy-19', '--load', pl, '--checks=-*,tsmap-*', '-p', d, p,
                                  '--extra-arg=-U__clang_analyzer__', '--enable-check-profile'],
                                 capture_output=True, text=True)
            m = re.search(r'^\s+([0-9.]+) \(100.0%\)\s+([0-9.]+) \(100.0%\)\s+([0-9.]+) \(100.0%\).*Total$', out.stdout + out.stderr, re.M)
            t = float(m.group(3)) if m else 0.0
            tot[pl] += t
            opened[pl] += t > 0.005
print(f"{files} files")
for pl in plugins:
    print(f"{pl}: checks {tot[pl]:.2f} s in all, {opened[pl]} files over 5 ms")
