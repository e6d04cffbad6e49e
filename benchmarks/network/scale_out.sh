#!/usr/bin/env bash
# Several incsync-pos-server instances on one PostgreSQL store, loopback only
# (issue 9): starts a PostgreSQL 15 and a redis-server of its own in a
# temporary directory (fsync off, PostgreSQL started with -F: this measures
# the bus and the fan-out, not a disk), then per round:
#   1. fan-out (bench_fanout, INCSYNC_BENCH_INSTANCES=K): 1 000 WebSocket
#      clients spread over K instances, 200 paced and 200 burst PATCHes sent to
#      instance 0; K = 1, 2, 3 with --bus redis://..., K = 1, 2, 3 with
#      --bus postgres (LISTEN/NOTIFY), and as baselines one instance on
#      PostgreSQL without a bus and one on SQLite (--durability normal); each
#      PostgreSQL run in a fresh schema;
#   2. pull throughput: K = 1, 2, 3 instances on one PostgreSQL schema seeded
#      once with 10 000 products (--demo-data on the first instance, started
#      before the others), one `wrk -t1 -c32 -d10s` per instance at once on
#      GET /api/v1/sync/products?since=<cursor>&limit=100 (2 s warm-up first),
#      summed requests/s and server CPU per request; and one instance on a
#      SQLite file seeded the same way.
# "service_cpu_us_per_*" is the CPU of PostgreSQL (postmaster and backends)
# and Redis over the same interval. Everything (instances, PostgreSQL, Redis,
# load generators) shares this machine's cores. One JSON line per figure;
# compare medians and ratios within one run (docs/benchmarks.md). "compiles":
# compilers seen running at the start plus at the end of the figure (0: none).
#
# Usage: benchmarks/network/scale_out.sh [BUILD_DIR=build/release] [ROUNDS=3]
# PG_BIN overrides /usr/lib/postgresql/15/bin.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
rounds=${2:-3}
server_bin=$build/examples/incsync-pos-server
fanout_bin=$build/benchmarks/bench_fanout
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
[[ -x $server_bin && -x $fanout_bin ]] || {
    echo "build first: cmake --build $build --target incsync-pos-server bench_fanout" >&2
    exit 2
}
for tool in "$pg_bin/initdb" "$pg_bin/pg_ctl" redis-server wrk curl; do
    command -v "$tool" > /dev/null || { echo "missing: $tool" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d)
chmod 755 "$tmp"
as_pg=() # PostgreSQL refuses to run as root
if [[ $(id -u) == 0 ]]; then
    chown postgres "$tmp"
    as_pg=(runuser -u postgres --)
