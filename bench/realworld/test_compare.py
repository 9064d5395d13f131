#!/usr/bin/env python3
"""Self-test of compare.py (and run.py's deb-src derivation): run by test/bench."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402
import run  # noqa: E402

EXPECTED = """
# made up

| project | location | check | verdict | reason |
|---|---|---|---|---|
| demo | `src/a.c:10` | tsmap-reentrant-callback | true | removes from the table it iterates |
| demo | `src/b.c:20` | tsmap-reentrant-callback | false | another table |
| other | `x.c:1` | tsmap-reentrant-callback | false | never ran |

| id | project | locations | check | kind | description |
|---|---|---|---|---|---|
| D-1 | demo | `src/a.c:10`; `src/a.c:12` | tsmap-reentrant-callback | foreach | found |
| D-2 | demo | `src/c.c:5` | tsmap-reentrant-callback | iter | missed |
| O-1 | other | `x.c:9` | tsmap-reentrant-callback | iter | project not run |
"""


def sarif(results, notifications):
    return {"runs": [{
        "results": [{"ruleId": c, "message": {"text": m}, "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": u, "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": line}}}]} for c, u, line, m in results],
        "invocations": [{"toolExecutionNotifications": [
            {"message": {"text": t}, "descriptor": {"id": "tsmap-tidy-" + k}}
            for k, t in notifications]}]}]}


class CompareTest(unittest.TestCase):
    def result(self):
        doc = sarif([("tsmap-reentrant-callback", "src/a.c", 10, "re-entry"),
                     ("tsmap-reentrant-callback", "src/b.c", 20, "re-entry"),
                     ("tsmap-reentrant-callback", "src/b.c", 21, "new one"),
                     ("tsmap-non-idempotent-callback", "src/a.c", 10, "other check")],
                    [("crash", "clang-tidy crashed on z.c"), ("parse", "y.c does not compile")])
        with tempfile.NamedTemporaryFile("w", suffix=".sarif", delete=False) as f:
            json.dump(doc, f)
        try:
            return compare.read_sarif("demo", f.name, 40, 12.0, 30.0)
        finally:
            os.remove(f.name)

    def test_scores(self):
        rows, total, unreviewed, known, found = compare.score(
            [self.result()], compare.parse_expected(EXPECTED))
        self.assertEqual((total["true"], total["false"], total["unreviewed"]), (1, 1, 2))
        self.assertEqual((total["crash"], total["parse"], total["files"]), (1, 1, 40))
        self.assertEqual(found, {"D-1"})  # the same location under another check is not it
        self.assertEqual([b["id"] for b in known], ["D-1", "D-2"])  # O-1's project not run
        self.assertEqual([u[2] for u in unreviewed], ["src/b.c:21", "src/a.c:10"])

    def test_report(self):
        text = compare.report([self.result()], compare.parse_expected(EXPECTED), "default")
        self.assertIn("- precision: 50% (1 true of 2 reviewed findings)", text)
        self.assertIn("- false warnings per 500 files: 12.50", text)
        self.assertIn("- known bugs found: 1 of 2 (D-1)", text)
        self.assertIn("- known bugs missed: D-2", text)
        self.assertIn("- crashes: 1, timeouts: 0, files that did not compile: 1", text)
        self.assertIn("| demo | 40 | 4 | 1 | 1 | 2 | 1 | 0 | 1 | 30 | 12 |", text)

    def test_save_load(self):
        r = self.result()
        with tempfile.TemporaryDirectory() as d:
            r.save(os.path.join(d, "r.json"))
            back = compare.Result.load(os.path.join(d, "r.json"))
        self.assertEqual(back.findings, r.findings)
        self.assertEqual(back.problems, r.problems)

    def test_bad_verdict(self):
        with self.assertRaises(ValueError):
            compare.parse_expected("| project | location | check | verdict | reason |\n"
                                   "|---|---|---|---|---|\n| p | a.c:1 | c | maybe | ? |\n")

    def test_deb_src(self):
        text = ("Types: deb\n# comment\nURIs: http://deb.example/debian\nSuites: bookworm\n"
                "Components: main\n\nTypes: deb-src\nURIs: http://x\nSuites: s\n")
        self.assertEqual(run.deb_src_stanzas(text), "Types: deb-src\nURIs: "
                         "http://deb.example/debian\nSuites: bookworm\nComponents: main\n")


if __name__ == "__main__":
    unittest.main()
