#!/usr/bin/env python3
"""Run the tsmap checks over real GLib and liburcu users (Debian source packages).

    bench/realworld/run.py                         # default options, build/lib/libTsmapTidy.so
    bench/realworld/run.py --plugin /x/libTsmapTidy.so --strict
    bench/realworld/run.py --projects glib,hexchat --label after

Steps, each cached under --work (default ~/.cache/tsmap-realworld): add a deb-src entry for
the archive apt already uses (once), `apt-get source --download-only` the pinned version and
unpack it, configure it with clang-19 and make its compile database (meson: setup plus the
generated sources; autotools: configure, then `make -k` with recordcc.py as the compiler,
which records each compile and compiles nothing), then run tools/tsmap-tidy
over every translation unit. A re-run only re-checks. The run is compared with
bench/realworld/EXPECTED.md (compare.py) and a summary is printed: files, findings
reviewed true/false, unreviewed, precision, known bugs found, crashes, timeouts, time.
"""

import argparse
import glob
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import compare  # noqa: E402
import projects  # noqa: E402

DEB_SRC_LIST = "/etc/apt/sources.list.d/tsmap-realworld-deb-src.sources"
STRICT_CONFIG = ("CheckOptions:\n"
                 "  tsmap-reentrant-callback.StrictMapIdentity: true\n"
                 "  tsmap-non-idempotent-callback.StrictUnknownCalls: true\n")


def say(msg):
    sys.stderr.write("realworld: %s\n" % msg)
    sys.stderr.flush()


def run(cmd, cwd=None, log=None, env=None, check=True):
    """Runs cmd, output appended to log (a path) or inherited; raises on failure if check."""
    out = open(log, "a") if log else None
    try:
        if out:
            out.write("$ %s\n" % " ".join(cmd))
            out.flush()
        rc = subprocess.call(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT if out else None,
                             env=env)
    finally:
        if out:
            out.close()
    if check and rc != 0:
        raise RuntimeError("%s failed (exit %d)%s" % (
            " ".join(cmd[:3]), rc, "; see " + log if log else ""))
    return rc


# ---- sources ------------------------------------------------------------------------------

def deb_src_stanzas(text):
    """deb-src stanzas for each 'Types: deb' stanza of a deb822 .sources file."""
    out = []
    for stanza in re.split(r"\n\s*\n", text.strip()):
        lines = [ln for ln in stanza.splitlines() if ln.strip() and not ln.startswith("#")]
        fields = dict(ln.split(":", 1) for ln in lines if ":" in ln and not ln[0].isspace())
        if fields.get("Types", "").split() == ["deb"]:
            out.append("\n".join("Types: deb-src" if ln.startswith("Types:") else ln
                                 for ln in lines))
    return "\n\n".join(out) + "\n" if out else ""


def ensure_deb_src():
    """Adds deb-src for the Debian archive apt already uses (idempotent), then updates."""
    if os.path.exists(DEB_SRC_LIST):
        return
    text = ""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path) as f:
            body = f.read()
        if "debian" in body and path != DEB_SRC_LIST:
            text += deb_src_stanzas(body)
    if os.path.exists("/etc/apt/sources.list"):
        with open("/etc/apt/sources.list") as f:
            legacy = [ln for ln in f if ln.startswith("deb ")]
        if legacy and not text:
            text = "".join(ln.replace("deb ", "deb-src ", 1) for ln in legacy)
    if not text:
        raise SystemExit("realworld: no Debian 'deb' source in /etc/apt to derive deb-src from")
    if text.startswith("deb-src "):
        path = DEB_SRC_LIST.replace(".sources", ".list")
    else:
        path = DEB_SRC_LIST
    say("adding %s and running apt-get update" % path)
    with open(path, "w") as f:
        f.write(text)
    run(["apt-get", "update", "-q"])


def ensure_packages():
    """Installs what debian-packages.txt lists and dpkg does not have (apt-get, as root)."""
    with open(os.path.join(HERE, "debian-packages.txt")) as f:
        wanted = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    have = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\\n"]
                          + wanted, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True).stdout
    installed = {ln.split()[0] for ln in have.splitlines() if ln.split()[1:2] == ["ii"]}
    missing = [p for p in wanted if p not in installed]
    if missing:
        say("installing %s" % " ".join(missing))
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing)


