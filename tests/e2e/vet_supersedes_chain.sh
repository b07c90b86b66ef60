#!/usr/bin/env bash
# Two lost answers in a row for one applicant (issue 13, resumability):
# `perimeter vet` is SIGKILLed after USA answered the known applicant's
# query (run 1), and again after USA answered the re-ask of it (run 2). The
# third run resends the first id (409 replayed), re-asks it under -R (409
# replayed: that answer was lost too), and re-asks again under -R2
# superseding -R, naming the first id as the chain's root (reask_of).
# Every applicant ends with exactly one journaled answer as the truth says,
# USA's log holds both supersede entries (net one quota charge), CAN's
# review queue holds one item for the applicant, under the first id, and
# the run's refresh finds it; both logs verify.
# VET_FORM=an2k: the same through the ANSI/NIST form (2.900 / 2.901 carry
# supersedes / reask_of; vet_supersedes_chain_an2k.sh).
set -euo pipefail
form=()
[ "${VET_FORM:-json}" = an2k ] && form=(--an2k)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

vet_pair_start
enrol_cohort_subject USA coh

vet_known_place
vet() { # KILL_AFTER(empty: none) LOG
    local rc=0
    if [ -n "$1" ]; then
        PERIMETER_TEST_VET_KILL_AFTER=$1 PERIMETER_TOKEN=$tok "$bin" vet coh --purpose "$purpose" \
            --config pair/CAN/node.json --partner USA --out run --workers 1 "${form[@]}" > "$2.out" 2> "$2.err" || rc=$?
    else
        PERIMETER_TOKEN=$tok "$bin" vet coh --purpose "$purpose" \
            --config pair/CAN/node.json --partner USA --out run --workers 1 "${form[@]}" > "$2.out" 2> "$2.err" || rc=$?
    fi
    echo "$rc"
}
# run 1: killed once USA answered the known applicant (its k-th query)
rc=$(vet "$k" run1)
[ "$rc" = 137 ] || fail "run 1 was not killed by the hook: exit $rc $(cat run1.err)"
[ ! -e "run/cases/$known.json" ] || fail "run 1: the lost answer has a case file"
# run 2: the known applicant comes first; killed once its re-ask is answered
rc=$(vet 1 run2)
[ "$rc" = 137 ] || fail "run 2 was not killed by the hook: exit $rc $(cat run2.err) $(cat run2.out)"
[ ! -e "run/cases/$known.json" ] || fail "run 2: the lost re-ask's answer has a case file"
# run 3: to the end
rc=$(vet "" run3)
[ "$rc" = 0 ] || fail "run 3: exit $rc: $(cat run3.err) $(cat run3.out)"
[ "$(jq -r .pending run/summary.json)" = 0 ] || fail "pending: $(cat run/summary.json)"
[ "$(jq -r .done run/summary.json)" = 3 ] || fail "done: $(cat run/summary.json)"
# the re-asks of run 3: -R (refused: answered before) and -R2
[ "$(jq -r .this_run.superseded run/summary.json)" = 2 ] || fail "superseded: $(cat run/summary.json)"
while IFS=, read -r app file psub capture expected; do
    [ "$app" = applicant ] && continue
    got=$(jq -r .outcome "run/cases/$app.json")
    [ "$got" = "$expected" ] || fail "$app: $got, truth says $expected ($(cat "run/cases/$app.json"))"
done <coh/truth.csv
new=$(jq -r .transaction_id "run/cases/$known.json")
case "$new" in *-R2) ;; *) fail "the known applicant's answer is not under -R2: $new" ;; esac
first=${new%-R2}
[ "$(jq -r .supersedes "run/cases/$known.json")" = "$first-R" ] || fail "case file supersedes: $(cat "run/cases/$known.json")"
[ "$(jq -r .reask_of "run/cases/$known.json")" = "$first" ] || fail "case file reask_of: $(cat "run/cases/$known.json")"
# USA: -R superseded the first id, -R2 superseded -R; the first id refused
# as replayed in runs 2 and 3, -R in run 3
grep '"kind":"supersede"' pair/USA/audit.log >sup.txt || true
[ "$(grep -c '' sup.txt)" = 2 ] || fail "supersede entries at USA: $(cat sup.txt)"
grep "\"txn\":\"$first-R\"" sup.txt >sup1.txt || fail "no supersede entry for $first-R: $(cat sup.txt)"
assert_contains sup1.txt "supersedes $first\""
grep "\"txn\":\"$new\"" sup.txt >sup2.txt || fail "no supersede entry for $new: $(cat sup.txt)"
assert_contains sup2.txt "supersedes $first-R\""
grep '"rule":"replay"' pair/USA/audit.log >rep.txt || true
[ "$(grep -c "\"txn\":\"$first\"" rep.txt)" = 2 ] || fail "replays of $first: $(cat rep.txt)"
[ "$(grep -c "\"txn\":\"$first-R\"" rep.txt)" = 1 ] || fail "replays of $first-R: $(cat rep.txt)"
# CAN: one review item for the applicant, under the first id
curl -sS --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $tok" \
    "$(url CAN)/v1/reviews?status=pending" >reviews.json || fail "reviews"
[ "$(jq '.reviews | length' reviews.json)" = 1 ] || fail "queue: $(cat reviews.json)"
[ "$(jq -r '.reviews[0].txn' reviews.json)" = "$first" ] || fail "queue: $(cat reviews.json)"
[ "$(jq -r '.review.review_id' "run/cases/$known.json")" = "$(jq -r '.reviews[0].id' reviews.json)" ] ||
    fail "case file review: $(cat "run/cases/$known.json")"
[ "$(jq -c '.review | [.pending, .not_found]' run/summary.json)" = '[1,0]' ] ||
    fail "refresh of a twice re-asked match: $(jq -c .review run/summary.json)"
stop_node CAN
stop_node USA
"$bin" audit verify pair/USA/audit.log >v1.out 2>&1 || fail "USA log: $(cat v1.out)"
"$bin" audit verify pair/CAN/audit.log >v2.out 2>&1 || fail "CAN log: $(cat v2.out)"
echo "two lost answers re-asked down a chain: one answer per applicant, one review item, logs verify"
