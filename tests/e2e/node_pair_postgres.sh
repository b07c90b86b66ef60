#!/usr/bin/env bash
# Two real nodes, CAN on a throwaway PostgreSQL cluster and USA on SQLite
# (issue 17): enrolment into CAN's gallery on PostgreSQL; USA's officer
# queries CAN biometrically (CAN's replay ids on PostgreSQL: a re-sent id is
# refused 409); CAN's officer queries USA, the match is kept as received
# data and waits in CAN's review queue on PostgreSQL until a supervisor
# confirms it; the crossing feed both ways (CAN -> USA, USA -> CAN into
# PostgreSQL) arrives exactly once; both disclosure logs verify.
# PostgreSQL not installed: skip, FAIL under CI (lib.sh).
# ctest-label: heavy
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
pg_cleanup() { # the nodes first (they hold connections), then the cluster, then the folder
    local p
    for p in "${node_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${node_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pg_stop
    rm -rf "$tmp"
}
trap pg_cleanup EXIT
pg_start "$tmp"
make_pair
db=$(pg_createdb can_node)
jq --arg db "$db" '.store = $db' pair/CAN/node.json >node.json.new
mv node.json.new pair/CAN/node.json

# CAN on PostgreSQL
"$bin" serve --config pair/CAN/node.json 2>>CAN.log &
pid_CAN=$!
node_pids+=("$pid_CAN")
up=0
for i in $(seq 1 200); do
    if curl -s -o /dev/null --cacert pair/CAN/ca/ca.pem "$(url CAN)/health"; then up=1; break; fi
    kill -0 "$pid_CAN" 2>/dev/null || break
    sleep 0.1
done
[ "$up" = 1 ] || fail "CAN on PostgreSQL did not start: $(cat CAN.log)"
start_node USA
can_stat() { # KEY: a count of CAN's PostgreSQL store
    "$bin" crossings stats --db "$db" --json >stat_can.json || fail "stats CAN"
    jq -r ".$1" stat_can.json
}

# enrolment: USA (SQLite) and CAN (PostgreSQL)
make_prints 3
enrol USA 7 prints/DB1_B/101_1.png png '{"surname":"Haddad","citizenship":"SYR"}'
[ "$code" = 200 ] || fail "enrol USA 7: $code $(cat enrol.out)"
enrol CAN 9 prints/DB1_B/102_1.png png '{"surname":"Farouk","citizenship":"SYR"}'
[ "$code" = 200 ] || fail "enrol CAN 9 (PostgreSQL): $code $(cat enrol.out)"
"$bin" gallery stats --db "$db" >gstats.out 2>&1 || fail "gallery stats: $(cat gstats.out)"
assert_contains gstats.out 'fingers 1, subjects 1' "CAN's gallery on PostgreSQL"

# USA's officer asks CAN (PostgreSQL answers, its replay ids on PostgreSQL)
tok_usa=$(officer_token USA)
probe_body prints/DB1_B/102_2.iso iso19794-2 ASYLUM pg-usa-1 >bq.json
code=$(curl -sS -o uq.out -w '%{http_code}' --cacert pair/USA/ca/ca.pem \
    -H "Authorization: Bearer $tok_usa" -H 'Content-Type: application/json' \
    --data-binary @bq.json "$(url USA)/v1/partners/CAN/query/biometric" || true)
[ "$code" = 200 ] && [ "$(jq -r .result uq.out)" = match ] || fail "USA -> CAN: $code $(cat uq.out)"
code=$(curl -sS -o uq2.out -w '%{http_code}' --cacert pair/USA/ca/ca.pem \
    -H "Authorization: Bearer $tok_usa" -H 'Content-Type: application/json' \
    --data-binary @bq.json "$(url USA)/v1/partners/CAN/query/biometric" || true)
[ "$code" = 409 ] && [ "$(jq -r .code uq2.out)" = replayed ] || fail "replay to CAN: $code $(cat uq2.out)"

# CAN's officer asks USA: the match waits in CAN's review queue (PostgreSQL)
tok=$(officer_token CAN)
PERIMETER_PASSWORD=sup-pass-17 "$bin" officer add --config pair/CAN/node.json --role supervisor \
    ruth >/dev/null || fail "supervisor add"