def fetch(p, work):
    """Unpacks the pinned source package; returns its directory."""
    src = os.path.join(work, "src")
    os.makedirs(src, exist_ok=True)
    upstream = re.sub(r"^\d+:", "", p["version"]).rsplit("-", 1)[0]
    tree = os.path.join(src, "%s-%s" % (p["source"], upstream))
    if os.path.isdir(tree):
        return tree
    ensure_deb_src()
    dsc = os.path.join(src, "%s_%s.dsc" % (p["source"], re.sub(r"^\d+:", "", p["version"])))
    log = os.path.join(src, p["source"] + ".log")
    # The archive may lack a detached upstream signature (.asc) listed in the .dsc: apt-get
    # then fails although every tarball arrived, and dpkg-source --no-check unpacks anyway.
    run(["apt-get", "source", "-q", "--download-only", "%s=%s" % (p["source"], p["version"])],
        cwd=src, log=log, check=False)
    if not os.path.exists(dsc):
        raise RuntimeError("apt-get source %s=%s gave no .dsc (see %s)" % (
            p["source"], p["version"], log))
    if p.get("orig_only"):
        unpack_orig(src, dsc, tree, log)
    else:
        run(["dpkg-source", "--no-check", "-x", os.path.basename(dsc)], cwd=src, log=log)
    if not os.path.isdir(tree):
        raise RuntimeError("dpkg-source did not make %s" % tree)
    return tree


def unpack_orig(src, dsc, tree, log):
    """For a project whose .debian.tar.* the archive lacks (projects.py says so with
    "orig_only"): unpacks the upstream tarball alone, without Debian's patches, after
    checking it against the SHA-256 the .dsc lists."""
    listed = {}
    section = False
    for line in open(dsc, encoding="utf-8", errors="replace"):
        if line.startswith("Checksums-Sha256:"):
            section = True
            continue
        if section:
            if not line.startswith(" "):
                break
            digest, _size, name = line.split()
            listed[name] = digest
    origs = [n for n in listed if ".orig.tar." in n and not n.endswith(".asc")]
    if len(origs) != 1:
        raise RuntimeError("%s lists %d upstream tarballs, not one" % (dsc, len(origs)))
    path = os.path.join(src, origs[0])
    if not os.path.exists(path):
        raise RuntimeError("apt-get source gave no %s (see %s)" % (origs[0], log))
    with open(path, "rb") as f:
        if hashlib.sha256(f.read()).hexdigest() != listed[origs[0]]:
            raise RuntimeError("%s does not match its .dsc" % path)
    tmp = tree + ".unpack"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with tarfile.open(path) as t:
        t.extractall(tmp)
    tops = os.listdir(tmp)
    top = os.path.join(tmp, tops[0]) if len(tops) == 1 else tmp
    os.rename(top, tree)
    shutil.rmtree(tmp, ignore_errors=True)


# ---- compile database ---------------------------------------------------------------------

def build_env():
    env = dict(os.environ)
    env.update(CC="clang-19", CXX="clang++-19", CFLAGS=projects.COMMON_CFLAGS,
               CXXFLAGS=projects.COMMON_CFLAGS)
    return env


def build_meson(p, tree, bdir, log):
    env = build_env()
    if not os.path.exists(os.path.join(bdir, "build.ninja")):
        run(["meson", "setup", bdir, tree, "--buildtype=plain"] + p.get("args", []),
            log=log, env=env)
    build_generated(bdir, log, env)


