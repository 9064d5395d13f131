#!/usr/bin/env python3
"""editor_command.py: run the clang-tidy command an editor makes from docs/editors.md.

Usage: editor_command.py --doc docs/editors.md --editor vscode|nvim-lint
                         --workspace DIR --file FILE --plugin PLUGIN
       editor_command.py --extract NAME DOC OUT   (writes the block NAME of DOC to OUT)

Reads the configuration block marked `<!-- editors-test: <editor> -->` in the doc, replaces
the doc's install path of the plugin by PLUGIN (nothing else), builds the command line
exactly as the editor does, runs it in DIR, and prints the command and each diagnostic as
the editor would read it:

- vscode (ms-vscode.cpptools, useBuildPath): clangTidy.path, --header-filter=<workspace>,
  clangTidy.args, --quiet, the file, -p=<directory of C_Cpp.default.compileCommands>;
  diagnostics are `file:line:col: severity: message [check]` lines.
- nvim-lint (built-in `clangtidy` linter): cmd, args, then the buffer's full path, run in
  Neovim's working directory; its parser is the Lua pattern
  `([^:]*):(%d+):(%d+): (%w+): ([^[]+)` applied to each output line, kept for the buffer's
  file only.
"""
import argparse
import json
import os
import re
import subprocess
import sys

DOC_PLUGIN = "/usr/local/lib/tsmap/llvm-19/libTsmapTidy.so"


def block(doc, editor):
    m = re.search(r"<!-- editors-test: %s -->\s*```\w*\n(.*?)```" % re.escape(editor), doc, re.S)
    if not m:
        sys.exit("editor_command.py: no block for %s in the doc" % editor)
    return m.group(1)


def vscode(text, ws, path):
    settings = json.loads(text.replace("${workspaceFolder}", ws))
    assert settings["C_Cpp.codeAnalysis.clangTidy.enabled"] is True
    assert settings["C_Cpp.codeAnalysis.clangTidy.useBuildPath"] is True
    build = os.path.dirname(settings["C_Cpp.default.compileCommands"])
    return ([settings["C_Cpp.codeAnalysis.clangTidy.path"], "--header-filter=" + ws] +
            settings.get("C_Cpp.codeAnalysis.clangTidy.args", []) +
            ["--quiet", path, "-p=" + build])


def nvim_lint(text, path):
    cmd = re.search(r'lint\.linters\.clangtidy\.cmd\s*=\s*"([^"]*)"', text).group(1)
    args_table = re.search(r"lint\.linters\.clangtidy\.args\s*=\s*\{(.*?)\}", text, re.S).group(1)
    return [cmd] + re.findall(r'"([^"]*)"', args_table) + [path]


def main():
    if sys.argv[1:2] == ["--extract"]:  # --extract NAME DOC OUT: a block into a file
        name, doc, out = sys.argv[2:5]
        with open(out, "w") as f:
            f.write(block(open(doc).read(), name))
        return
    p = argparse.ArgumentParser()
    for opt in ("--doc", "--editor", "--workspace", "--file", "--plugin"):
        p.add_argument(opt, required=True)
    a = p.parse_args()
    ws = os.path.abspath(a.workspace)
    path = os.path.abspath(a.file)
    text = block(open(a.doc).read(), a.editor).replace(DOC_PLUGIN, a.plugin)
    argv = vscode(text, ws, path) if a.editor == "vscode" else nvim_lint(text, path)
    print("command:", " ".join(argv).replace(a.plugin, "<plugin>").replace(ws + "/", "<ws>/"))
    proc = subprocess.run(argv, cwd=ws, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode < 0 or "error: unable to load plugin" in proc.stderr \
            or "No checks enabled" in proc.stderr:
        print(proc.stderr)
        sys.exit("editor_command.py: clang-tidy failed (exit %d)" % proc.returncode)
    for line in proc.stdout.splitlines():
        if a.editor == "vscode":
            m = re.match(r"^(.*?):(\d+):(\d+): (warning|error|note): (.*?)(?: \[([^\]]+)\])?$", line)
            if m:
                print("%s: %s:%s:%s %s: %s [%s]" % (a.editor, os.path.relpath(m.group(1), ws),
                                                   m.group(2), m.group(3), m.group(4),
                                                   m.group(5), m.group(6) or ""))
        else:
            # Lua's ([^:]*):(%d+):(%d+): (%w+): ([^[]+), unanchored like string.match.
            m = re.search(r"([^:]*):(\d+):(\d+): (\w+): ([^\[]+)", line)
            if m and os.path.abspath(os.path.join(ws, m.group(1))) == path:
                print("%s: %s:%s:%s %s: %s" % (a.editor, os.path.relpath(m.group(1), ws),
                                               m.group(2), m.group(3), m.group(4),
                                               m.group(5).rstrip()))
    print("%s: clang-tidy exit status %d" % (a.editor, proc.returncode))


if __name__ == "__main__":
    main()
