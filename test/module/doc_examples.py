#!/usr/bin/env python3
"""doc_examples.py: the docs' examples give what the docs show, as a user pastes them.

Usage: doc_examples.py --src SRC --build BUILD --clang-tidy CT --plugin SO
                       [-IDIR]... (rules | examples | docs) [PAGE...]

rules: every fenced block of rules/tsmap-*.md is marked, and each marked example is run.
  The mark is an HTML comment on the line right before the fence (Markdown shows nothing):

    <!-- doc-example: fragment: WHY -->
                                     a C excerpt not meant to compile (a line or two of a
                                     larger example): not run; WHY says why it is one.
    <!-- doc-example: excerpt-of=PATH -->
                                     an abridged copy of PATH, a file of the repository
                                     (the story of a page whose output-of= block shows
                                     PATH's diagnostics): each line that is not `...`,
                                     comments and whitespace aside, is text of PATH, in
                                     PATH's order. Not run (PATH is).
    <!-- doc-example: file=NAME.c [Opt=Val]... -->
                                     a complete C file, saved as NAME.c and checked; the
                                     next fence of the page must be its output block.
    <!-- doc-example: quiet [after=NAME.c] [Opt=Val]... -->
                                     a complete C file on which the check is silent; with
                                     after=, the block continues the page's file= example
                                     NAME.c (a user pastes it below that one), and its own
                                     lines are silent.
    <!-- doc-example: inline [after=NAME.c] [Opt=Val]... -->
                                     a complete C file (with after=, a continuation of
                                     NAME.c as for quiet) that shows its diagnostics in
                                     its own comments: `// warning: TEXT`, continued on
                                     the `// ` lines right below it, is a warning clang-tidy
                                     prints on the nearest line of code above the comment;
                                     `// note: TEXT` a note it prints (on any line). A TEXT
                                     ending in `...` is the start of the message. No other
                                     warning may be given on the block's lines.
    <!-- doc-example: output-of=PATH [lines=A-B] [Opt=Val]... -->
                                     on an output block: what the check prints for PATH, a
                                     file of the repository (examples/...), compiled as the
                                     build's compile_commands.json says; with lines=, only
                                     its warnings on lines A to B must all be shown.
    <!-- doc-example: shape -->      on an output block: the shape of a message, from no
                                     example on the page: not compared.

  An output block is a fence with no language. Each diagnostic in it starts a line with
  `file:line:col: warning:` or `note:`; lines that do not are the previous one wrapped and
  are joined to it with a space. Each shown line (file name, line, column, severity,
  message and, for a warning, `[check]`) must be in clang-tidy 19's output, and no warning
  it does not show may be; a file is compared by its base name. Only the page's check is
  enabled, with the options named (`Opt=Val` is `tsmap-<page>.Opt: Val`). A C fence or an
  output fence without a mark fails, so a new example cannot go untested by accident.

  `pkg=NAME[,NAME]...` on a file=, quiet or inline mark compiles the block with
  `pkg-config --cflags NAME...` (GLib's `glib-2.0`, liburcu's `liburcu liburcu-cds`);
  where pkg-config or a package is missing the block is skipped and the reason printed
  (CI installs them: bench/runtime/debian-packages.txt).

examples: examples/*/README.md, marked and run as rules/*.md are; each mark that runs
  names its check (`check=tsmap-x`, a comma-separated list for several), which a rule
  page takes from its name.

docs: docs/ci.md, docs/contracts-option.md, docs/tsmap-tidy.md, docs/editors.md. YAML and
  JSON blocks parse (and the shell of a workflow's `run:` and `script:` passes
  `bash -n`); a YAML block that is a .clang-tidy (it has `Checks:`) is loaded by
  tools/tsmap-tidy over a tiny generated project with no configuration error; a JSON block
  that is a baseline (`"tool": "tsmap-tidy"`) is read by `tsmap-tidy --baseline`. Every
  sh block passes `bash -n`; a sh block whose `tsmap-tidy` commands use only `-p build`
  and files of that project (no $VARIABLES) is run as a script, `tsmap-tidy` being the
  runner from the source tree, in a tiny project (build/compile_commands.json over
  src/cache.c, src/session.c, src/net/conn.c), and must exit 0.

A drift fails with the page and the fence's line: `rules/tsmap-x.md:88: ...`.
"""
import argparse
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