def build_cmake(p, tree, bdir, log):
    env = build_env()
    if not os.path.exists(os.path.join(bdir, "build.ninja")):
        # (A project whose CMakeLists.txt is in a subdirectory names it: nfs-ganesha's src.)
        run(["cmake", "-S", os.path.join(tree, p.get("subdir", "")), "-B", bdir, "-G", "Ninja",
             "-DCMAKE_BUILD_TYPE=None", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"] + p.get("args", []), log=log, env=env)
    build_generated(bdir, log, env)


def build_generated(bdir, log, env):
    """Builds only the generated sources and headers of a ninja tree (custom commands whose
    outputs are .c/.h/.inc files, or .def: QEMU's qemu-options.def), not the libraries."""
    targets = subprocess.run(["ninja", "-C", bdir, "-t", "targets", "all"],
                             stdout=subprocess.PIPE, text=True, check=True).stdout
    # (A custom command with a depfile is listed as CUSTOM_COMMAND_DEP: gtk4's
    # glib-compile-resources header gtkresources.h.)
    gen = [t.split(":")[0] for t in targets.splitlines()
           if re.search(r": CUSTOM_COMMAND(_DEP)?$", t) and re.search(r"\.(c|h|inc|def):", t)]
    if gen:
        run(["ninja", "-C", bdir, "-j2", "-k", "0"] + gen, log=log, env=env, check=False)


def build_configure_ninja(p, tree, bdir, log):
    """A project whose own configure script runs meson and leaves a ninja tree with
    compile_commands.json in the build directory (QEMU): configure there, then build only
    the generated sources, as for meson."""
    env = build_env()
    if not os.path.exists(os.path.join(bdir, "build.ninja")):
        os.makedirs(bdir, exist_ok=True)
        run([os.path.join(tree, "configure")] + p.get("args", []), cwd=bdir, log=log, env=env)
    build_generated(bdir, log, env)


def build_autotools(p, tree, bdir, log):
    """configure with clang-19, then make -k with recordcc.py as the compiler: the build's
    scripts run (generated headers), nothing is compiled, every compile is recorded."""
    env = build_env()
    # "always": Debian's patches touch configure.ac (avahi), as dh_autoreconf expects.
    stamp = os.path.join(tree, ".tsmap-autoreconf")
    if p.get("autoreconf") == "always" and not os.path.exists(stamp):
        run(["autoreconf", "-fi"], cwd=tree, log=log, env=env)
        open(stamp, "w").close()
    elif p.get("autoreconf") and not os.path.exists(os.path.join(tree, "configure")):
        run(["autoreconf", "-fi"], cwd=tree, log=log, env=env)
    # As Debian's dh_update_autotools_config does: a released tarball's config.sub may be
    # one that refuses to run (glusterfs's); the system's replaces it.
    if p.get("update_config_sub"):
        for name in ("config.sub", "config.guess"):
            for where, _dirs, files in os.walk(tree):
                if name in files:
                    shutil.copy(os.path.join("/usr/share/misc", name),
                                os.path.join(where, name))
    # A project whose Makefile cannot build outside its tree (bluez links generated
    # headers relative to the build directory) is configured and made in the tree.
    wd = tree if p.get("in_tree") else bdir
    # What configure writes: "Makefile" unless the project ships one (bitlbee).
    if not os.path.exists(os.path.join(wd, p.get("configured", "Makefile"))):
        os.makedirs(bdir, exist_ok=True)
        run([os.path.join(tree, "configure")] + p.get("args", []), cwd=wd, log=log, env=env)
    record = os.path.join(bdir, "compile_commands.jsonl")
    if os.path.exists(record):
        os.remove(record)
    env["TSMAP_RW_RECORD"] = record
    cc = os.path.join(HERE, "recordcc.py")
    run(["make", "-k", "-j2", "CC=" + cc, "CCLD=" + cc], cwd=wd, log=log, env=env,
        check=False)
    entries = {}
    with open(record) as f:
        for line in f:
            e = json.loads(line)
            entries[os.path.normpath(os.path.join(e["directory"], e["file"]))] = e
    with open(os.path.join(bdir, "compile_commands.json"), "w") as f:
        json.dump(list(entries.values()), f, indent=1)


def compile_db(p, tree, work):
    """Makes (once) the project's build directory with compile_commands.json."""
    bdir = os.path.join(work, "build", p["name"])
    stamp = os.path.join(bdir, ".tsmap-realworld-db")
    if os.path.exists(stamp):
        return bdir
    os.makedirs(bdir, exist_ok=True)
    log = os.path.join(work, "build", p["name"] + ".log")
    say("%s: building the compile database (log: %s)" % (p["name"], log))
    {"meson": build_meson, "cmake": build_cmake, "autotools": build_autotools,
     "configure-ninja": build_configure_ninja}[p["build"]](p, tree, bdir, log)
    db = os.path.join(bdir, "compile_commands.json")
    if not os.path.exists(db) or not json.load(open(db)):
        raise RuntimeError("%s: no compile database (see %s)" % (p["name"], log))
    open(stamp, "w").close()
    return bdir


def c_files(bdir):
    """The database's C translation units, each once."""
    seen = []
    for e in json.load(open(os.path.join(bdir, "compile_commands.json"))):
        f = os.path.normpath(os.path.join(e["directory"], e["file"]))
        if f.endswith(".c") and f not in seen and os.path.exists(f):
            seen.append(f)
    return seen


# ---- checking -----------------------------------------------------------------------------

def check(p, tree, bdir, args, outdir):
    """Runs tsmap-tidy over the project; returns the result record."""
    files = c_files(bdir)
    sarif = os.path.join(outdir, p["name"] + ".sarif")
    cmd = [sys.executable, os.path.join(REPO, "tools", "tsmap-tidy"), "-p", bdir,
           "--plugin", args.plugin, "-j", str(args.jobs), "--timeout", str(args.timeout),
           "--sarif", sarif, "--root", tree, "--fail-on", "never", "--progress", "never"]
    if args.strict:
        cfg = os.path.join(outdir, "strict.yaml")
        with open(cfg, "w") as f:
            f.write(STRICT_CONFIG)
        cmd += ["--config-file", cfg]
    listfile = os.path.join(outdir, p["name"] + ".files")
    with open(listfile, "w") as f:
        f.write("\n".join(files) + "\n")
    say("%s: checking %d files" % (p["name"], len(files)))
    start, cpu0 = time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd + files, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    elapsed = time.time() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    with open(os.path.join(outdir, p["name"] + ".txt"), "w") as f:
        f.write(proc.stdout)
    with open(os.path.join(outdir, p["name"] + ".stderr"), "w") as f:
        f.write(proc.stderr)
    return compare.read_sarif(p["name"], sarif, len(files), elapsed, cpu)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plugin", default=os.path.join(REPO, "build", "lib", "libTsmapTidy.so"),
                    help="the tsmap plugin (default: build/lib/libTsmapTidy.so)")
    ap.add_argument("--strict", action="store_true",
                    help="StrictMapIdentity and StrictUnknownCalls on")
    ap.add_argument("--projects", default="", help="comma-separated names (default: all)")
    ap.add_argument("--work", default=os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "tsmap-realworld"),
        help="where sources, builds and results are kept")
    ap.add_argument("--label", help="name of this run's result directory "
                    "(default: default or strict)")
    ap.add_argument("--expected", default=os.path.join(HERE, "EXPECTED.md"))
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=600, help="seconds per file")
    ap.add_argument("--prepare-only", action="store_true",
                    help="fetch and build the compile databases, check nothing")
    ap.add_argument("--compare-only", action="store_true",
                    help="re-compare the last run's results with EXPECTED.md")
    args = ap.parse_args()
    args.plugin = os.path.abspath(args.plugin)
    if not args.prepare_only and not args.compare_only and not os.path.isfile(args.plugin):
        raise SystemExit("realworld: no plugin at %s (build first, or pass --plugin)"
                         % args.plugin)
    label = args.label or ("strict" if args.strict else "default")
    outdir = os.path.join(args.work, "results", label)
    os.makedirs(outdir, exist_ok=True)
    if not args.compare_only:
        ensure_packages()
    results = []
    for p in projects.by_name([n for n in args.projects.split(",") if n]):
        if args.compare_only:
            meta = os.path.join(outdir, p["name"] + ".json")
            if os.path.exists(meta):
                results.append(compare.Result.load(meta))
            continue
        tree = fetch(p, args.work)
        bdir = compile_db(p, tree, args.work)
        if args.prepare_only:
            say("%s: %d files ready in %s" % (p["name"], len(c_files(bdir)), bdir))
            continue
        r = check(p, tree, bdir, args, outdir)
        r.save(os.path.join(outdir, p["name"] + ".json"))
        results.append(r)
    if args.prepare_only:
        return 0
    expected = compare.parse_expected(open(args.expected).read())
    report = compare.report(results, expected, "strict" if args.strict else "default")
    print(report)
    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
