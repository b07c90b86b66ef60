#!/usr/bin/env bash
# The answering side in the ANSI/NIST vetting profile (docs/an2k.md), on two
# real nodes: `perimeter vet --an2k` sends each applicant as a PMSR search
# (Type-9 minutiae, TCN = the transaction id, no name) through CAN's node to
# USA's /v1/partner/query/vetting; USA answers a PMRS with the TCN echoed as
# TCR, the match indicator and a candidate list that discloses no more than
# the JSON answer (same policy and log path: the same fields for the same
# applicant, no gallery subject id); CAN queues the match for review (R14).
# Also: a PMSR of images sent straight to USA's partner route, a search
# carrying a Type-2 name refused under R5, a purpose outside the agreement
# under R1, and a malformed transaction refused without touching the gallery.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

vet_pair_start

# USA enrols its own encounter of the known applicant (ten ISO templates)
enrol_cohort_subject USA coh

# the cohort as ANSI/NIST searches, then as JSON (a second output folder)
for form in an2k json; do
    rc=0
    PERIMETER_TOKEN=$tok "$bin" vet coh --purpose "$purpose" --config pair/CAN/node.json \
        --partner USA --out "run-$form" --workers 2 $([ $form = an2k ] && echo --an2k) \
        > "run-$form.out" 2> "run-$form.err" || rc=$?
    [ "$rc" = 0 ] || fail "vet ($form): exit $rc: $(cat "run-$form.err") $(cat "run-$form.out")"
    while IFS=, read -r app _ _ _ expected; do
        [ "$app" = applicant ] && continue
        got=$(jq -r .outcome "run-$form/cases/$app.json")
        [ "$got" = "$expected" ] || fail "$form $app: $got, truth says $expected"
    done <coh/truth.csv
done
known=$(awk -F, 'NR > 1 && $3 != "" { print $1 }' coh/truth.csv)
case=run-an2k/cases/$known.json
# the PMRS answered our TCN: the partner's own control number is USA-...
jq -e '.partner.partner_ref | startswith("USA-")' "$case" >/dev/null || fail "partner_ref: $(cat "$case")"
# one candidate, ranked "1": never the gallery's subject id
[ "$(jq -r '.partner.candidates | length' "$case")" = 1 ] || fail "candidates: $(cat "$case")"
[ "$(jq -r '.partner.candidates[0].subject' "$case")" = 1 ] || fail "candidate id: $(cat "$case")"
assert_not_contains "$case" "$subj" "the an2k case file"
# exactly the fields the JSON answer disclosed for the same applicant (the
# score in "match" may differ in its last digit: Type-9 angles are in
# 2-degree units, ISO 19794-2's in 1.4-degree units)
jq -S '.partner.disclosed | del(.match)' "$case" >d-an2k.json
jq -S '.partner.disclosed | del(.match)' "run-json/cases/$known.json" >d-json.json
cmp -s d-an2k.json d-json.json || fail "disclosures differ: $(cat d-an2k.json) vs $(cat d-json.json)"
[ "$(jq -c '.partner.disclosed | keys' "$case")" = "$(jq -c '.partner.disclosed | keys' "run-json/cases/$known.json")" ] ||
    fail "disclosed field names differ"
jq -e '.surname == "KNOWN"' d-an2k.json >/dev/null || fail "no disclosure: $(cat d-an2k.json)"
# the score travels only if the allow-list has "match"
if jq -e '.partner.disclosed | has("match")' "$case" >/dev/null; then
    jq -e '.partner.candidates[0].score > 0' "$case" >/dev/null || fail "score withheld: $(cat "$case")"
else
    jq -e '.partner.candidates[0].score == 0' "$case" >/dev/null || fail "score leaked: $(cat "$case")"
fi
# R14: queued in CAN's review queue, the id in the case file
rid=$(jq -r .review.review_id "$case")
curl -sS --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $tok" \
    "$(url CAN)/v1/reviews?status=pending" >reviews.json
