#!/usr/bin/env bash
# README command 1: on a fresh Debian 12 machine, installs what is missing, builds
# tsmap (plugin, runtime, examples) and runs the checks over the example project.
set -euo pipefail
cd "$(dirname "$0")"
./install-deps.sh
./build.sh
./run-example.sh
