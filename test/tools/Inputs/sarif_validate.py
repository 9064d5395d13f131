"""sarif_validate.py MULTITOOL ARGS...: runs Microsoft's SARIF multitool and prints its
output without SARIF2005 ("does not provide 'informationUri'"): tsmap-tidy leaves that
recommended property out when --doc-base-uri is a file: URI (the default, the installed
pages), which would link into the machine that ran the checks (docs/tsmap-tidy.md).
sarif.test checks the property itself. Everything else, errors and warnings, passes."""
import subprocess
import sys

proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                      text=True, errors="replace")
for line in proc.stdout.splitlines():
    if "SARIF2005" not in line:
        print(line)
sys.exit(proc.returncode)
