#!/usr/bin/env bash
# perimeter vet through our own node's officer route (the node transport):
# CAN's node forwards each anonymous probe to USA's node over mutual TLS.
# Today USA's node validates the probe and answers 503 gallery_unavailable,
# which the run must record as "no answer, pending" (never as "no match") and
# retry on the next run with the same transaction id; a purpose outside the
# agreement is refused by USA with R1. When the partner gallery is wired into
# the node's route, the first part becomes a real no_match/match check.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

"$bin" synth cohort --out coh --applicants 3 --seed 4 --threads 2 > gen.out
make_pair
start_node CAN
start_node USA
tok=$(officer_token CAN)
[ -n "$tok" ] || fail "no officer token"

purpose=$(jq -r '.partners[0].purposes[0]' pair/USA/node.json)
[ -n "$purpose" ] && [ "$purpose" != null ] || fail "USA lists no purpose for CAN"

rc=0
PERIMETER_TOKEN=$tok "$bin" vet coh --purpose "$purpose" --config pair/CAN/node.json \
    --partner USA --out run1 --workers 2 > run1.out 2> run1.err || rc=$?
[ "$rc" = 3 ] || fail "expected exit 3 (pending), got $rc: $(cat run1.err)"
assert_contains run1.out "applicants 3: done 0, pending 3"
assert_contains run1.out "3 partner queries \(0 resent after an interruption, 3 without an answer\)"
[ "$(sqlite3 run1/journal.sqlite "SELECT count(*) FROM applicants WHERE state = 'sent' AND last_error LIKE '%503 gallery_unavailable%'")" = 3 ] ||
    fail "journal: $(sqlite3 run1/journal.sqlite 'SELECT * FROM applicants')"
[ "$(ls run1/cases | wc -l)" = 0 ] || fail "a case file was written without an answer"
# the next run resends the same transaction ids, flagged as possible repeats
rc=0
PERIMETER_TOKEN=$tok "$bin" vet coh --purpose "$purpose" --config pair/CAN/node.json \
    --partner USA --out run1 > run2.out 2> run2.err || rc=$?
[ "$rc" = 3 ] || fail "second run: exit $rc"
assert_contains run2.out "3 partner queries \(3 resent after an interruption, 3 without an answer\)"
n=$(grep -c "biometric query VET-" USA.log || true)
[ "$n" = 6 ] || fail "USA logged $n biometric queries, expected 6"
[ "$(grep -o 'biometric query VET-[0-9a-f]*-[0-9]*' USA.log | sort -u | wc -l)" = 3 ] ||
    fail "the retries did not reuse the transaction ids"
# no name ever reaches the partner (R5)
name=$("$bin" an2k dump coh/applicants/A000001.an2 | sed -n 's/.*\[2.018\]=\([^,]*\),.*/\1/p')
[ -n "$name" ] || fail "no name in the transaction"
assert_not_contains USA.log "$name" "USA.log"

# a purpose USA does not accept for CAN: refused under R1, recorded as such
PERIMETER_TOKEN=$tok "$bin" vet coh --purpose NOT_AGREED --config pair/CAN/node.json \
    --partner USA --out run3 > run3.out 2> run3.err || fail "refusals are answers: $(cat run3.err)"
assert_contains run3.out "refused +3"
[ "$(jq -r .partner.rule run3/cases/A000002.json)" = R1 ] || fail "rule: $(cat run3/cases/A000002.json)"

# a wrong token: no answer, nothing recorded as an outcome
rc=0
PERIMETER_TOKEN=bad-token "$bin" vet coh --purpose "$purpose" --config pair/CAN/node.json \
    --partner USA --out run4 > run4.out 2> run4.err || rc=$?
[ "$rc" = 3 ] || fail "wrong token: exit $rc"
assert_contains run4.out "done 0, pending 3"
stop_node CAN
stop_node USA
echo OK
