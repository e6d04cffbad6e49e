#!/usr/bin/env bash
# Installs what is missing, builds (release preset), and runs the POS demo:
# incsync-pos-server with a demo catalog in a SQLite file on 127.0.0.1, three
# registers (incsync-pos-client, each with its local SQLite replica) of two
# stores, and a
# scripted console session whose every write the registers apply at once
# (their log lines show it). It ends by checking that every register holds
# exactly what the server has for its store. Then everything keeps running
# until Ctrl-C, for you to poke at.
#   --once          stop after the check (exit 0 when every register matches)
#   INCSYNC_JOBS=N  parallel compile jobs (default 2)
#   PORT=N          port (default 8080)
set -euo pipefail
cd "$(dirname "$0")/.."

once=0
[ "${1:-}" = --once ] && once=1

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "${INCSYNC_JOBS:-2}" --target incsync-pos-server incsync-pos-client

port=${PORT:-8080}
admin=demo-admin
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build/release/examples/incsync-pos-server --port "$port" --db "$tmp/pos.sqlite3" --demo-data \
    --admin-token "$admin" --register-token demo-till-1:1 --register-token demo-till-2:2 \
    --register-token demo-till-3:1 \
    > "$tmp/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'listening on' "$tmp/server.log" && break; sleep 0.1; done
grep -q 'listening on' "$tmp/server.log" || { cat "$tmp/server.log"; exit 1; }
base=http://127.0.0.1:$port
echo "== server: $(grep 'listening on' "$tmp/server.log"), demo catalog in $tmp/pos.sqlite3"
echo "   admin token: $admin   register tokens: demo-till-1, demo-till-3 (store 1), demo-till-2 (store 2)"

# Three registers: each keeps its local store in step and logs what it applies.
client=build/release/examples/incsync-pos-client
registers=("1 demo-till-1 1" "2 demo-till-2 2" "3 demo-till-3 1") # id token store
start_register() { # id token store
    "$client" --url "$base" --token "$2" --store-id "$3" --cash-register-id "$1" --db "$tmp/register-$1.sqlite3" \
        --name "register-$1 (store $3)" --dump "$tmp/register-$1.json" --no-bar &
    pids+=($!)
    echo "$!" > "$tmp/register-$1.pid"
}
for r in "${registers[@]}"; do
    read -r id token store <<<"$r"
    start_register "$id" "$token" "$store"
done
for _ in $(seq 100); do # until the three are connected for notifications
    [ "$(grep -c 'ws register=.*: open' "$tmp/server.log")" -ge 3 ] && break
    sleep 0.05
done

admin_call() { # method path [body] [content type]
    echo "-- console: $1 $2 $([ "${4:-}" ] && echo "($4)" || echo "${3:-}")"
    curl -s -X "$1" -H "Authorization: Bearer $admin" -H "Content-Type: ${4:-application/json}" \
        ${3:+--data-binary "$3"} "$base$2" -o "$tmp/last" -w '   -> %{http_code}\n'
    sleep 0.3 # pacing for the reader, not synchronization
}
# register-1's initial sync of products: its cursor for later.
cursor=$(curl -s -H 'Authorization: Bearer demo-till-1' "$base/api/v1/sync/products?limit=10000" |
    sed 's/.*"next_since":"\([^"]*\)".*/\1/')
admin_call PATCH /api/v1/products/1 '{"price_cents":275}'
admin_call POST /api/v1/products '{"name":"Flat white","sku":"FW-1","price_cents":320,"category_id":1,"is_active":true}'
admin_call PUT /api/v1/products/1/image \
    '<svg xmlns="http://www.w3.org/2000/svg" width="110" height="110"><rect width="110" height="110" fill="#b5651d"/></svg>' \
    image/svg+xml
admin_call POST /api/v1/tables '{"store_id":2,"name":"Terrace 9","seats":4,"status":"free"}'
admin_call PATCH /api/v1/settings/1 '{"value":"EUR"}'
admin_call DELETE /api/v1/products/2

echo "-- register-3 is killed (kill -9); a write happens while it is down; it restarts from its file:"
killed=$(cat "$tmp/register-3.pid")
kill -9 "$killed"
wait "$killed" 2>/dev/null || true # reaped quietly: bash would report "Killed"
admin_call PATCH /api/v1/products/3 '{"name":"Espresso (double)"}'
start_register 3 demo-till-3 1
sleep 0.5 # pacing for the reader, not synchronization

echo "-- register-1 pulls the products changed since its initial sync, as deltas (one request):"
curl -s -H 'Authorization: Bearer demo-till-1' "$base/api/v1/sync/products?since=$cursor&delta=true"
echo

# Every register must hold exactly its store's view: its dump (SIGUSR1)
# equals the dump of a fresh full sync of the same store.
matches() { # id token store
    rm -f "$tmp/register-$1.json"
    kill -USR1 "$(cat "$tmp/register-$1.pid")"
    for _ in $(seq 100); do [ -f "$tmp/register-$1.json" ] && break; sleep 0.01; done
    "$client" --url "$base" --token "$2" --store-id "$3" --once --quiet --no-images --dump "$tmp/fresh-$1.json" &&
        cmp -s "$tmp/register-$1.json" "$tmp/fresh-$1.json"
}
ok=0
for _ in $(seq 50); do # up to 5 s; they are normally there within milliseconds
    all=1
    for r in "${registers[@]}"; do read -r id token store <<<"$r"; matches "$id" "$token" "$store" || all=0; done
    [ $all = 1 ] && ok=1 && break
    sleep 0.1
done
if [ $ok = 1 ]; then
    echo "== every register matches the server"
else
    echo "== a register does NOT match the server"
fi
if [ $once = 1 ]; then
    [ $ok = 1 ] && echo "== demo passed" && exit 0
    echo "== demo FAILED"; cat "$tmp/server.log"; exit 1
fi
echo "== the server keeps running on $base (Ctrl-C stops it). Try:"
echo "   $client --url $base --token demo-till-2 --store-id 2 --cash-register-id 9   (a register with its bottom bar)"
echo "   curl -X PATCH -H 'Authorization: Bearer $admin' -d '{\"price_cents\":199}' $base/api/v1/products/3"
wait "${pids[0]}"
