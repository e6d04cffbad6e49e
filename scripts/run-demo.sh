#!/usr/bin/env bash
# The POS demo, in one command: installs what is missing, builds (release
# preset), then runs incsync-pos-server with a demo catalog in a SQLite file
# on 127.0.0.1, three registers (incsync-pos-client, each with its SQLite
# replica) of two stores, and a scripted console session. Every register logs
# each change it applies and how long after the server's commit; its bottom
# bar's changes are logged too. Register 2 reaches the server through
# incsync-netcut, whose network the session cuts and restores. It ends by
# checking that every register holds exactly what the server has for its
# store: exit 0 when all match.
#   --interactive   keep everything running after the check (Ctrl-C stops),
#                   with the web POS page at http://127.0.0.1:PORT/
#   INCSYNC_JOBS=N  parallel compile jobs (default 2)
#   PORT=N          the server's port (default 8080; the relay takes PORT+1)
set -euo pipefail
cd "$(dirname "$0")/.."

interactive=0
case "${1:-}" in
    --interactive) interactive=1 ;;
    ""|--once) ;; # --once: the default since the demo ends by itself
    *) echo "usage: scripts/run-demo.sh [--interactive]" >&2; exit 2 ;;
esac

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "${INCSYNC_JOBS:-2}" --target incsync-pos-server incsync-pos-client incsync-netcut

bin=build/release/examples
port=${PORT:-8080}
relay_port=$((port + 1))
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

