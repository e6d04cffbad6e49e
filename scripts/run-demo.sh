#!/usr/bin/env bash
# Installs what is missing, builds (release preset), and runs the POS demo:
# incsync-pos-server with a demo catalog on 127.0.0.1, two registers of two
# stores listening for notifications (Server-Sent Events, read by curl), and a
# scripted console session whose every write reaches the right registers at
# once. Then the server keeps running until Ctrl-C, for you to poke at.
#   --once          stop after the scripted session (exit 0 when every
#                   expected notification arrived)
#   INCSYNC_JOBS=N  parallel compile jobs (default 2)
#   PORT=N          port (default 8080)
# The C++ register client (with its local store and status bar) replaces the
# curl listeners when it lands (issue 4).
set -euo pipefail
cd "$(dirname "$0")/.."

once=0
[ "${1:-}" = --once ] && once=1

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "${INCSYNC_JOBS:-2}" --target incsync-pos-server

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

build/release/examples/incsync-pos-server --port "$port" --demo-data \
    --admin-token "$admin" --register-token demo-till-1:1 --register-token demo-till-2:2 \
    > "$tmp/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'listening on' "$tmp/server.log" && break; sleep 0.1; done
grep -q 'listening on' "$tmp/server.log" || { cat "$tmp/server.log"; exit 1; }
base=http://127.0.0.1:$port
echo "== server: $(grep 'listening on' "$tmp/server.log"), demo catalog loaded"
echo "   admin token: $admin   register tokens: demo-till-1 (store 1), demo-till-2 (store 2)"

# Two registers listen, each printing the notifications it receives.
listen() { # name token
    curl -sN "$base/api/v1/sync/events?cash_register_id=$1&token=$2" |
        while IFS= read -r line; do
            case $line in data:*) printf '   [%s] %s  %s\n' "$1" "$(date +%T.%3N)" "${line#data: }" | tee -a "$tmp/$1.events" ;; esac
        done
}
listen register-1 demo-till-1 & pids+=($!)
listen register-2 demo-till-2 & pids+=($!)
for _ in $(seq 100); do
    [ "$(grep -c 'sse register' "$tmp/server.log")" -ge 2 ] && break
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

echo "-- register-1 pulls the products changed since its initial sync, as deltas (one request):"
curl -s -H 'Authorization: Bearer demo-till-1' "$base/api/v1/sync/products?since=$cursor&delta=true"
echo

# Expected: both registers saw the 5 global writes; register-2 also its table.
count() { cat "$tmp/$1.events" 2>/dev/null | wc -l; }
for _ in $(seq 100); do # up to 5 s; they normally arrived long ago
    r1=$(count register-1) r2=$(count register-2)
    [ "$r1" -ge 5 ] && [ "$r2" -ge 6 ] && break
    sleep 0.05
done
echo "== register-1 received $r1 notifications (expected 5), register-2 $r2 (expected 6)"
ok=0
[ "$r1" -eq 5 ] && [ "$r2" -eq 6 ] && ok=1
if [ $once = 1 ]; then
    [ $ok = 1 ] && echo "== demo passed" && exit 0
    echo "== demo FAILED"; cat "$tmp/server.log"; exit 1
fi
echo "== the server keeps running on $base (Ctrl-C stops it). Try:"
echo "   curl -N '$base/api/v1/sync/events?token=demo-till-1'"
echo "   curl -X PATCH -H 'Authorization: Bearer $admin' -d '{\"price_cents\":199}' $base/api/v1/products/3"
tail -f "$tmp/server.log" &
pids+=($!)
wait "${pids[0]}"
