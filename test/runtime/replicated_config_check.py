#!/usr/bin/env python3
"""runtime.replicated_config: examples/replicated_config converges across a crash (G13).

Starts replica 0 and replica 1 of the example over a Unix socket in a temporary folder,
kills replica 1 with SIGKILL mid-stream (while both are still editing), starts it again
on the same journal, and waits (bounded) for both to settle. Then checks:
  - both dumps are identical (same keys, values, removals and clocks);
  - nothing was lost: every change either replica journaled (the write-ahead record of
    what it sent) is covered by the final clock of its key (pointwise <=);
  - no replica reused its counter: the clock entry a replica gives its own writes rises
    from each write to the next, across the restart (one restarted without its history
    would count from 0 again, and its peer would drop its new writes as already seen);
  - the kill really happened mid-stream (the first run journaled changes and never
    finished).
Usage: replicated_config_check.py EXAMPLE_BINARY
"""
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

VALUE_SIZE = 32


def journal_records(path):
    """(key, clock, stamp, value) of every whole record of a journal (the
    tsmap_change_encode format); value None for a removal."""
    data = open(path, "rb").read()
    off, out = 0, []
    while off + 32 <= len(data):
        key_len, flags, clock_len, value_size = struct.unpack_from("<IIII", data, off)
        if value_size != VALUE_SIZE:
            raise SystemExit(f"{path}: bad record at {off}")
        (stamp,) = struct.unpack_from("<Q", data, off + 16)
        clock = struct.unpack_from(f"<{clock_len}Q", data, off + 32)
        vbytes = 0 if flags & 1 else value_size
        vpos = off + 32 + 8 * clock_len
        kpos = off + 32 + 8 * clock_len + vbytes
        if kpos + key_len > len(data):
            break  # a torn last record
        value = None if flags & 1 else data[vpos:vpos + vbytes]
        out.append((data[kpos:kpos + key_len].decode(), clock, stamp, value))
        off = kpos + key_len
    return out


def final_clocks(dump):
    clocks = {}
    for line in dump.splitlines():
        key = line.split(" ", 1)[0]
        clocks[key] = tuple(int(c) for c in line.rsplit(" clock ", 1)[1].split(","))
    return clocks


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "cfg.sock")

        def start(rid, edits, tag):
            args = [exe, "--id", str(rid), "--socket", sock,
                    "--journal", os.path.join(tmp, f"r{rid}.journal"),
                    "--dump", os.path.join(tmp, f"r{rid}.dump"),
                    "--edits", str(edits), "--tag", str(tag), "--timeout-ms", "40000"]
            return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        a = start(0, 1500, 0)
        b = start(1, 1500, 0)
        time.sleep(0.6)
        b.send_signal(signal.SIGKILL)
        b.wait()
        first = journal_records(os.path.join(tmp, "r1.journal"))
        b = start(1, 200, 1)
        try:
            out_a, _ = a.communicate(timeout=60)
            out_b, _ = b.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            a.kill()
            b.kill()
            raise SystemExit("FAIL: the replicas did not settle within 60 s")
        print(out_a.decode().strip())
        print(out_b.decode().strip())
        if a.returncode or b.returncode:
            raise SystemExit(f"FAIL: exit codes {a.returncode}, {b.returncode}")
        dumps = [open(os.path.join(tmp, f"r{r}.dump")).read() for r in (0, 1)]
        if dumps[0] != dumps[1]:
            raise SystemExit("FAIL: the replicas differ:\n" + dumps[0] + "---\n" + dumps[1])
        if not first:
            raise SystemExit("FAIL: the killed run journaled nothing (killed too early?)")
        final = final_clocks(dumps[0])
        lost = 0
        for r in (0, 1):
            own, seen = 0, set()
            for key, clock, stamp, value in journal_records(os.path.join(tmp, f"r{r}.journal")):
                if value is None or not value.startswith(f"r{r}.".encode()) or value in seen:
                    continue
                seen.add(value)  # the record of this replica's own write of `value`
                if clock[r] <= own:
                    raise SystemExit(f"FAIL: replica {r} wrote {value.rstrip(bytes(1))!r} "
                                     f"with counter {clock[r]} after {own}: reused")
                own = clock[r]
                fc = final.get(key)
                if fc is None or any(c > f for c, f in zip(clock, fc)):
                    lost += 1
                    if lost <= 5:
                        print(f"lost: replica {r} journaled {key} at clock {clock}, final {fc}")
        if lost:
            raise SystemExit(f"FAIL: {lost} journaled changes are not in the final state")
        print(f"converged: {len(final)} keys; the killed run had journaled {len(first)} "
              f"changes; every journaled change is covered")


if __name__ == "__main__":
    main()
