"""Compares a real-world run with EXPECTED.md: precision, known bugs found, crashes, time.

EXPECTED.md holds two Markdown tables, told apart by their header row:

    | project | location | check | verdict | reason |            reviewed findings
    | id | project | locations | check | kind | description |   known bugs

A finding is identified by project, check and location (`path:line`, the path relative to
the unpacked source tree, as the run's SARIF gives it): the sources are pinned, so lines do
not move, and a changed message (a newer plugin) keeps its review. `verdict` is `true` or
`false`. A known bug is found when a finding of its check is at one of its `locations`
(separated by `;`).
"""

import json
import urllib.parse

VERDICTS = ("true", "false")


class Result:
    """One project's run: findings [(check, location, message)], counts, seconds."""

    def __init__(self, project, files, seconds, findings, problems, cpu_seconds=0.0):
        self.project = project
        self.files = files
        self.seconds = seconds
        self.cpu_seconds = cpu_seconds
        self.findings = findings
        self.problems = problems  # {kind: [message]}

    def save(self, path):
        with open(path, "w") as f:
            json.dump(self.__dict__, f, indent=1)

    @staticmethod
    def load(path):
        with open(path) as f:
            d = json.load(f)
        return Result(d["project"], d["files"], d["seconds"],
                      [tuple(x) for x in d["findings"]], d["problems"], d.get("cpu_seconds", 0))


def read_sarif(project, path, files, seconds, cpu_seconds=0.0):
    with open(path) as f:
        run = json.load(f)["runs"][0]
    findings = []
    for r in run.get("results", []):
        loc = r.get("locations", [{}])[0].get("physicalLocation", {})
        uri = urllib.parse.unquote(loc.get("artifactLocation", {}).get("uri", "?"))
        line = loc.get("region", {}).get("startLine", 0)
        findings.append((r["ruleId"], "%s:%d" % (uri, line), r["message"]["text"]))
    problems = {}
    for inv in run.get("invocations", []):
        for n in inv.get("toolExecutionNotifications", []):
            kind = n.get("descriptor", {}).get("id", "tsmap-tidy-failed")[len("tsmap-tidy-"):]
            problems.setdefault(kind, []).append(n["message"]["text"])
    return Result(project, files, seconds, findings, problems, cpu_seconds)


def _rows(text):
    """Yields (header, row) for every data row of every Markdown table in text."""
    header = None
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
        elif set("".join(cells)) <= set("-: "):
            continue
        else:
            yield header, dict(zip(header, cells))


def _unquote(cell):
    return cell.strip().strip("`").strip()


def parse_expected(text):
    """{'reviewed': {(project, check, location): (verdict, reason)}, 'known': [bug]}"""
    reviewed, known = {}, []
    for header, row in _rows(text):
        if "verdict" in header:
            verdict = row["verdict"].lower().strip("* ")
            if verdict not in VERDICTS:
                raise ValueError("EXPECTED.md: verdict %r is neither true nor false (%s)"
                                 % (row["verdict"], row))
            key = (row["project"], _unquote(row["check"]), _unquote(row["location"]))
            reviewed[key] = (verdict == "true", row.get("reason", ""))
        elif "locations" in header:
            known.append({"id": row["id"], "project": row["project"],
                          "check": _unquote(row["check"]),
                          "locations": [_unquote(x) for x in row["locations"].split(";")
                                        if x.strip()],
                          "kind": row.get("kind", ""), "description": row.get("description", "")})
    return {"reviewed": reviewed, "known": known}


def score(results, expected):
    """Counts per project and overall; what a report prints."""
    rows, unreviewed, found = [], [], set()
    total = dict(files=0, findings=0, true=0, false=0, unreviewed=0, crash=0, timeout=0,
                 parse=0, seconds=0.0, cpu=0.0)
    for r in results:
        c = dict(files=r.files, findings=len(r.findings), true=0, false=0, unreviewed=0,
                 crash=len(r.problems.get("crash", [])),
                 timeout=len(r.problems.get("timeout", [])),
                 parse=len(r.problems.get("parse", [])), seconds=r.seconds,
                 cpu=r.cpu_seconds)
        for check, loc, msg in r.findings:
            v = expected["reviewed"].get((r.project, check, loc))
            if v is None:
                c["unreviewed"] += 1
                unreviewed.append((r.project, check, loc, msg))
            else:
                c["true" if v[0] else "false"] += 1
            for bug in expected["known"]:
                if bug["project"] == r.project and bug["check"] == check and \
                        loc in bug["locations"]:
                    found.add(bug["id"])
        rows.append((r.project, c))
        for k in total:
            total[k] += c[k]
    ran = {r.project for r in results}
    known = [b for b in expected["known"] if b["project"] in ran]
    return rows, total, unreviewed, known, found


def report(results, expected, mode):
    rows, total, unreviewed, known, found = score(results, expected)
    out = ["## %s options" % mode, "",
           "| project | files | findings | true | false | unreviewed | crashes | timeouts |"
           " did not compile | CPU s | wall s |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, c in rows + [("**total**", total)]:
        out.append("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %.0f | %.0f |" % (
            name, c["files"], c["findings"], c["true"], c["false"], c["unreviewed"],
            c["crash"], c["timeout"], c["parse"], c["cpu"], c["seconds"]))
    reviewed = total["true"] + total["false"]
    out.append("")
    out.append("- precision: %s (%d true of %d reviewed findings)" % (
        "%.0f%%" % (100.0 * total["true"] / reviewed) if reviewed else "n/a",
        total["true"], reviewed))
    out.append("- false warnings per 500 files: %.2f" % (
        500.0 * total["false"] / total["files"] if total["files"] else 0))
    out.append("- known bugs found: %d of %d%s" % (
        len(found & {b["id"] for b in known}), len(known),
        " (%s)" % ", ".join(sorted(found)) if found else ""))
    missed = [b["id"] for b in known if b["id"] not in found]
    if missed:
        out.append("- known bugs missed: %s" % ", ".join(missed))
    out.append("- crashes: %d, timeouts: %d, files that did not compile: %d" % (
        total["crash"], total["timeout"], total["parse"]))
    per = (lambda x: x / total["files"] if total["files"] else 0)
    out.append("- time: %.0f s CPU for %d files (%.2f s per file; clang-tidy's user+system "
               "time), %.0f s wall clock (%.2f s per file; a shared machine)" % (
                   total["cpu"], total["files"], per(total["cpu"]), total["seconds"],
                   per(total["seconds"])))
    if unreviewed:
        out.append("")
        out.append("Findings not in EXPECTED.md (review them and add a row):")
        out.append("")
        for project, check, loc, msg in unreviewed:
            out.append("- %s %s `%s`: %s" % (project, check, loc, msg))
    return "\n".join(out)
