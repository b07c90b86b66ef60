#!/usr/bin/env bash
# R12 subject access, on two real nodes: CAN asks USA about a person; USA's
# report for that person (from USA's node, by document) lists their own
# crossings and the disclosure to CAN under its purpose, and nobody else's;
# the request itself is logged; HTML escapes; officers without the
# supervisor role and bad arguments are refused.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
"$bin" bench ingest --rows 300 --seed 11 --country USA --write-jsonl usa.jsonl >/dev/null
tok_usa=$(officer_token USA)
PERIMETER_TOKEN=$tok_usa "$bin" officer import --config pair/USA/node.json usa.jsonl >imp.out \
    || fail "USA import: $(cat imp.out)"
jq -c -n 'first(inputs | select(.citizenship != "USA" and .citizenship != "CAN" and
    (.date_of_birth | length) == 10))' usa.jsonl >p.json
[ -s p.json ] || fail "no foreign national in the sample"
sn=$(jq -r .surname p.json); dob=$(jq -r .date_of_birth p.json)
doc=$(jq -r .document_number p.json); iss=$(jq -r .document_issuer p.json)
mine=$(jq -r --arg d "$doc" 'select(.document_number == $d) | .record_id' usa.jsonl | wc -l)
oq asy --purpose ASYLUM --surname "$sn" --dob "$dob" --transaction-id r12-asy
[ "$(jq -r .result asy.out)" = match ] || fail "query: $(cat asy.out) $(cat asy.err)"

PERIMETER_PASSWORD=sup-pass-12 "$bin" officer add --config pair/USA/node.json --role supervisor \
    vera >/dev/null || fail "supervisor add"
stok=$(PERIMETER_PASSWORD=sup-pass-12 "$bin" officer login --config pair/USA/node.json --user vera)
get() { # NAME TOKEN PATH
    code=$(curl -sS -o "$1" -w '%{http_code}' --cacert pair/USA/ca/ca.pem \
        -H "Authorization: Bearer $2" "$(url USA)$3" || true)
}
get sa.json "$stok" "/v1/subject-access?document=$doc&issuer=$iss"
[ "$code" = 200 ] || fail "subject access: HTTP $code $(cat sa.json)"
# their own crossings, all of them
n=$(jq '.crossings | length' sa.json)
[ "$n" -ge "$mine" ] && [ "$mine" -ge 1 ] || fail "crossings in the report: $n, theirs $mine"
# the disclosure to CAN under ASYLUM, with its transaction
jq -e '.disclosure_log[] | select(.txn == "r12-asy" and .partner == "CAN" and .purpose == "ASYLUM" and .kind == "disclosure")' sa.json >/dev/null ||
    fail "the disclosure to CAN is not in the report: $(jq -c .disclosure_log sa.json)"
# nobody else's document
other=$(jq -r --arg d "$doc" 'select(.document_number != $d) | .document_number' usa.jsonl | head -1)
assert_not_contains sa.json "\"$other\"" "subject access report (another person's document)"
# a readable page
get sa.html "$stok" "/v1/subject-access?document=$doc&issuer=$iss&format=html"
[ "$code" = 200 ] || fail "html: HTTP $code"
assert_contains sa.html '<html'
# refusals: a plain officer, no selector, an unknown argument
get r1 "$tok_usa" "/v1/subject-access?document=$doc&issuer=$iss"
[ "$code" = 403 ] || fail "officer without the supervisor role: HTTP $code"
get r2 "$stok" "/v1/subject-access?surname=$sn"
[ "$code" = 400 ] || fail "no selector: HTTP $code $(cat r2)"
get r3 "$stok" "/v1/subject-access?document=$doc&issuer=$iss&colour=1"
[ "$code" = 400 ] && [ "$(jq -r .field r3)" = colour ] || fail "unknown argument: HTTP $code $(cat r3)"
stop_node CAN
stop_node USA
# the request is itself in USA's log, and the log is intact
grep '"kind":"subject_access"' pair/USA/audit.log >sal.log || fail "request not logged"
assert_contains sal.log 'vera'
"$bin" audit verify pair/USA/audit.log >v.txt || fail "USA's log: $(cat v.txt)"
echo "R12: report with $n crossings and the disclosure to CAN; refusals; logged"
