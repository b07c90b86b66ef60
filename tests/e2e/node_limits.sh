#!/usr/bin/env bash
# Bounded work: with one worker and a queue of one, logins (Argon2id, slow on
# purpose) that arrive together are served or refused at once with 503 "busy"
# and Retry-After - never queued without bound; the node stays healthy.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

make_pair
jq '.limits.workers = 1 | .limits.queue = 1' pair/CAN/node.json >c.json && mv c.json pair/CAN/node.json
PERIMETER_PASSWORD=correct-horse "$bin" officer add --config pair/CAN/node.json alice >/dev/null
start_node CAN
base=$(url CAN)
pids=()
for i in $(seq 1 8); do
    curl -sS -D "h$i.txt" -o "b$i.json" -w '%{http_code}' --cacert pair/CAN/ca/ca.pem \
        -H 'Content-Type: application/json' \
        --data-binary '{"username":"alice","password":"correct-horse"}' "$base/v1/auth/login" \
        >"c$i.txt" 2>"e$i.txt" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a login request failed at the transport level"; done
ok=0
busy=0
for i in $(seq 1 8); do
    case $(cat "c$i.txt") in
    200) ok=$((ok + 1)) ;;
    503)
        busy=$((busy + 1))
        [ "$(jq -r .code "b$i.json")" = busy ] || fail "503 body: $(cat "b$i.json")"
        grep -qi '^retry-after: 1' "h$i.txt" || fail "503 without Retry-After"
        ;;
    *) fail "login $i: HTTP $(cat "c$i.txt") $(cat "b$i.json")" ;;
    esac
done
echo "8 logins at once: $ok served, $busy refused busy"
[ "$ok" -ge 1 ] || fail "no login was served"
[ "$busy" -ge 1 ] || fail "no login was refused although 8 arrived for 1 worker + 1 queue slot"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert pair/CAN/ca/ca.pem "$base/health")
[ "$code" = 200 ] || fail "health: $code"
stop_node CAN
[ "$node_rc" = 0 ] || fail "exit $node_rc"
