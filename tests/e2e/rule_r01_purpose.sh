#!/usr/bin/env bash
# R1 purpose, on two real nodes: a query whose purpose is missing, not in the
# agreement's closed list, or in the list but not one that allows a
# biographic query, is refused naming R1, answers nothing, and the refusal is
# in the answering node's disclosure log.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair

# through CAN's node (officer -> CAN -> USA): an unlisted purpose
oq unlisted --purpose SHOPPING --surname Nguyen --dob 1975-04-20
[ "$qrc" = 1 ] || fail "unlisted purpose: rc $qrc $(cat unlisted.out unlisted.err)"
assert_contains unlisted.err '403 policy_refused R1: purpose .SHOPPING. is not in the agreement'
# straight from CAN's certificate: the same, a listed purpose that does not
# allow biographic queries (BORDER-EXIT), and no purpose at all
pq p1 biographic '{"transaction_id":"r1-a","purpose":"FISHING","surname":"X","date_of_birth":"1980-01-01"}'
[ "$code" = 403 ] && [ "$(jq -r .rule p1.out)" = R1 ] || fail "FISHING: $code $(cat p1.out)"
pq p2 biographic '{"transaction_id":"r1-b","purpose":"BORDER-EXIT","surname":"X","date_of_birth":"1980-01-01"}'
[ "$code" = 403 ] && [ "$(jq -r .rule p2.out)" = R1 ] || fail "BORDER-EXIT: $code $(cat p2.out)"
assert_contains p2.out 'does not allow a biographic query'
pq p3 biographic '{"transaction_id":"r1-c","surname":"X","date_of_birth":"1980-01-01"}'
[ "$code" = 400 ] && [ "$(jq -r .field p3.out)" = purpose ] || fail "no purpose: $code $(cat p3.out)"
pq p4 biometric '{"transaction_id":"r1-d","purpose":"FISHING","format":"png","data":"AAAA"}'
[ "$code" = 403 ] && [ "$(jq -r .rule p4.out)" = R1 ] || fail "biometric FISHING: $code $(cat p4.out)"
# an allowed purpose gets through (the rule refuses, not the route)
pq ok biographic '{"transaction_id":"r1-e","purpose":"IMMIGRATION","surname":"X","date_of_birth":"1980-01-01"}'
[ "$code" = 200 ] || fail "IMMIGRATION: $code $(cat ok.out)"

report USA
[ "$(jq '.refusals_per_rule.R1' report_USA.json)" = 4 ] || fail "USA log: $(cat report_USA.json)"
[ "$(jq '.intact' report_USA.json)" = true ] || fail "log not intact"
grep -c '"kind":"refusal"' pair/USA/audit.log >n.txt
grep '"txn":"r1-b"' pair/USA/audit.log >r1b.txt || fail "no entry for r1-b"
assert_contains r1b.txt '"rule":"R1"'
assert_contains r1b.txt '"purpose":"BORDER-EXIT"'
stop_node USA
[ "$node_rc" = 0 ] || fail "USA exit $node_rc"
echo "R1: 4 refusals (unlisted, biographic under BORDER-EXIT, missing, biometric) logged"
