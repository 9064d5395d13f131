"""exit_status.py CMD...: runs CMD (stdout and stderr passed through to stdout), then
prints 'exit status N', so a test can pin the exact status."""
import subprocess
import sys

rc = subprocess.run(sys.argv[1:], stderr=subprocess.STDOUT).returncode
sys.stdout.flush()
print("exit status %d" % rc)