fi
pg_port=$((20000 + RANDOM % 5000))
redis_port=$((25000 + RANDOM % 5000))
server_pids=()
stop_servers() {
    local pid
    for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${server_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    server_pids=()
}
cleanup() {
    stop_servers
    [[ -f $tmp/redis.pid ]] && kill "$(cat "$tmp/redis.pid")" 2>/dev/null
    [[ -f $tmp/data/postmaster.pid ]] && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$tmp/data" -m fast -w stop > /dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$tmp/data" -A trust -U incsync --no-sync > "$tmp/initdb.log"
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$tmp/data" -l "$tmp/postgres.log" -o "-h 127.0.0.1 -p $pg_port -k $tmp -F" -w start > /dev/null
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp" --save "" --appendonly no \
    --daemonize yes --pidfile "$tmp/redis.pid" > /dev/null
for _ in $(seq 50); do [[ -s $tmp/redis.pid ]] && break; sleep 0.1; done
postmaster_pid=$(head -1 "$tmp/data/postmaster.pid")
redis_pid=$(cat "$tmp/redis.pid")
pg=postgresql://incsync@127.0.0.1:$pg_port/postgres
redis=redis://127.0.0.1:$redis_port

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# $("$pg_bin/postgres" --version), $(redis-server --version | cut -d' ' -f1-3)"

compiles() { pgrep -c 'cc1plus|clang' || true; } # a compiler running skews the figures

# fanout STORE BUS K SERVICE_PIDS SERVER_ARGS...
fanout() {
    local store=$1 bus=$2 k=$3 services=$4
    shift 4
    local out compiling
    compiling=$(compiles)
    out=$(INCSYNC_BENCH_INSTANCES=$k INCSYNC_BENCH_SERVICE_PIDS=$services \
        "$fanout_bin" "$server_bin" 1000 200 200 "$@" 2> "$tmp/fanout.err") || { cat "$tmp/fanout.err" >&2; exit 1; }
    compiling=$((compiling + $(compiles)))
    local prefix="{\"bench\":\"fanout\",\"round\":$r,\"store\":\"$store\",\"bus\":\"$bus\",\"instances\":$k,\"compiles\":$compiling,"
    echo "${out//\{\"phase\"/$prefix\"phase\"}"
}

# start_server NAME ARGS...: starts an instance, waits for it; sets $port.
start_server() {
    local name=$1
    shift
    "$server_bin" --port 0 --quiet --rate-limit 0 --max-connections-per-ip 0 \
        --admin-token bench --register-token till:1 "$@" > "$tmp/$name.out" 2>&1 &
    server_pids+=($!)
    for _ in $(seq 1200); do # seeding 10 000 products into PostgreSQL takes ~20 s
        grep -q 'listening on' "$tmp/$name.out" && break
        kill -0 "${server_pids[-1]}" 2>/dev/null || { cat "$tmp/$name.out" >&2; exit 1; }
        sleep 0.1
    done
    port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$tmp/$name.out" | sed 's/.*://')
    [[ -n $port ]] || { echo "$name did not start" >&2; exit 1; }
}

cpu_us() { # utime + stime of the given processes, µs
    local pid sum=0
    for pid in "$@"; do sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done
    echo $((sum * 1000000 / $(getconf CLK_TCK)))
}
service_cpu_us() { # the postmaster and its children (backends), µs
    { cat /proc/[0-9]*/stat 2> /dev/null || true; } \
        | awk -v p="$postmaster_pid" -v t="$(getconf CLK_TCK)" '$1 == p || $4 == p { s += $14 + $15 } END { printf "%d\n", s * 1000000 / t }'
}

# pull STORE K ARGS...: K instances (the first seeds when the store is empty),
# one wrk per instance at once.
pull() {
    local store=$1 k=$2
    shift 2
    local ports=() i
    start_server pull0 --demo-data --demo-products 10000 "$@"
    ports+=("$port")
    for ((i = 1; i < k; i++)); do
        start_server "pull$i" "$@"
        ports+=("$port")
    done
    local cursor
    cursor=$(curl -s -H 'Authorization: Bearer till' "http://127.0.0.1:${ports[0]}/api/v1/sync/products?limit=100" \
        | sed 's/.*"next_since":"\([^"]*\)".*/\1/')
    local path="/api/v1/sync/products?since=$cursor&limit=100"
    local bytes
    bytes=$(curl -s -H 'Authorization: Bearer till' "http://127.0.0.1:${ports[0]}$path" | wc -c)
    local compiling c0 s0 c1 s1 wrk_pids=()
    for i in "${!ports[@]}"; do # warm-up
        wrk -t1 -c32 -d2s -H 'Authorization: Bearer till' "http://127.0.0.1:${ports[$i]}$path" > /dev/null &
        wrk_pids+=($!)
    done
    wait "${wrk_pids[@]}"
    wrk_pids=()
    compiling=$(compiles)
    c0=$(cpu_us "${server_pids[@]}")
    s0=$(service_cpu_us)
    for i in "${!ports[@]}"; do
        wrk -t1 -c32 -d10s -H 'Authorization: Bearer till' "http://127.0.0.1:${ports[$i]}$path" > "$tmp/wrk$i.out" &
        wrk_pids+=($!)
    done
    wait "${wrk_pids[@]}"
    c1=$(cpu_us "${server_pids[@]}")
    s1=$(service_cpu_us)
    compiling=$((compiling + $(compiles)))
    stop_servers
    cat "$tmp"/wrk[0-9]*.out | awk -v st="$store" -v k="$k" -v r="$r" -v b="$bytes" -v c="$((c1 - c0))" -v s="$((s1 - s0))" -v cc="$compiling" '
        /requests in/ { n += $1 } /Requests\/sec/ { rps += $2 } /Non-2xx/ { e += $NF }
        END { printf "{\"bench\":\"pull\",\"round\":%d,\"store\":\"%s\",\"instances\":%d,\"compiles\":%d,\"limit\":100,\"response_bytes\":%d,\"requests_per_s\":%.0f,\"server_cpu_us_per_request\":%.1f,\"service_cpu_us_per_request\":%.1f,\"non_2xx\":%d}\n",
                     r, st, k, cc, b, rps, c / n, s / n, e }'
    rm -f "$tmp"/wrk[0-9]*.out
}

for ((r = 1; r <= rounds; r++)); do
    echo "## round $r"
    fanout sqlite none 1 "" --db "$tmp/fanout_r$r.sqlite3" --durability normal
    fanout postgres none 1 "$postmaster_pid" --db "$pg" --db-schema "bench_r${r}_k1_none"
    for k in 1 2 3; do
        fanout postgres redis "$k" "$postmaster_pid,$redis_pid" --db "$pg" --db-schema "bench_r${r}_k${k}_redis" --bus "$redis"
    done
    for k in 1 2 3; do
        fanout postgres postgres "$k" "$postmaster_pid" --db "$pg" --db-schema "bench_r${r}_k${k}_postgres" --bus postgres
    done
    pull sqlite 1 --db "$tmp/pull.sqlite3"
    for k in 1 2 3; do
        pull postgres "$k" --db "$pg" --db-schema bench_pull --bus "$redis"
    done
done
