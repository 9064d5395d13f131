"""sarif_summary.py FILE: one line per rule, result, related location, code flow and
notification of a SARIF log, for FileCheck."""
import json
import sys

run = json.load(open(sys.argv[1]))["runs"][0]


def where(loc):
    phys = loc["physicalLocation"]
    region = phys.get("region", {})
    text = phys["artifactLocation"]["uri"]
    if region:
        text += ":%d:%d" % (region["startLine"], region["startColumn"])
    return text


rules = run["tool"]["driver"]["rules"]
for rule in rules:
    if rule["id"].startswith(("clang-analyzer-core", "clang-analyzer-unix.Dynamic")):
        continue  # dependencies the analyzer enables on its own
    # helpUri only where it points off the machine; help.markdown is the rule's page.
    line = "rule %s name=%s help=%s markdown=%s" % (
        rule["id"], rule["name"], rule.get("helpUri", "-"),
        rule["help"]["markdown"].strip().splitlines()[0])
    if not rule["shortDescription"]["text"].startswith("clang-tidy check"):
        line += ' short="%s" full="%s"' % (rule["shortDescription"]["text"],
                                           rule["fullDescription"]["text"])
    print(line)
print("srcroot", run["originalUriBaseIds"]["%SRCROOT%"]["uri"])
for r in run["results"]:
    assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    region = r["locations"][0]["physicalLocation"]["region"]
    print('result %s %s %s "%s" fingerprint=%s region=%d:%d-%d:%d' % (
        r["ruleId"], r["level"], where(r["locations"][0]), r["message"]["text"],
        r["partialFingerprints"]["tsmap/v1"], region["startLine"], region["startColumn"],
        region["endLine"], region["endColumn"]))
    for rel in r.get("relatedLocations", []):
        print('  related %d %s "%s"' % (rel["id"], where(rel), rel["message"]["text"]))
    for flow in r.get("codeFlows", []):
        for thread in flow["threadFlows"]:
            print("  flow " + " -> ".join(where(l["location"]) for l in thread["locations"]))
for inv in run["invocations"]:
    for n in inv.get("toolExecutionNotifications", []):
        files = [l["physicalLocation"]["artifactLocation"]["uri"] for l in n.get("locations", [])]
        print('notification %s %s %s "%s"' % (n["level"], n["descriptor"]["id"],
                                               " ".join(files), n["message"]["text"]))
    for n in inv.get("toolConfigurationNotifications", []):
        print('configuration %s %s "%s"' % (n["level"], n["descriptor"]["id"],
                                             n["message"]["text"]))
    print("executionSuccessful", inv["executionSuccessful"])