now() { date +%H:%M:%S.%3N; }
say() { echo "$(now) $*"; }
# Waits (up to $2 tenths of a second) until file $1 has a line matching $3.
wait_for_line() {
    for _ in $(seq "$2"); do grep -q -- "$3" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

"$bin/incsync-pos-server" --port "$port" --db "$tmp/pos.sqlite3" --demo-data \
    --admin-token "$admin" --register-token demo-till-1:1 --register-token demo-till-2:2 \
    --register-token demo-till-3:1 > "$tmp/server.log" 2>&1 &
pids+=($!)
wait_for_line "$tmp/server.log" 100 'listening on' || { cat "$tmp/server.log"; exit 1; }
base=http://127.0.0.1:$port
"$bin/incsync-netcut" --listen "$relay_port" --to "$port" > "$tmp/netcut.log" 2>&1 &
netcut=$!
pids+=($netcut)
wait_for_line "$tmp/netcut.log" 50 'relaying' || { cat "$tmp/netcut.log"; exit 1; }

say "server: $(grep 'listening on' "$tmp/server.log"), demo catalog in $tmp/pos.sqlite3"
say "   admin token: $admin; registers: demo-till-1, demo-till-3 (store 1), demo-till-2 (store 2, through incsync-netcut on :$relay_port)"

# Three registers: each keeps its local store in step and logs what it applies.
registers=("1 demo-till-1 1 $port" "2 demo-till-2 2 $relay_port" "3 demo-till-3 1 $port") # id token store port
start_register() { # id token store port
    "$bin/incsync-pos-client" --url "http://127.0.0.1:$4" --token "$2" --store-id "$3" --cash-register-id "$1" \
        --db "$tmp/register-$1.sqlite3" --name "register-$1 (store $3)" --dump "$tmp/register-$1.json" --no-bar \
        > >(tee -a "$tmp/register-$1.log") 2>&1 &
    pids+=($!)
    echo "$!" > "$tmp/register-$1.pid"
}
for r in "${registers[@]}"; do
    read -r id token store rport <<<"$r"
    start_register "$id" "$token" "$store" "$rport"
done
for r in "${registers[@]}"; do # until each is in step and connected for notifications
    read -r id _ <<<"$r"
    wait_for_line "$tmp/register-$id.log" 300 'status: \[online websocket\] | up to date' ||
        { say "register-$id did not come online"; exit 1; }
done

admin_call() { # method path [body] [content type]
    say "console: $1 $2 $([ "${4:-}" ] && echo "($4)" || echo "${3:-}")"
    curl -s -X "$1" -H "Authorization: Bearer $admin" -H "Content-Type: ${4:-application/json}" \
        ${3:+--data-binary "$3"} "$base$2" -o "$tmp/last" -w "$(now) console:   -> HTTP %{http_code}\n"
    sleep 0.4 # pacing for the reader, not synchronization: the registers log as they apply
}
first_id() { # path query: the first record's id of a console list
    curl -s -H "Authorization: Bearer $admin" "$base/api/v1/$1?$2" | sed -n 's/^\[{"id":\([0-9]*\).*/\1/p'
}
setting_id=$(curl -s -H "Authorization: Bearer $admin" "$base/api/v1/settings" |
    grep -o '{"id":[0-9]*,[^}]*"key":"tip_suggestions"' | sed 's/{"id":\([0-9]*\).*/\1/')
prefix_1=$(first_id document-prefixes store_id=1)
prefix_2=$(first_id document-prefixes store_id=2)

echo "---- the console edits the catalog: every register applies each change"
admin_call PATCH /api/v1/products/1 '{"price_cents":275}'
admin_call PATCH /api/v1/products/3 '{"name":"Espresso (double)"}'
admin_call POST /api/v1/products '{"name":"Flat white","sku":"FW-1","price_cents":320,"category_id":1,"is_active":true}'
admin_call PUT /api/v1/products/1/image \
    '<svg xmlns="http://www.w3.org/2000/svg" width="110" height="110"><rect width="110" height="110" fill="#b5651d"/></svg>' \
    image/svg+xml
admin_call DELETE /api/v1/products/2
admin_call PATCH "/api/v1/settings/$setting_id" '{"value":"5,10,15"}'
echo "---- store-scoped changes reach only that store's registers"
admin_call POST /api/v1/tables '{"store_id":2,"name":"Terrace 9","seats":4,"status":"free"}'
admin_call PATCH "/api/v1/document-prefixes/$prefix_1" '{"prefix":"S1-INV-2027-"}'

echo "---- register-2's network is cut; the console writes while it is off; the network comes back"
kill -USR1 "$netcut"
wait_for_line "$tmp/register-2.log" 100 'status: \[OFFLINE' || { say "register-2 did not notice"; exit 1; }
admin_call PATCH /api/v1/products/4 '{"price_cents":199}'
admin_call PATCH "/api/v1/document-prefixes/$prefix_2" '{"next_number":5000}'
kill -USR2 "$netcut"
say "network back: register-2 reconnects (jittered backoff) and catches up from its cursors"
lines=$(wc -l < "$tmp/register-2.log")
for _ in $(seq 200); do # until it is back online, or 20 s
    tail -n +"$((lines + 1))" "$tmp/register-2.log" | grep -q 'status: \[online [a-z_]*\] | up to date' && break
    sleep 0.1
done

echo "---- register-3 is killed (kill -9); a write happens while it is down; it restarts from its file"
killed=$(cat "$tmp/register-3.pid")
kill -9 "$killed"
wait "$killed" 2>/dev/null || true # reaped quietly: bash would report "Killed"
admin_call PATCH /api/v1/products/5 '{"name":"Cortado (oat)"}'
start_register 3 demo-till-3 1 "$port"

# Every register must hold exactly its store's view: its dump (SIGUSR1)
# equals the dump of a fresh full sync of the same store.
matches() { # id token store
    rm -f "$tmp/register-$1.json"
    kill -USR1 "$(cat "$tmp/register-$1.pid")"
    for _ in $(seq 100); do [ -f "$tmp/register-$1.json" ] && break; sleep 0.01; done
    "$bin/incsync-pos-client" --url "$base" --token "$2" --store-id "$3" --once --quiet --no-images \
        --dump "$tmp/fresh-$1.json" && cmp -s "$tmp/register-$1.json" "$tmp/fresh-$1.json"
}
ok=0
for _ in $(seq 100); do # up to 10 s; normally at once
    all=1
    for r in "${registers[@]}"; do read -r id token store _ <<<"$r"; matches "$id" "$token" "$store" || all=0; done
    [ $all = 1 ] && ok=1 && break
    sleep 0.1
done
echo "---- bottom bars"
for r in "${registers[@]}"; do
    read -r id _ <<<"$r"
    grep 'status:' "$tmp/register-$id.log" | tail -1 | sed "s/^/$(now) /"
done
if [ $ok = 1 ]; then
    say "== every register matches the server (records of its store, all 12 types)"
else
    say "== a register does NOT match the server"
fi
if [ $interactive = 0 ]; then
    [ $ok = 1 ] && say "== demo passed" && exit 0
    say "== demo FAILED"; cat "$tmp/server.log"; exit 1
fi
echo "== everything keeps running (Ctrl-C stops it). Try:"
echo "   the web POS page:  $base/?token=demo-till-1&store_id=1&cash_register_id=21"
echo "   a register with its live bottom bar:"
echo "     $bin/incsync-pos-client --url $base --token demo-till-2 --store-id 2 --cash-register-id 9"
echo "   a price change:    curl -X PATCH -H 'Authorization: Bearer $admin' -d '{\"price_cents\":199}' $base/api/v1/products/3"
echo "   cut register-2's network: kill -USR1 $netcut   (and back: kill -USR2 $netcut)"
wait "${pids[0]}"
