#!/usr/bin/env bash
# perimeter vet through our own node's officer route (the node transport):
# CAN's node forwards each anonymous probe to USA's node over mutual TLS, and
# USA answers from its gallery through its policy and disclosure log. The
# applicant USA holds is a match (with what the agreement lets USA disclose),
# the others no match, checked against the generator's truth; no applicant's
# name reaches USA (R5); a purpose outside the agreement is refused under R1
# and recorded as such; a wrong token and a stopped partner leave applicants
# pending (never "no match") and the next run resends the same transaction ids.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

vet_pair_start

# USA enrols what it holds of the known applicant: ten ISO templates, one subject
enrol_cohort_subject USA coh

rc=0
PERIMETER_TOKEN=$tok "$bin" vet coh --purpose "$purpose" --config pair/CAN/node.json \
    --partner USA --out run1 --workers 2 > run1.out 2> run1.err || rc=$?
[ "$rc" = 0 ] || fail "vet: exit $rc: $(cat run1.err) $(cat run1.out)"
# the run ends by refreshing the review status from CAN's queue
[ "$(jq -c '.review | [.pending, .rejected, .confirmed]' run1/summary.json)" = '[1,0,0]' ] ||
    fail "no review section after the run: $(cat run1/summary.json)"
# every applicant as the truth says
while IFS=, read -r app file psub capture expected; do
    [ "$app" = applicant ] && continue
    got=$(jq -r .outcome "run1/cases/$app.json")
    [ "$got" = "$expected" ] || fail "$app: $got, truth says $expected ($(cat "run1/cases/$app.json"))"
done <coh/truth.csv
known=$(awk -F, 'NR > 1 && $3 != "" { print $1 }' coh/truth.csv)
[ "$(jq -r .partner.result "run1/cases/$known.json")" = match ] || fail "known: $(cat "run1/cases/$known.json")"
# USA disclosed the known subject's surname under this purpose's allow-list
jq -e '.partner.disclosed | tostring | test("KNOWN")' "run1/cases/$known.json" >/dev/null ||
    fail "no disclosure in the case file: $(cat "run1/cases/$known.json")"
# R14: the match is in CAN's review queue; the case file and the adjudication
# list name the item, nothing else is queued
rid=$(jq -r '.review.review_id' "run1/cases/$known.json")
[ "$rid" -ge 1 ] 2>/dev/null || fail "no review item in the case file: $(cat "run1/cases/$known.json")"
[ "$(jq -r .review_id run1/adjudication.jsonl)" = "$rid" ] || fail "adjudication: $(cat run1/adjudication.jsonl)"
curl -sS --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $tok" \
    "$(url CAN)/v1/reviews?status=pending" >reviews.json || fail "reviews"
[ "$(jq '.reviews | length' reviews.json)" = 1 ] || fail "queue: $(cat reviews.json)"
[ "$(jq -r ".reviews[0].id" reviews.json)" = "$rid" ] || fail "queue: $(cat reviews.json)"
[ "$(jq -r ".reviews[0].txn" reviews.json)" = "$(jq -r .transaction_id "run1/cases/$known.json")" ] ||
    fail "queued under another transaction: $(cat reviews.json)"
# a supervisor rejects it; `vet refresh` copies the final status back into
# the case file and the summary
PERIMETER_PASSWORD=correct-horse-sup "$bin" officer add --config pair/CAN/node.json --replace \
    --role supervisor bob >/dev/null || fail "supervisor add"
tok_sup=$(PERIMETER_PASSWORD=correct-horse-sup "$bin" officer login --config pair/CAN/node.json --user bob)
curl -sS --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $tok_sup" \
    -H 'Content-Type: application/json' --data '{"decision":"reject","why":"not the same person"}' \
    "$(url CAN)/v1/reviews/$rid/decision" >decision.json || fail "decision"
PERIMETER_TOKEN=$tok "$bin" vet refresh run1 --config pair/CAN/node.json --json >refresh.json ||
    fail "vet refresh: $(cat refresh.json)"
[ "$(jq -c '[.matches, .rejected, .confirmed, .pending, .updated]' refresh.json)" = '[1,1,0,0,1]' ] ||
    fail "refresh: $(cat refresh.json) after $(cat decision.json)"
[ "$(jq -r '.review | "\(.status) \(.by) \(.why)"' "run1/cases/$known.json")" = 'rejected bob not the same person' ] ||
    fail "case file after refresh: $(jq -c .review "run1/cases/$known.json")"
[ "$(jq -c '.review | [.rejected, .confirmed, .pending]' run1/summary.json)" = '[1,0,0]' ] ||
    fail "summary after refresh: $(jq -c .review run1/summary.json)"
assert_contains run1/summary.txt '  rejected        1'
# a resumed run (nothing left to do) keeps the review section, with or
# without its own refresh
for opt in --no-refresh ""; do
    PERIMETER_TOKEN=$tok "$bin" vet coh --purpose "$purpose" --config pair/CAN/node.json \
        --partner USA --out run1 --workers 2 $opt > run1b.out 2> run1b.err ||
        fail "resumed vet $opt: $(cat run1b.err)"
    [ "$(jq -c '.review | [.rejected, .confirmed, .pending]' run1/summary.json)" = '[1,0,0]' ] ||
        fail "review section lost by a resumed run $opt: $(cat run1/summary.json)"
    assert_contains run1/summary.txt '  rejected        1'
    [ "$(jq -r .this_run.queries run1/summary.json)" = 0 ] || fail "resumed run queried again"
done
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

# the partner down: pending, then resent with the same transaction ids once it is back
stop_node USA
rc=0
PERIMETER_TOKEN=$tok "$bin" vet coh --purpose "$purpose" --config pair/CAN/node.json \
    --partner USA --out run5 > run5.out 2> run5.err || rc=$?
[ "$rc" = 3 ] || fail "partner down: exit $rc: $(cat run5.out)"
assert_contains run5.out "done 0, pending 3"
[ "$(ls run5/cases | wc -l)" = 0 ] || fail "a case file was written without an answer"
start_node USA
PERIMETER_TOKEN=$tok "$bin" vet coh --purpose "$purpose" --config pair/CAN/node.json \
    --partner USA --out run5 > run6.out 2> run6.err || fail "resume: $(cat run6.err) $(cat run6.out)"
assert_contains run6.out "3 resent after an interruption"
for app in A000001 A000002 A000003; do
    [ -f "run5/cases/$app.json" ] || fail "$app has no case file after the resume"
done
stop_node CAN
stop_node USA
echo "vet_node: ok (match and no-match against USA's gallery, R1 refusal, pending and resume)"
