#!/usr/bin/env bash
# Installs the Debian packages tsmap needs to build and test, if any is missing.
# Lists: scripts/debian-packages.txt, plus the lists other parts keep
# (tools/debian-packages.txt, bench/runtime/debian-packages.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

lists=(scripts/debian-packages.txt)
for extra in tools/debian-packages.txt bench/runtime/debian-packages.txt; do
  [ -f "$extra" ] && lists+=("$extra")
done
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "${lists[@]}" | grep -v '^$' | sort -u)

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#wanted[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm tools (the SARIF validator) live in tools/, never in the tree's history. Debian's
# nodejs and npm only when there is no npm yet (NodeSource's nodejs bundles its own npm and
# conflicts with Debian's).
if [ -f tools/package.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: installing nodejs npm"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      nodejs npm >/dev/null
  fi
  if [ ! -x tools/node_modules/.bin/sarif-multitool ]; then
    echo "install-deps: npm ci --prefix tools (the SARIF validator)"
    npm ci --prefix tools --no-audit --no-fund --loglevel=error
  fi
fi
