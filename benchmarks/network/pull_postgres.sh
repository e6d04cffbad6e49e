#!/usr/bin/env bash
# Pull throughput of one incsync-pos-server on PostgreSQL and on a SQLite file,
# in one run: 10 000 demo products, `wrk -t1 -c32 -d10s` on pages of 100 from
# a cursor, 3 rounds each, server and PostgreSQL CPU per request from /proc.
# PostgreSQL runs in a temporary directory with -F (fsync off), as the
# `postgres` user (it refuses root). One JSON line per round; loopback only.
#
# Usage: benchmarks/network/pull_postgres.sh [BUILD_DIR=build/release]
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build/release}/examples/incsync-pos-server
D=$(mktemp -d); chown postgres "$D"; trap 'runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$D/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$D"' EXIT
runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D $D/data -A trust -U incsync --no-sync >/dev/null
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$D/data" -l "$D/log" -o "-h 127.0.0.1 -p 55433 -k $D -F" -w start >/dev/null

tick=$(getconf CLK_TCK)
cpu() { awk -v t=$tick '{ print ($14 + $15) * 1000000 / t }' /proc/$1/stat; }
pgcpu() { local s=0; for p in $(pgrep -u postgres postgres); do s=$(awk -v s=$s -v t=$tick '{ print s + ($14 + $15) * 1000000 / t }' /proc/$p/stat 2>/dev/null || echo $s); done; echo $s; }
for db in postgresql://incsync@127.0.0.1:55433/postgres $D/pos.sqlite3; do
  $B --port 0 --quiet --rate-limit 0 --max-connections-per-ip 0 --demo-data --demo-products 10000 --db $db --durability normal --admin-token bench --register-token till:1 > $D/out 2>&1 &
  pid=$!
  for _ in $(seq 300); do grep -q 'listening on' $D/out && break; sleep 0.2; done
  port=$(grep -o 'listening on [0-9.]*:[0-9]*' $D/out | sed 's/.*://')
  base=http://127.0.0.1:$port/api/v1/sync/products
  cursor=$(curl -s -H 'Authorization: Bearer till' "$base?limit=100" | sed 's/.*"next_since":"\([^"]*\)".*/\1/')
  wrk -t1 -c32 -d2s -H 'Authorization: Bearer till' "$base?since=$cursor&limit=100" >/dev/null
  for r in 1 2 3; do
    c0=$(cpu $pid); p0=$(pgcpu)
    out=$(wrk -t1 -c32 -d10s -H 'Authorization: Bearer till' "$base?since=$cursor&limit=100")
    c1=$(cpu $pid); p1=$(pgcpu)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}'); n=$(echo "$out" | awk '/requests in/ {print $1}')
    echo "{\"db\":\"${db%%:*}\",\"round\":$r,\"rps\":$rps,\"server_cpu_us_per_req\":$(echo "($c1-$c0)/$n" | bc -l | cut -c1-6),\"pg_cpu_us_per_req\":$(echo "($p1-$p0)/$n" | bc -l | cut -c1-6),\"compiles\":$(pgrep -c cc1plus || true)}"
  done
  kill $pid; wait $pid 2>/dev/null || true
done