stok=$(PERIMETER_PASSWORD=sup-pass-17 "$bin" officer login --config pair/CAN/node.json --user ruth)
call() { # NAME TOKEN METHOD PATH [BODY]
    code=$(curl -sS -o "$1" -w '%{http_code}' --cacert pair/CAN/ca/ca.pem \
        -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -X "$3" \
        --data-binary "${5:-}" "$(url CAN)$4" || true)
}
probe_body prints/DB1_B/101_2.iso iso19794-2 ASYLUM pg-can-1 >cq.json
call q1 "$tok" POST /v1/partners/USA/query/biometric @cq.json
[ "$code" = 200 ] && [ "$(jq -r .result q1)" = match ] || fail "CAN -> USA: $code $(cat q1)"
r1=$(jq .review_id q1)
[ "$r1" -gt 0 ] || fail "no review id: $(cat q1)"
call a1 "$tok" POST "/v1/reviews/$r1/act"
[ "$code" = 403 ] && [ "$(jq -r .rule a1)" = R14 ] || fail "act while pending: $code $(cat a1)"
call d1 "$stok" POST "/v1/reviews/$r1/decision" '{"decision":"confirm","why":"compared by hand"}'
[ "$code" = 200 ] && [ "$(jq -r .status d1)" = confirmed ] || fail "confirm: $code $(cat d1)"
call d2 "$stok" POST "/v1/reviews/$r1/decision" '{"decision":"reject","why":"again"}'
[ "$code" = 409 ] || fail "decision overwritten: $code $(cat d2)"
call a2 "$tok" POST "/v1/reviews/$r1/act"
[ "$code" = 200 ] && [ "$(jq .allowed a2)" = true ] || fail "act after confirm: $code $(cat a2)"
call list "$tok" GET "/v1/reviews?status=all"
[ "$(jq '.reviews | length' list)" = 1 ] || fail "queue: $(cat list)"

# the feed both ways
"$bin" bench ingest --rows 2000 --seed 7 --country CAN --write-jsonl can.jsonl
"$bin" bench ingest --rows 800 --seed 9 --country USA --write-jsonl usa.jsonl
curl -sS -o post1 -w '%{http_code}' --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/x-ndjson' --data-binary @can.jsonl "$(url CAN)/v1/crossings" >code
[ "$(cat code)" = 200 ] && [ "$(jq .stored post1)" = 2000 ] || fail "CAN post: $(cat code) $(cat post1)"
curl -sS -o post2 -w '%{http_code}' --cacert pair/USA/ca/ca.pem -H "Authorization: Bearer $tok_usa" \
    -H 'Content-Type: application/x-ndjson' --data-binary @usa.jsonl "$(url USA)/v1/crossings" >code
[ "$(cat code)" = 200 ] && [ "$(jq .stored post2)" = 800 ] || fail "USA post: $(cat code) $(cat post2)"
can_entries=$(can_stat our_entries)
usa_entries=$(crossing_stat USA our_entries)
[ "$can_entries" -gt 500 ] && [ "$usa_entries" -gt 100 ] || fail "entries: $can_entries / $usa_entries"
to_usa() { [ "$(crossing_stat USA partner_exits)" = "$can_entries" ]; }
to_can() { [ "$(can_stat partner_exits)" = "$usa_entries" ]; }
wait_until 90 to_usa || fail "USA has $(crossing_stat USA partner_exits) of $can_entries: $(tail -5 CAN.log)"
wait_until 90 to_can || fail "CAN has $(can_stat partner_exits) of $usa_entries: $(tail -5 USA.log)"
sleep 1.5
to_usa || fail "USA's count moved after the feed settled"
to_can || fail "CAN's count moved after the feed settled"

curl -sS -o m.txt --cacert pair/CAN/ca/ca.pem "$(url CAN)/metrics"
workers=$(jq -r .limits.workers pair/CAN/node.json)
[ "$workers" -ge 1 ] || fail "CAN's configuration names no workers"
assert_contains m.txt "^perimeter_store_pool_size $workers\$" "CAN's store pool (one handle per worker)"
assert_contains m.txt '^perimeter_store_pool_timeouts_total 0$'

stop_node CAN
[ "$node_rc" = 0 ] || fail "CAN exit $node_rc"
stop_node USA
[ "$node_rc" = 0 ] || fail "USA exit $node_rc"
"$bin" audit verify pair/CAN/audit.log >v1.txt || fail "CAN's log: $(cat v1.txt)"
"$bin" audit verify pair/USA/audit.log >v2.txt || fail "USA's log: $(cat v2.txt)"
grep '"rule":"R14"' pair/CAN/audit.log >r14.log || fail "no R14 entries in CAN's log"
grep '"rule":"replay"' pair/CAN/audit.log >rep.log || fail "no replay refusal in CAN's log"
echo "node_pair_postgres: enrolment, queries both ways, review, feed both ways, logs verified"
