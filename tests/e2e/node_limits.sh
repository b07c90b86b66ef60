#!/usr/bin/env bash
# Bounded work: with one worker and a queue of one, logins (Argon2id, slow on
# purpose) that arrive together are served or refused at once with 503 "busy"
# and Retry-After - never queued without bound; request bodies of all
# connections together stay under a budget; the node stays healthy.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

make_pair
jq '.limits.workers = 1 | .limits.queue = 1 | .limits.max_body_total = 200000' pair/CAN/node.json >c.json && mv c.json pair/CAN/node.json
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
# Bodies of all connections together stay under limits.max_body_total (200,000
# bytes here): a 300 KB import is refused busy before it is read, with a length
# or chunked; a 100 KB one goes through.
tok=$(PERIMETER_PASSWORD=correct-horse "$bin" officer login --config pair/CAN/node.json --user alice)
"$bin" bench ingest --rows 900 --seed 5 --country CAN --write-jsonl big.jsonl
"$bin" bench ingest --rows 250 --seed 6 --country CAN --write-jsonl small.jsonl
[ "$(wc -c <big.jsonl)" -gt 200000 ] && [ "$(wc -c <small.jsonl)" -lt 190000 ] \
    || fail "sizes: $(wc -c <big.jsonl) $(wc -c <small.jsonl)"
for te in "" "Transfer-Encoding: chunked"; do
    code=$(curl -sS -o big.out -w '%{http_code}' --cacert pair/CAN/ca/ca.pem -H "$te" \
        -H "Authorization: Bearer $tok" -H 'Content-Type: application/x-ndjson' \
        --data-binary @big.jsonl "$base/v1/crossings" || true)
    [ "$code" = 503 ] && [ "$(jq -r .code big.out)" = busy ] || fail "big body ($te): $code $(cat big.out)"
done
code=$(curl -sS -o small.out -w '%{http_code}' --cacert pair/CAN/ca/ca.pem \
    -H "Authorization: Bearer $tok" -H 'Content-Type: application/x-ndjson' \
    --data-binary @small.jsonl "$base/v1/crossings")
[ "$code" = 200 ] && [ "$(jq .stored small.out)" = 250 ] || fail "small body: $code $(cat small.out)"
curl -sS -o m.txt --cacert pair/CAN/ca/ca.pem "$base/metrics"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert pair/CAN/ca/ca.pem "$base/health")
[ "$code" = 200 ] || fail "health: $code"
stop_node CAN
[ "$node_rc" = 0 ] || fail "exit $node_rc"
