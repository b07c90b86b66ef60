#!/usr/bin/env bash
# R14 human review, on two real nodes: a match USA discloses to CAN's officer
# is kept by CAN as received partner data and waits in CAN's review queue;
# adverse action is refused (403 naming R14) while it is pending and after a
# rejection, allowed only once a supervisor confirms it with a reason; a
# plain officer cannot decide; a decision is never overwritten; every step is
# in CAN's disclosure log. A no-match answer queues nothing; the same query
# re-sent finds the item already queued (idempotent on txn, partner, purpose).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
make_prints 3
enrol USA 7 prints/DB1_B/101_1.png png '{"surname":"Haddad","citizenship":"SYR"}'
[ "$code" = 200 ] || fail "enrol 7: $code $(cat enrol.out)"
enrol USA 8 prints/DB1_B/102_1.png png '{"surname":"Farouk","citizenship":"SYR"}'
[ "$code" = 200 ] || fail "enrol 8: $code $(cat enrol.out)"
tok=$(officer_token CAN)
PERIMETER_PASSWORD=sup-pass-14 "$bin" officer add --config pair/CAN/node.json --role supervisor \
    ruth >/dev/null || fail "supervisor add"
stok=$(PERIMETER_PASSWORD=sup-pass-14 "$bin" officer login --config pair/CAN/node.json --user ruth)
base=$(url CAN)
ca=pair/CAN/ca/ca.pem
call() { # NAME TOKEN METHOD PATH [BODY]
    code=$(curl -sS -o "$1" -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' -X "$3" --data-binary "${5:-}" "$base$4" || true)
}
# CAN's officer sends two mated probes and one nobody enrolled
for t in 1 2 3; do
    case $t in 1) f=101 ;; 2) f=102 ;; 3) f=103 ;; esac
    probe_body "prints/DB1_B/${f}_2.iso" iso19794-2 ASYLUM "r14-$t" >body$t.json
    call q$t "$tok" POST /v1/partners/USA/query/biometric "@body$t.json"
    [ "$code" = 200 ] || fail "query $t: HTTP $code $(cat q$t)"
done
[ "$(jq -r .result q1)" = match ] && [ "$(jq -r .result q2)" = match ] || fail "mates: $(cat q1 q2)"
[ "$(jq -r .result q3)" = no_match ] || fail "stranger: $(cat q3)"
[ "$(jq 'has("review_id")' q3)" = false ] || fail "a no-match was queued: $(cat q3)"
r1=$(jq .review_id q1)
r2=$(jq .review_id q2)
[ "$r1" -gt 0 ] && [ "$r2" -gt 0 ] && [ "$r1" != "$r2" ] || fail "review ids: $r1 $r2"
# the same query re-sent with the same transaction id: the partner refuses the
# replay (docs/security.md) and no second review item appears; the queue's own
# idempotence on (txn, partner, purpose, subject) is tested in test_jobs
call q1b "$tok" POST /v1/partners/USA/query/biometric "@body1.json"
[ "$code" = 409 ] && [ "$(jq -r .code q1b)" = replayed ] || fail "re-sent query: $code $(cat q1b)"
call list "$tok" GET /v1/reviews
[ "$code" = 200 ] && [ "$(jq '.reviews | length' list)" = 2 ] || fail "queue: $code $(cat list)"
jq -e --argjson id "$r1" '.reviews[] | select(.id == $id) | .status == "pending" and .partner == "USA" and .txn == "r14-1"' list >/dev/null ||
    fail "queue item: $(cat list)"
assert_contains list 'Haddad'
# pending: adverse action refused under R14
call a1 "$tok" POST "/v1/reviews/$r1/act"
[ "$code" = 403 ] && [ "$(jq -r .rule a1)" = R14 ] || fail "act while pending: $code $(cat a1)"
# a plain officer cannot decide; a supervisor must give a reason
call d0 "$tok" POST "/v1/reviews/$r1/decision" '{"decision":"confirm","why":"prints checked"}'
[ "$code" = 403 ] || fail "officer decided: $code $(cat d0)"
call d1 "$stok" POST "/v1/reviews/$r1/decision" '{"decision":"confirm"}'
[ "$code" = 400 ] || fail "no reason: $code $(cat d1)"
call d2 "$stok" POST "/v1/reviews/$r1/decision" '{"decision":"confirm","why":"ten-print compared by hand"}'
[ "$code" = 200 ] && [ "$(jq -r .status d2)" = confirmed ] || fail "confirm: $code $(cat d2)"
call a2 "$tok" POST "/v1/reviews/$r1/act"
[ "$code" = 200 ] && [ "$(jq .allowed a2)" = true ] || fail "act after confirm: $code $(cat a2)"
# a decision is never overwritten
call d3 "$stok" POST "/v1/reviews/$r1/decision" '{"decision":"reject","why":"second thoughts"}'
[ "$code" = 409 ] || fail "decision overwritten: $code $(cat d3)"
# rejected: adverse action stays refused
call d4 "$stok" POST "/v1/reviews/$r2/decision" '{"decision":"reject","why":"different finger pattern"}'
[ "$code" = 200 ] || fail "reject: $code $(cat d4)"
call a3 "$tok" POST "/v1/reviews/$r2/act"
[ "$code" = 403 ] && [ "$(jq -r .rule a3)" = R14 ] || fail "act after reject: $code $(cat a3)"
call e1 "$tok" POST /v1/reviews/999/act
[ "$code" = 404 ] || fail "unknown review: $code $(cat e1)"
call e2 "$tok" GET "/v1/reviews?status=maybe"
[ "$code" = 400 ] || fail "bad status: $code $(cat e2)"
call all "$tok" GET "/v1/reviews?status=all"
[ "$(jq '[.reviews[] | .status] | sort | join(",")' all)" = '"confirmed,rejected"' ] ||
    fail "statuses: $(cat all)"
# CAN's log holds the queueing, both decisions with who and why, and the refusals
stop_node CAN
stop_node USA
grep '"kind":"review"' pair/CAN/audit.log >rev.log || fail "no review entries in CAN's log"
[ "$(grep -c . rev.log)" -ge 4 ] || fail "review entries: $(cat rev.log)"
assert_contains rev.log 'ruth'
grep '"rule":"R14"' pair/CAN/audit.log >r14.log || fail "no R14 entries"
"$bin" audit verify pair/CAN/audit.log >v.txt || fail "CAN's log: $(cat v.txt)"
echo "R14: two matches queued, action refused until confirmed, rejected stays refused"
