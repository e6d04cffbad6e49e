#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo.
# Until the server lands (issue 3) the demo is the in-process quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "${INCSYNC_JOBS:-$(nproc)}" --target incsync-quickstart
exec build/release/examples/incsync-quickstart "$@"
