#!/usr/bin/env bash
# R3 response gating, on two real nodes: more than "no match" only for an
# established fingerprint match (score at or above the agreement's
# threshold). The same mated probe is disclosed under the pair's agreement
# (threshold 40) and answered "no match" once both nodes run an agreement
# whose threshold (150) it does not reach; a probe of a finger nobody
# enrolled is "no match" with nothing disclosed. A disclosed match carries
# review_required (R14: no adverse action before a person confirms it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
make_prints 2
enrol USA 7 prints/DB1_B/101_1.png png \
    '{"surname":"Haddad","citizenship":"SYR","refused":true,"prior_adverse_decision":true}'
[ "$code" = 200 ] || fail "enrol: $code $(cat enrol.out)"

pq m biometric "$(probe_body prints/DB1_B/101_2.iso iso19794-2 ASYLUM r3-mated)"
[ "$code" = 200 ] && [ "$(jq -r .result m.out)" = match ] || fail "mated: $code $(cat m.out)"
[ "$(jq -r .disclosure.surname m.out)" = Haddad ] || fail "disclosure: $(cat m.out)"
[ "$(jq -r .review_required m.out)" = true ] || fail "no review flag (R14): $(cat m.out)"
score=$(jq -r .disclosure.match m.out | sed 's/.*score \([0-9.]*\).*/\1/')
awk -v s="$score" 'BEGIN { exit !(s >= 40 && s < 150) }' || fail "mated score $score outside 40..150"

pq n biometric "$(probe_body prints/DB1_B/102_2.iso iso19794-2 ASYLUM r3-other)"
[ "$code" = 200 ] && [ "$(jq -r .result n.out)" = no_match ] || fail "non-mated: $code $(cat n.out)"
[ "$(jq 'has("disclosure")' n.out)" = false ] || fail "non-mated disclosed: $(cat n.out)"
grep '"txn":"r3-other"' pair/USA/audit.log >other.log
assert_contains other.log '"kind":"answer".*"rule":"no_match R3"'
assert_not_contains other.log '"kind":"disclosure"'

# both nodes move to an agreement with threshold 150: the same probe is no longer disclosed
stop_node CAN
stop_node USA
for f in pair/CAN/agreement-USA.json pair/USA/agreement-CAN.json; do
    sed 's/"match_threshold": 40.0/"match_threshold": 150.0/' "$f" >t.json && mv t.json "$f"
done
agr="Perimeter-Agreement: $("$bin" agreement hash pair/CAN/agreement-USA.json)"
start_node CAN
start_node USA
pq h biometric "$(probe_body prints/DB1_B/101_2.iso iso19794-2 ASYLUM r3-high)"
[ "$code" = 200 ] && [ "$(jq -r .result h.out)" = no_match ] || fail "threshold 150: $code $(cat h.out)"
assert_not_contains h.out 'Haddad'
grep '"txn":"r3-high"' pair/USA/audit.log >high.log
assert_contains high.log '"rule":"no_match R3"'
echo "R3: disclosed at score $score >= 40, not at threshold 150, not for another finger"
