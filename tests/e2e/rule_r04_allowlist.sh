#!/usr/bin/env bash
# R4 field allow-list, on two real nodes: the same person asked about under
# two purposes gets exactly each purpose's allow-list of fields (the
# serializer works from the list, so the document number, never listed for
# IMMIGRATION, cannot appear in that answer even as a value), and the
# disclosure log names the fields sent.
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
sn=$(jq -r .surname p.json); dob=$(jq -r .date_of_birth p.json); doc=$(jq -r .document_number p.json)

oq imm --purpose IMMIGRATION --surname "$sn" --dob "$dob" --transaction-id r4-imm
[ "$(jq -r .result imm.out)" = match ] || fail "IMMIGRATION: $(cat imm.out) $(cat imm.err)"
jq -r '[.crossings[] | keys[]] | unique | join(",")' imm.out >imm_keys.txt
allowed=$(jq -r '.allow.IMMIGRATION | join(",")' pair/USA/agreement-CAN.json)
while IFS=, read -ra ks; do
    for k in "${ks[@]}"; do
        case ",$allowed," in *",$k,"*) ;; *) fail "IMMIGRATION answer carries '$k' (not allowed)" ;; esac
    done
done <imm_keys.txt
assert_not_contains imm.out "$doc" "IMMIGRATION answer (document number)"
assert_not_contains imm.out '"surname"' "IMMIGRATION answer"
assert_not_contains imm.out 'record_id|mrz|origin' "IMMIGRATION answer"

oq asy --purpose ASYLUM --surname "$sn" --dob "$dob" --transaction-id r4-asy
[ "$(jq -r .result asy.out)" = match ] || fail "ASYLUM: $(cat asy.out)"
[ "$(jq -r '.crossings[0].surname' asy.out)" != null ] || fail "ASYLUM lacks the surname: $(cat asy.out)"
assert_not_contains asy.out "$doc" "ASYLUM answer (document number)"

# the log names the fields actually sent, and only those
grep '"txn":"r4-imm"' pair/USA/audit.log | grep '"kind":"disclosure"' >d.log || fail "no disclosure entry"
jq -r '.fields | sort | join(",")' < <(cut -d' ' -f2- d.log) >logged.txt
[ "$(cat logged.txt)" = "$(tr ',' '\n' <imm_keys.txt | sort | paste -sd, -)" ] \
    || fail "logged fields $(cat logged.txt) vs sent $(cat imm_keys.txt)"
echo "R4: IMMIGRATION answer = its allow-list ($(cat imm_keys.txt)); document number never sent"