MARK = re.compile(r"<!--\s*doc-example:\s*(.*?)\s*-->\s*$")
DIAG = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): "
                  r"(?P<sev>warning|note|error): (?P<msg>.*)$")
failures = []


def fail(page, line, text):
    failures.append(f"{page}:{line}: {text}")


def fences(path):
    """Yields (line of the opening fence, info string, body, mark) for each fence."""
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        indent, info, start = m.group(1), m.group(2), i
        body = []
        i += 1
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        mark = MARK.match(lines[start - 1].strip()) if start > 0 else None
        yield start + 1, info, "\n".join(body) + "\n", mark.group(1) if mark else None
        i += 1


def parse_mark(mark):
    kind, opts = None, {}
    m = re.match(r"^fragment(?::\s*(.*))?$", mark, re.S)
    if m:
        return "fragment", {"why": (m.group(1) or "").strip()}
    for word in shlex.split(mark):
        if "=" in word and word.split("=", 1)[0] in ("file", "output-of", "excerpt-of"):
            kind, arg = word.split("=", 1)
            opts["_" + kind] = arg
        elif word.split("=", 1)[0] in ("lines", "after", "pkg", "check"):
            k, v = word.split("=", 1)
            opts[k] = v
        elif "=" in word:
            k, v = word.split("=", 1)
            opts[k] = v
        else:
            kind = word
    return kind, opts


def shown(body):
    """The diagnostics of an output block: wrapped lines joined."""
    out = []
    for raw in body.splitlines():
        text = raw.strip()
        if not text:
            continue
        if DIAG.match(text) or not out:
            out.append(text)
        else:
            out[-1] += " " + text
    return out


def key(diag):
    m = DIAG.match(diag)
    if not m:
        return None
    return (os.path.basename(m["file"]), int(m["line"]), int(m["col"]), m["sev"],
            re.sub(r"\s+", " ", m["msg"]).strip())


def tidy(a, check, opts, path, args):
    config = {"Checks": f"-*,{check}",
              "CheckOptions": {f"{check}.{k}": v for k, v in opts.items()
                               if not k.startswith("_")
                               and k not in ("lines", "after", "pkg", "check")}}
    cmd = [a.clang_tidy, "--load", a.plugin, "--quiet", f"--config={json.dumps(config)}",
           path] + args
    r = subprocess.run(cmd, capture_output=True, text=True)
    diags = [key(l) for l in r.stdout.splitlines() if DIAG.match(l)]
    return [d for d in diags if d], r


def compare(a, page, line, want_lines, got, r, quiet=False, lines=None):
    """lines: "A-B", the lines of the checked file whose warnings the block shows."""
    want = []
    for text in want_lines:
        k = key(text)
        if k is None:
            fail(page, line, f"not a diagnostic line in the output block: {text!r}")
            continue
        want.append(k)
    got_set = set(got)
    for k in want:
        if k not in got_set:
            fail(page, line, "the example does not give the shown line\n    %s:%d:%d: %s: %s"
                 % k + "\n  clang-tidy printed:\n" + "\n".join(
                     "    %s:%d:%d: %s: %s" % g for g in got) + (
                     "" if got else "    (nothing)\n" + r.stderr[-2000:]))
    lo, hi = map(int, lines.split("-")) if lines else (0, 1 << 30)
    for g in got:
        if g[3] in ("warning", "error") and g not in want and lo <= g[1] <= hi:
            fail(page, line, ("the example gives a warning the page does not show"
                              if not quiet else "the example said to be quiet gives a warning")
                 + "\n    %s:%d:%d: %s: %s" % g)


