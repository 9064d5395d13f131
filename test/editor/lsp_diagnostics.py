#!/usr/bin/env python3
"""A minimal LSP client: what an editor does to show clangd's diagnostics.

Usage: lsp_diagnostics.py --clangd CLANGD --workdir DIR --source FILE [--compiler CC]
                          [--timeout SECONDS] [--clangd-config FILE] -- <compile flags>

Copies FILE into DIR (made fresh), writes DIR/compile_commands.json with one entry for it
carrying <compile flags> (for example -Wthread-safety and the include paths), starts the
real clangd on it the way an editor does (no --compile-commands-dir: clangd finds the
database next to the file), opens the file with textDocument/didOpen, waits for the first
textDocument/publishDiagnostics for it, and prints each diagnostic in clang's own form

    callback_bad.c:11:3: warning: cannot call function ... [-Wthread-safety-analysis]

so that the same FileCheck lines serve clang and clangd. Then it shuts clangd down
(shutdown request, exit notification) and waits for it to end. Every wait is bounded;
on a timeout it says which step stalled, shows clangd's log, and exits 1.
Python standard library only.
"""
import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

SEVERITY = {1: "error", 2: "warning", 3: "note", 4: "remark"}


class LspTimeout(Exception):
    pass


class Client:
    """Speaks JSON-RPC over clangd's stdin/stdout, with Content-Length framing."""

    def __init__(self, argv, cwd):
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.inbox = queue.Queue()
        self.stderr_lines = []
        self.next_id = 1
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put(None)  # clangd closed its output
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii", "replace").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            self.inbox.put(json.loads(out.read(length).decode("utf-8")))

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line.decode("utf-8", "replace").rstrip())

    def send(self, message):
        message["jsonrpc"] = "2.0"
        body = json.dumps(message).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method, params):
        rid = self.next_id
        self.next_id += 1
        self.send({"id": rid, "method": method, "params": params})
        return rid

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def wait_for(self, what, predicate, timeout):
        """Returns the first message satisfying predicate; answers server requests."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LspTimeout("no %s from clangd within %gs" % (what, timeout))
            try:
                msg = self.inbox.get(timeout=left)
            except queue.Empty:
                continue
            if msg is None:
                raise LspTimeout("clangd exited (status %s) before sending %s"
                                 % (self.proc.poll(), what))
            if "method" in msg and "id" in msg:  # a request from the server: say yes
                self.send({"id": msg["id"], "result": None})
                continue
            if predicate(msg):
                return msg

    def stop(self, timeout):
        """shutdown + exit, then wait; kills clangd only if it does not leave in time."""
        try:
            if self.proc.poll() is None:
                rid = self.request("shutdown", None)
                self.wait_for("shutdown response", lambda m: m.get("id") == rid, timeout)
                self.notify("exit", None)
            return self.proc.wait(timeout=timeout)
        except (LspTimeout, subprocess.TimeoutExpired, BrokenPipeError):
            self.proc.kill()
            self.proc.wait()
            return None


def file_uri(path):
    return "file://" + os.path.abspath(path)


def write_workdir(args, flags):
    """Makes workdir hold the source and a compile_commands.json for it; returns the copy."""
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    source = os.path.join(args.workdir, os.path.basename(args.source))
    shutil.copyfile(args.source, source)
    entry = {"directory": args.workdir, "file": source,
             "arguments": [args.compiler] + flags + ["-c", source]}
    with open(os.path.join(args.workdir, "compile_commands.json"), "w") as f:
        json.dump([entry], f, indent=2)
    if args.clangd_config:  # a project's .clangd file (CompileFlags: Add: ...)
        shutil.copyfile(args.clangd_config, os.path.join(args.workdir, ".clangd"))
    return source


def format_diagnostic(diag, name):
    start = diag["range"]["start"]
    code = diag.get("code")
    text = "%s:%d:%d: %s: %s" % (name, start["line"] + 1, start["character"] + 1,
                                 SEVERITY.get(diag.get("severity"), "warning"),
                                 diag["message"].splitlines()[0])
    lines = [text + (" [%s]" % code if code else "")]
    for rel in diag.get("relatedInformation", []):
        rstart = rel["location"]["range"]["start"]
        lines.append("%s:%d:%d: note: %s" % (os.path.basename(rel["location"]["uri"]),
                                             rstart["line"] + 1, rstart["character"] + 1,
                                             rel["message"]))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clangd", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--compiler", default="clang")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--clangd-config", help="copied to DIR/.clangd")
    argv = sys.argv[1:]
    flags = []
    if "--" in argv:
        i = argv.index("--")
        argv, flags = argv[:i], argv[i + 1:]
    args = ap.parse_args(argv)
    args.workdir = os.path.abspath(args.workdir)

    source = write_workdir(args, flags)
    uri = file_uri(source)
    client = Client([args.clangd, "--log=error", "--background-index=false",
                     "--clang-tidy=false", "-j=1", "--pch-storage=memory"], args.workdir)
    step = "initialize"
    try:
        rid = client.request("initialize", {
            "processId": os.getpid(), "rootUri": file_uri(args.workdir),
            "capabilities": {"textDocument": {"publishDiagnostics": {
                "relatedInformation": True}}}})
        client.wait_for("initialize response", lambda m: m.get("id") == rid, args.timeout)
        client.notify("initialized", {})
        step = "didOpen"
        with open(source, encoding="utf-8") as f:
            text = f.read()
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "c", "version": 1, "text": text}})
        step = "publishDiagnostics"
        msg = client.wait_for(
            "textDocument/publishDiagnostics for " + os.path.basename(source),
            lambda m: m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri, args.timeout)
    except LspTimeout as e:
        client.stop(5)
        sys.stderr.write("lsp_diagnostics: %s (step: %s)\n--- clangd log ---\n%s\n"
                         % (e, step, "\n".join(client.stderr_lines[-40:])))
        return 1

    diags = sorted(msg["params"]["diagnostics"],
                   key=lambda d: (d["range"]["start"]["line"], d["range"]["start"]["character"]))
    name = os.path.basename(source)
    for diag in diags:
        print("\n".join(format_diagnostic(diag, name)))
    status = client.stop(10)
    print("lsp_diagnostics: clangd published %d diagnostic(s) for %s; clangd exit status %s"
          % (len(diags), name, status))
    if status != 0:
        sys.stderr.write("lsp_diagnostics: clangd did not shut down cleanly\n--- clangd log ---\n%s\n"
                         % "\n".join(client.stderr_lines[-40:]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
