#!/usr/bin/env bash
# Network benchmarks against a real incsync-pos-server process, loopback only:
#   1. the physical floor (../shared/limits/fanout_floor.cpp, when present):
#      one write() per connection, 160-byte and 35 kB messages;
#   2. fan-out (bench_fanout): 1 000 and 10 000 WebSocket clients;
#   3. pull throughput: wrk -t1 -c32 against a 10 000-product store, pages of
#      100 and 1 000 records, with the server's CPU per request.
# Each figure is printed as one JSON line. Figures are comparable only within
# one run on one machine: report ratios and medians (docs/benchmarks.md).
#
# Usage: benchmarks/network/run.sh [BUILD_DIR=build/release] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
rounds=${2:-3}
server_bin=$build/examples/incsync-pos-server
fanout_bin=$build/benchmarks/bench_fanout
[[ -x $server_bin && -x $fanout_bin ]] || {
    echo "build first: cmake --preset release && cmake --build --preset release --target incsync-pos-server bench_fanout" >&2
    exit 2
}
ulimit -n "$(ulimit -Hn)"
tmp=$(mktemp -d)
server_pid=
cleanup() {
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

floor_src=../shared/limits/fanout_floor.cpp
if [[ -f $floor_src ]]; then
    g++ -O2 -std=c++20 -pthread "$floor_src" -o "$tmp/floor"
    g++ -O2 -std=c++20 -pthread -DSZ=35332 "$floor_src" -o "$tmp/floor_35k"
fi

for ((r = 1; r <= rounds; r++)); do
    echo "## round $r"
    if [[ -x $tmp/floor ]]; then
        printf '{"bench":"floor_160B",%s\n' "$("$tmp/floor" 1000 200 | cut -c2-)"
        printf '{"bench":"floor_35kB",%s\n' "$("$tmp/floor_35k" 1000 20 | cut -c2-)"
        # 2 descriptors per connection in one process: 9 990 is the most under 20 000.
        printf '{"bench":"floor_160B",%s\n' "$("$tmp/floor" 9990 50 | cut -c2-)"
    fi
    "$fanout_bin" "$server_bin" 1000 200 200 2>/dev/null | sed 's/^{/{"bench":"fanout",/'
    "$fanout_bin" "$server_bin" 10000 50 50 2>/dev/null | sed 's/^{/{"bench":"fanout",/'
done

# Pull throughput.
"$server_bin" --port 0 --quiet --rate-limit 0 --max-connections-per-ip 0 --demo-data --demo-products 10000 \
    --admin-token bench --register-token till:1 > "$tmp/server.out" &
server_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$tmp/server.out" && break; sleep 0.1; done
port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$tmp/server.out" | sed 's/.*://')
base=http://127.0.0.1:$port/api/v1/sync/products
cursor=$(curl -s -H 'Authorization: Bearer till' "$base?limit=100" | sed 's/.*"next_since":"\([^"]*\)".*/\1/')
cpu_us() { awk '{ print ($14 + $15) * 1000000 / '"$(getconf CLK_TCK)"' }' "/proc/$server_pid/stat"; }
for ((r = 1; r <= rounds; r++)); do
    for limit in 100 1000; do
        url="$base?since=$cursor&limit=$limit"
        bytes=$(curl -s -H 'Authorization: Bearer till' "$url" | wc -c)
        c0=$(cpu_us)
        out=$(wrk -t1 -c32 -d10s -H 'Authorization: Bearer till' "$url")
        c1=$(cpu_us)
        requests=$(echo "$out" | awk '/requests in/ { print $1 }')
        rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
        errors=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
        awk -v l="$limit" -v b="$bytes" -v n="$requests" -v rps="$rps" -v c0="$c0" -v c1="$c1" -v e="${errors:-0}" \
            'BEGIN { printf "{\"bench\":\"pull\",\"limit\":%d,\"response_bytes\":%d,\"requests_per_s\":%.0f,\"server_cpu_us_per_request\":%.1f,\"non_2xx\":%d}\n", l, b, rps, (c1 - c0) / n, e }'
    done
done
