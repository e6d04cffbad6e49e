#!/usr/bin/env bash
# Installs what is missing, builds (release preset), and runs the demo.
# Until the server lands the demo is the in-process quickstart.
#   INCSYNC_JOBS=N  parallel compile jobs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "${INCSYNC_JOBS:-2}" --target incsync-quickstart
exec build/release/examples/incsync-quickstart "$@"