def pkg_flags(opts):
    """(the cflags of the packages the mark names, None) or (None, why the block is skipped)."""
    names = [n for n in opts.get("pkg", "").split(",") if n]
    if not names:
        return [], None
    if not shutil.which("pkg-config"):
        return None, "no pkg-config"
    missing = [n for n in names
               if subprocess.run(["pkg-config", "--exists", n]).returncode != 0]
    if missing:
        return None, "pkg-config knows no " + ", ".join(missing)
    r = subprocess.run(["pkg-config", "--cflags"] + names, capture_output=True, text=True)
    if r.returncode != 0:
        return None, "pkg-config --cflags %s: %s" % (" ".join(names), r.stderr.strip())
    return shlex.split(r.stdout), None


def code_text(text):
    """C text with its comments and all whitespace taken out: a rough reading, enough to
    compare an excerpt with its file (a `//` or `/*` inside a string literal is taken
    for a comment, and whitespace inside one is dropped too)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r"\s+", "", text)


def check_excerpt(a, rel, line, body, path):
    """Each line of the excerpt that is not `...` is text of PATH, in PATH's order."""
    full = os.path.join(a.src, path)
    if not os.path.isfile(full):
        fail(rel, line, f"excerpt-of={path}: no such file")
        return
    text, at = code_text(open(full).read()), 0
    for n, raw in enumerate(body.splitlines()):
        code = code_text(raw)
        if not code or raw.strip() == "...":
            continue
        found = text.find(code, at)
        if found < 0:
            where = "is not in" if text.find(code) < 0 else "comes before the line above it in"
            fail(rel, line, f"excerpt-of={path}: line {n + 1} of the block {where} {path}:"
                 f"\n    {raw.strip()}")
            return
        at = found + len(code)


def inline_expectations(body, first):
    """The `// warning:` and `// note:` comments of an inline block: a list of
    (severity, line of the code above or None, text); `first` is the block's first line
    in the checked file."""
    out, code_line, open_ = [], None, False
    for n, raw in enumerate(body.splitlines()):
        text = raw.strip()
        m = re.match(r"^//\s?(warning|note):\s*(.*)$", text)
        if m:
            out.append([m.group(1), code_line, m.group(2)])
            open_ = True
        elif text.startswith("//") and open_:
            out[-1][2] += " " + text[2:].strip()
        else:
            open_ = False
            if text and not text.startswith("//"):
                code_line = first + n
    return [tuple(e) for e in out]


def inline_match(text, msg):
    msg = re.sub(r"\s*\[[a-z-]+\]$", "", msg)
    text = re.sub(r"\s+", " ", text).strip()
    if text.endswith("..."):
        return msg.startswith(text[:-3].rstrip())
    return msg == text


def compare_inline(rel, line, want, got, r, first):
    for sev, at, text in want:
        if sev == "warning" and at is None:
            fail(rel, line, f"`// warning: {text}` follows no line of code")
            continue
        if not any(g[3] == sev and (sev == "note" or g[1] == at) and inline_match(text, g[4])
                   for g in got):
            fail(rel, line, "the example does not give the shown %s%s\n    %s\n"
                 "  clang-tidy printed:\n%s" % (
                     sev, f" on line {at - first + 1} of the block" if at else "", text,
                     "\n".join("    %s:%d:%d: %s: %s" % g for g in got) or
                     "    (nothing)\n" + r.stderr[-2000:]))
    for g in got:
        if g[3] == "warning" and g[1] >= first and not any(
                sev == "warning" and at == g[1] and inline_match(text, g[4])
                for sev, at, text in want):
            fail(rel, line, "the example gives a warning the page does not show (line %d "
                 "of the block)\n    %s:%d:%d: %s: %s" % ((g[1] - first + 1,) + g))


def compile_args(a, source):
    db = json.load(open(os.path.join(a.build, "compile_commands.json")))
    real = os.path.realpath(source)
    for e in db:
        if os.path.realpath(os.path.join(e["directory"], e["file"])) == real:
            return ["-p", a.build]
    return None


