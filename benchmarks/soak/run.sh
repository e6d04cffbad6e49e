#!/usr/bin/env bash
# The soak (benchmarks/soak/soak.cpp): incsync-pos-server under 1 000
# WebSocket registers with steady writes, pulls and churn; fails on server
# RSS growth after warm-up, a register that does not converge, or an HTTP
# status other than 2xx/304. Run it alone: it uses both cores.
#
# Usage: benchmarks/soak/run.sh [BUILD_DIR=build/release] [DURATION_S=300] [incsync-soak options...]
#   CI: benchmarks/soak/run.sh build/meson 60   (Meson's GCC -O1 build, scripts/run-tests.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
duration=${2:-300}
shift $(( $# < 2 ? $# : 2 ))
server_bin=$build/examples/incsync-pos-server
soak_bin=$build/benchmarks/incsync-soak
[[ -x $server_bin && -x $soak_bin ]] || {
    echo "build first: cmake --build $build --target incsync-pos-server incsync-soak" >&2
    exit 2
}
ulimit -n "$(ulimit -Hn)"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r) $(nproc) cores"
exec "$soak_bin" "$server_bin" --duration "$duration" "$@"
