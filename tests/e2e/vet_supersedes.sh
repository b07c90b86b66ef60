#!/usr/bin/env bash
# A vetting answer lost to a crash (issues 13 + 18): `perimeter vet` is
# SIGKILLed after USA answered the known applicant's query and before the
# answer was journaled (test hook PERIMETER_TEST_VET_KILL_AFTER, off when
# unset). The resumed run resends the same id, USA refuses it 409 replayed,
# and the run re-asks under a new id with `supersedes: <lost id>`: every
# applicant ends with exactly one journaled answer as the truth says, CAN's
# review queue holds one item for the known applicant, USA's log holds the
# supersede entry naming both ids, and both logs verify.
# VET_FORM=an2k runs the same through the ANSI/NIST form (vet --an2k: the
# re-ask names the lost TCN in 2.900; vet_supersedes_an2k.sh).
set -euo pipefail
form=()
[ "${VET_FORM:-json}" = an2k ] && form=(--an2k)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

vet_pair_start
enrol_cohort_subject USA coh

vet_known_place
rc=0
PERIMETER_TEST_VET_KILL_AFTER=$k PERIMETER_TOKEN=$tok "$bin" vet coh --purpose "$purpose" \
    --config pair/CAN/node.json --partner USA --out run --workers 1 "${form[@]}" > run1.out 2> run1.err || rc=$?
[ "$rc" = 137 ] || fail "vet was not killed by the hook: exit $rc $(cat run1.err)"
[ ! -e "run/cases/$known.json" ] || fail "the lost answer has a case file"
rc=0
PERIMETER_TOKEN=$tok "$bin" vet coh --purpose "$purpose" --config pair/CAN/node.json \
    --partner USA --out run --workers 1 "${form[@]}" > run2.out 2> run2.err || rc=$?
[ "$rc" = 0 ] || fail "resumed vet: exit $rc: $(cat run2.err) $(cat run2.out)"
[ "$(jq -r .this_run.superseded run/summary.json)" = 1 ] || fail "superseded: $(cat run/summary.json)"
[ "$(jq -r .pending run/summary.json)" = 0 ] || fail "pending: $(cat run/summary.json)"
while IFS=, read -r app file psub capture expected; do
    [ "$app" = applicant ] && continue
    got=$(jq -r .outcome "run/cases/$app.json")
    [ "$got" = "$expected" ] || fail "$app: $got, truth says $expected ($(cat "run/cases/$app.json"))"
done <coh/truth.csv
[ "$(jq -r .done run/summary.json)" = 3 ] || fail "done: $(cat run/summary.json)"
new=$(jq -r .transaction_id "run/cases/$known.json")
case "$new" in *-R) ;; *) fail "the known applicant was not re-asked under a new id: $new" ;; esac
lost=${new%-R}
# USA: the lost id answered once, refused once as replayed, the new one
# superseding it
grep '"kind":"supersede"' pair/USA/audit.log >sup.txt || true
[ "$(grep -c '' sup.txt)" = 1 ] || fail "supersede entries at USA: $(cat sup.txt)"
assert_contains sup.txt "\"txn\":\"$new\""
assert_contains sup.txt "supersedes $lost\""
grep '"rule":"replay"' pair/USA/audit.log >rep.txt || true
assert_contains rep.txt "\"txn\":\"$lost\""
# CAN: one review item for the applicant, under the lost id, named in the case file
curl -sS --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $tok" \
    "$(url CAN)/v1/reviews?status=pending" >reviews.json || fail "reviews"
[ "$(jq '.reviews | length' reviews.json)" = 1 ] || fail "queue: $(cat reviews.json)"
[ "$(jq -r '.reviews[0].txn' reviews.json)" = "$lost" ] || fail "queue: $(cat reviews.json)"
[ "$(jq -r '.review.review_id' "run/cases/$known.json")" = "$(jq -r '.reviews[0].id' reviews.json)" ] ||
    fail "case file review: $(cat "run/cases/$known.json")"
[ "$(jq -r .supersedes "run/cases/$known.json")" = "$lost" ] || fail "case file: no supersedes"
# the run's own refresh found the item under the lost id: pending, not "not found"
[ "$(jq -c '.review | [.pending, .not_found]' run/summary.json)" = '[1,0]' ] ||
    fail "refresh of a re-asked match: $(jq -c .review run/summary.json)"
[ "$(jq -r '.review.status' "run/cases/$known.json")" = pending ] ||
    fail "case file review status: $(jq -c .review "run/cases/$known.json")"
stop_node CAN
stop_node USA
"$bin" audit verify pair/USA/audit.log >v1.out 2>&1 || fail "USA log: $(cat v1.out)"
"$bin" audit verify pair/CAN/audit.log >v2.out 2>&1 || fail "CAN log: $(cat v2.out)"
echo "${VET_FORM:-json} form: lost answer re-asked with supersedes: one answer per applicant, one review item, logs verify"