def check_rules(a, pages, label="rules"):
    counts = {"run": 0, "fragment": 0, "shape": 0, "excerpt": 0, "skipped": 0}
    for page in pages:
        rel = os.path.relpath(page, a.src)
        # A rule page's check is its name; elsewhere (examples/*/README.md) each block
        # that runs names its check: check=tsmap-x.
        page_check = os.path.basename(page)[:-3]
        page_check = page_check if page_check.startswith("tsmap-") else None
        blocks = list(fences(page))
        pending = None   # (line, diagnostics, result) of a file= block awaiting its output
        files = {}       # NAME.c of the page's file= blocks -> their text
        for line, info, body, mark in blocks:
            kind, opts = parse_mark(mark) if mark else (None, {})
            check = opts.get("check", page_check)
            if check is None and kind in ("file", "quiet", "inline", "output-of"):
                fail(rel, line, "the page is no check's: the mark must name one (check=tsmap-x)")
                continue
            if info in ("c", "cpp", "c++"):
                if pending:
                    fail(rel, pending[0], "a file= example with no output block after it")
                    pending = None
                if kind == "fragment":
                    if not opts["why"]:
                        fail(rel, line, "a fragment must say why it is not run: "
                             "<!-- doc-example: fragment: WHY -->")
                    counts["fragment"] += 1
                elif kind == "excerpt-of":
                    check_excerpt(a, rel, line, body, opts["_excerpt-of"])
                    counts["excerpt"] += 1
                elif kind in ("file", "quiet", "inline"):
                    before = files.get(opts.get("after"), "")
                    if opts.get("after") and not before:
                        fail(rel, line, f"after={opts['after']}: no file= block of that name "
                             "before this one")
                    name = opts.get("_file", opts.get("after",
                                    "example." + ("c" if info == "c" else "cpp")))
                    if kind == "file":
                        files[name] = body
                    flags, why = pkg_flags(opts)
                    if why:
                        print(f"{rel}:{line}: skipped: {why} (pkg={opts['pkg']})")
                        counts["skipped"] += 1
                        if kind == "file":
                            pending = (line, None, None)
                        continue
                    with tempfile.TemporaryDirectory() as tmp:
                        path = os.path.join(tmp, name)
                        open(path, "w").write(before + body)
                        std = "-std=c11" if name.endswith((".c", ".h")) else "-std=c++17"
                        got, r = tidy(a, check, opts, path,
                                      ["--", std] + [f"-I{d}" for d in a.include] + flags)
                    errors = [g for g in got if g[3] == "error"]
                    if errors:
                        fail(rel, line, "the example does not compile:\n" + "\n".join(
                            "    %s:%d:%d: %s: %s" % g for g in errors))
                    first = before.count("\n") + 1
                    if kind == "quiet":
                        compare(a, rel, line, [], got, r, quiet=True,
                                lines=f"{first}-{1 << 30}")
                    elif kind == "inline":
                        compare_inline(rel, line, inline_expectations(body, first), got, r,
                                       first)
                    else:
                        pending = (line, got, r)
                    counts["run"] += 1
                else:
                    fail(rel, line, "a C block with no <!-- doc-example: ... --> mark "
                         "(fragment, quiet or file=NAME)")
            elif info == "":
                if kind == "shape":
                    counts["shape"] += 1
                elif kind == "output-of":
                    source = os.path.join(a.src, opts["_output-of"])
                    args = compile_args(a, source)
                    if args is None:
                        fail(rel, line, f"{opts['_output-of']} is not in the build's "
                             "compile_commands.json")
                        continue
                    got, r = tidy(a, check, opts, source, args)
                    compare(a, rel, line, shown(body), got, r, lines=opts.get("lines"))
                    counts["run"] += 1
                elif pending:
                    if pending[1] is not None:   # else its file= block was skipped
                        compare(a, rel, line, shown(body), pending[1], pending[2])
                    pending = None
                else:
                    fail(rel, line, "an output block that follows no file= example and "
                         "has no mark (output-of=PATH or shape)")
        if pending:
            fail(rel, pending[0], "a file= example with no output block after it")
    print(label + ": %(run)d examples run, %(excerpt)d excerpts compared, %(fragment)d "
          "fragments, %(shape)d message shapes, %(skipped)d skipped" % counts)


