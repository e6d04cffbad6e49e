#!/usr/bin/env bash
# A/B comparison of two incsync-pos-server binaries on the pull path: the two
# are alternated ROUNDS times (so machine noise hits both alike), each seeded
# with 10 000 products and loaded by `wrk -t1 -c32` (2 s warm-up, 5 s
# measured) on GET /api/v1/sync/products?since=<cursor>&limit=LIMIT.
# Prints requests/s and server CPU µs per request per run; compare medians.
#
# Usage: benchmarks/network/pull_ab.sh SERVER_A SERVER_B [ROUNDS=5] [LIMIT=100]
set -euo pipefail
[[ $# -ge 2 ]] || { sed -n 2,8p "$0"; exit 2; }
rounds=${3:-5}
limit=${4:-100}
out=$(mktemp)
pid=
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -f "$out"' EXIT

run() { # binary port
    "$1" --port "$2" --quiet --rate-limit 0 --max-connections-per-ip 0 --demo-data --demo-products 10000 \
        --admin-token bench --register-token till:1 > "$out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q 'listening on' "$out" && break; sleep 0.1; done
    local base=http://127.0.0.1:$2/api/v1/sync/products
    local cursor
    cursor=$(curl -s -H 'Authorization: Bearer till' "$base?limit=100" | sed 's/.*"next_since":"\([^"]*\)".*/\1/')
    local url="$base?since=$cursor&limit=$limit"
    wrk -t1 -c32 -d2s -H 'Authorization: Bearer till' "$url" > /dev/null
    local c0 c1 result
    c0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    result=$(wrk -t1 -c32 -d5s -H 'Authorization: Bearer till' "$url")
    c1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    kill $pid; wait $pid 2>/dev/null || true; pid=
    echo "$result" | awk -v b="$1" -v c0="$c0" -v c1="$c1" -v tck="$(getconf CLK_TCK)" '
        /requests in/ { n = $1 } /Requests\/sec/ { rps = $2 }
        END { printf "%s requests_per_s=%.0f server_cpu_us_per_request=%.1f\n", b, rps, (c1 - c0) * 1e6 / tck / n }'
}
for ((r = 1; r <= rounds; r++)); do
    run "$1" 18091
    run "$2" 18092
done