jq -e --argjson r "$rid" --arg t "$(jq -r .transaction_id "$case")" \
    '[.reviews[] | select(.id == $r and .txn == $t)] | length == 1' reviews.json >/dev/null ||
    fail "review $rid not queued: $(cat reviews.json)"
# USA logged both forms the same way: a query and a disclosure per transaction
tcn=$(jq -r .transaction_id "$case")
grep "\"txn\":\"$tcn\"" pair/USA/audit.log >an2k.log || fail "no log entry for $tcn"
assert_contains an2k.log '"kind":"query"'
assert_contains an2k.log '"kind":"disclosure"'
assert_contains an2k.log '"kind":"probe_destroyed"'
# no applicant name reaches USA (R5): the search carries no Type-2 name
name=$("$bin" an2k dump coh/applicants/A000001.an2 | sed -n 's/.*\[2.018\]=\([^,]*\),.*/\1/p')
[ -n "$name" ] || fail "no name in the transaction"
assert_not_contains USA.log "$name" "USA.log"

# straight to USA's partner route, as a partner node: a PMSR of WSQ images
"$bin" an2k extract "coh/applicants/$known.an2" imgs >/dev/null || fail "extract"
args=()
i=0
for f in imgs/*.wsq; do
    i=$((i + 1))
    [ $i -le 4 ] && args+=(--finger "$i:$f")
done
"$bin" an2k build img.an2 --search --purpose "$purpose" --tcn IMG-0001 --ori CAN --dai USA \
    "${args[@]}" >/dev/null || fail "build"
pv() { # NAME FILE: POST FILE to USA's vetting route with CAN's certificate
    code=$(curl -sS -o "$1.out" -w '%{http_code}' --cacert pair/USA/ca/ca.pem \
        --cert pair/CAN/node.pem --key pair/CAN/node.key -H "$agr" \
        -H 'Content-Type: application/octet-stream' --data-binary @"$2" \
        "$(url USA)/v1/partner/query/vetting" 2>"$1.err" || true)
}
pv img img.an2
[ "$code" = 200 ] || fail "image search: HTTP $code $(cat img.out)"
"$bin" an2k dump img.out >img.dump || fail "the answer is not ANSI/NIST: $(head -c 200 img.out)"
assert_contains img.dump '\[1.004\]=PMRS'
assert_contains img.dump '\[1.010\]=IMG-0001'
assert_contains img.dump '\[1.007\]=CAN'
assert_contains img.dump '\[2.059\]=I'
assert_contains img.dump '\[2.070\]=surname'
assert_contains img.dump '\[2.070\]=KNOWN'
# the same search with the applicant's name in 2.018: refused under R5
"$bin" an2k build named.an2 --search --purpose "$purpose" --tcn R5-0001 --ori CAN --dai USA \
    "${args[@]}" --field "2.018=$name" >/dev/null || fail "build named"
pv named named.an2
[ "$code" = 403 ] && [ "$(jq -r .rule named.out)" = R5 ] || fail "named search: $code $(cat named.out)"
# a purpose outside the agreement: R1
"$bin" an2k build r1.an2 --search --purpose NOT_AGREED --tcn R1-0001 --ori CAN --dai USA \
    "${args[@]}" >/dev/null
pv r1 r1.an2
[ "$code" = 403 ] && [ "$(jq -r .rule r1.out)" = R1 ] || fail "R1: $code $(cat r1.out)"
# a response sent as a request, and garbage: 400, nothing searched
pv resp img.out
[ "$code" = 400 ] || fail "a PMRS as a request: $code $(cat resp.out)"
head -c 300 img.an2 >cut.an2
pv cut cut.an2
[ "$code" = 400 ] || fail "a cut transaction: $code $(cat cut.out)"
stop_node CAN
stop_node USA
echo "vet_an2k: PMSR/PMRS both ways, same disclosure as JSON, R14 queue, R5/R1 refusals"