# ---------------------------------------------------------------------------------------
# docs/

TINY = {"src/cache.c": "int cache_get(int k) { return k + 1; }\n",
        "src/session.c": "int session_count(void) { return 0; }\n",
        "src/net/conn.c": "int conn_open(int fd) { return fd; }\n"}


def tiny_project(root):
    entries = []
    for rel, text in TINY.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").write(text)
        entries.append({"directory": os.path.join(root, "build"),
                        "file": os.path.join(root, rel),
                        "arguments": ["clang", "-std=c11", "-c", os.path.join(root, rel)]})
    os.makedirs(os.path.join(root, "build"), exist_ok=True)
    json.dump(entries, open(os.path.join(root, "build", "compile_commands.json"), "w"))


def runner(a):
    return [sys.executable, os.path.join(a.src, "tools", "tsmap-tidy"), "--progress",
            "never", "--plugin", a.plugin]


def load_yaml(text):
    """The YAML document `text`, parsed by PyYAML: this interpreter's, else Debian's
    python3-yaml through /usr/bin/python3 (scripts/debian-packages.txt). Raises
    ValueError when it does not parse."""
    try:
        import yaml
    except ImportError:
        r = subprocess.run(["/usr/bin/python3", "-c",
                            "import json, sys, yaml\n"
                            "try:\n  print(json.dumps(yaml.safe_load(sys.stdin.read())))\n"
                            "except yaml.YAMLError as e:\n  print(e, file=sys.stderr)\n"
                            "  sys.exit(3)\n"],
                           input=text, capture_output=True, text=True)
        if r.returncode == 3:
            raise ValueError(r.stderr.strip())
        if r.returncode != 0:
            sys.exit("doc_examples: no YAML parser (install python3-yaml): "
                     + r.stderr.strip())
        return json.loads(r.stdout)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError(str(e))


def check_docs(a, pages):
    counts = {"yaml": 0, "json": 0, "loaded": 0, "sh": 0, "ran": 0}
    for page in pages:
        rel = os.path.relpath(page, a.src)
        for line, info, body, _mark in fences(page):
            if info == "yaml":
                try:
                    doc = load_yaml(body)
                except ValueError as e:
                    fail(rel, line, f"the YAML block does not parse: {e}")
                    continue
                counts["yaml"] += 1
                for script in ci_scripts(doc):
                    r = subprocess.run(["bash", "-n"], input=script, capture_output=True,
                                       text=True)
                    counts["sh"] += 1
                    if r.returncode != 0:
                        fail(rel, line, f"bash -n on a step's script: {r.stderr.strip()}"
                             f"\n{script}")
                if isinstance(doc, dict) and "Checks" in doc:
                    load_config(a, rel, line, body)
                    counts["loaded"] += 1
            elif info == "json":
                try:
                    doc = json.loads(body)
                except ValueError as e:
                    fail(rel, line, f"the JSON block does not parse: {e}")
                    continue
                counts["json"] += 1
                if isinstance(doc, dict) and doc.get("tool") == "tsmap-tidy":
                    load_baseline(a, rel, line, body)
                    counts["loaded"] += 1
            elif info in ("sh", "bash", "console"):
                r = subprocess.run(["bash", "-n"], input=body, capture_output=True, text=True)
                if r.returncode != 0:
                    fail(rel, line, f"bash -n: {r.stderr.strip()}")
                    continue
                counts["sh"] += 1
                if runnable(body):
                    run_block(a, rel, line, body)
                    counts["ran"] += 1
    print("docs: %(yaml)d YAML and %(json)d JSON blocks parse, %(loaded)d loaded by "
          "tsmap-tidy; %(sh)d sh blocks and CI scripts pass bash -n, %(ran)d run" % counts)


def ci_scripts(doc):
    """The shell of a CI workflow: GitHub's `run:` steps, GitLab's `script:` lists."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == "run" and isinstance(v, str):
                yield v
            elif k in ("script", "before_script", "after_script") and isinstance(v, list):
                yield "\n".join(x for x in v if isinstance(x, str)) + "\n"
            else:
                yield from ci_scripts(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from ci_scripts(v)


def load_config(a, rel, line, body):
    with tempfile.TemporaryDirectory() as tmp:
        tiny_project(tmp)
        open(os.path.join(tmp, ".clang-tidy"), "w").write(body)
        # Files named: the subjects of a Contracts list need not be declared in them.
        r = subprocess.run(runner(a) + ["-p", "build"] + sorted(TINY), cwd=tmp,
                           capture_output=True, text=True)
    if r.returncode != 0 or "error" in r.stderr + r.stdout:
        fail(rel, line, f"tsmap-tidy does not accept this .clang-tidy (exit status "
             f"{r.returncode}):\n{r.stdout}{r.stderr}")


def load_baseline(a, rel, line, body):
    with tempfile.TemporaryDirectory() as tmp:
        tiny_project(tmp)
        open(os.path.join(tmp, "baseline.json"), "w").write(body)
        r = subprocess.run(runner(a) + ["-p", "build", "--baseline", "baseline.json"],
                           cwd=tmp, capture_output=True, text=True)
    if r.returncode != 0 or "error" in r.stderr + r.stdout:
        fail(rel, line, f"tsmap-tidy --baseline does not read this baseline (exit status "
             f"{r.returncode}):\n{r.stdout}{r.stderr}")


def commands(body):
    return [l.strip() for l in body.splitlines()
            if l.strip() and not l.strip().startswith("#")]


def runnable(body):
    cmds = commands(body)
    if not cmds or "$" in body:
        return False
    for c in cmds:
        words = shlex.split(c, comments=True)
        if not words or words[0] != "tsmap-tidy":
            return False
        if words[1:2] != ["merge"] and words[1:3] != ["-p", "build"]:
            return False
    return True


def run_block(a, rel, line, body):
    full, bare = (" ".join(map(shlex.quote, c)) for c in (runner(a), runner(a)[:2]))
    # `tsmap-tidy merge` takes no other option before it.
    script = ("set -e\ntsmap-tidy() { if [ \"$1\" = merge ]; then %s \"$@\"; "
              "else %s \"$@\"; fi; }\n" % (bare, full)
              + "\n".join("echo '$ %s'\n%s" % (c.replace("'", ""), c) for c in commands(body))
              + "\n")
    with tempfile.TemporaryDirectory() as tmp:
        tiny_project(tmp)
        r = subprocess.run(["bash", "-c", script], cwd=tmp, capture_output=True, text=True)
    if r.returncode != 0:
        fail(rel, line, f"the commands fail in a tiny project (exit status {r.returncode}):"
             f"\n{r.stdout}{r.stderr}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--src", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--clang-tidy", required=True)
    p.add_argument("--plugin", required=True)
    p.add_argument("-I", dest="include", action="append", default=[])
    p.add_argument("mode", choices=("rules", "examples", "docs"))
    p.add_argument("pages", nargs="*")
    a = p.parse_args()
    a.src, a.build = os.path.abspath(a.src), os.path.abspath(a.build)
    if a.mode == "rules":
        pages = a.pages or sorted(glob.glob(os.path.join(a.src, "rules", "tsmap-*.md")))
        check_rules(a, pages)
    elif a.mode == "examples":
        pages = a.pages or sorted(glob.glob(os.path.join(a.src, "examples", "*", "README.md")))
        check_rules(a, pages, "examples")
    else:
        pages = a.pages or [os.path.join(a.src, "docs", d) for d in
                            ("ci.md", "contracts-option.md", "tsmap-tidy.md", "editors.md")]
        check_docs(a, pages)
    if failures:
        sys.exit("doc_examples.py: %d example(s) drifted:\n%s" % (len(failures),
                                                                  "\n".join(failures)))


if __name__ == "__main__":
    main()
