#!/usr/bin/env bash
# R2 subject class, on two real nodes: a biographic query about a citizen of
# either party answers exactly like one that finds nothing, the withheld
# record is logged as a refusal naming R2, and a third-country national's
# record under the same query shape is disclosed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
"$bin" bench ingest --rows 400 --seed 9 --country USA --write-jsonl usa.jsonl >/dev/null
tok_usa=$(officer_token USA)
PERIMETER_TOKEN=$tok_usa "$bin" officer import --config pair/USA/node.json usa.jsonl >imp.out \
    || fail "USA import: $(cat imp.out)"
jq -c -n 'first(inputs | select(.citizenship == "USA" and (.date_of_birth | length) == 10))' \
    usa.jsonl >usa_cit.json
jq -c -n 'first(inputs | select(.citizenship == "CAN" and (.date_of_birth | length) == 10))' \
    usa.jsonl >can_cit.json
jq -c -n 'first(inputs | select(.citizenship != "USA" and .citizenship != "CAN" and
    (.date_of_birth | length) == 10))' usa.jsonl >foreign.json
for f in usa_cit can_cit foreign; do [ -s $f.json ] || fail "sample lacks $f"; done

for who in usa_cit can_cit; do
    oq "$who" --purpose ASYLUM --surname "$(jq -r .surname $who.json)" \
        --dob "$(jq -r .date_of_birth $who.json)" --transaction-id "r2-$who"
    [ "$qrc" = 0 ] || fail "$who: rc $qrc $(cat $who.err)"
    [ "$(jq -r .result $who.out)" = no_match ] || fail "a citizen was disclosed: $(cat $who.out)"
    [ "$(jq '.crossings | length' $who.out)" = 0 ] || fail "$who: $(cat $who.out)"
    grep "\"txn\":\"r2-$who\"" pair/USA/audit.log >$who.log || fail "no log entry for $who"
    assert_contains $who.log '"kind":"refusal".*"records":\["'"$(jq -r .record_id $who.json)"'"\].*"rule":"R2"'
    assert_contains $who.log '"kind":"answer".*"rule":"no_match"'
done
oq foreign --purpose ASYLUM --surname "$(jq -r .surname foreign.json)" \
    --dob "$(jq -r .date_of_birth foreign.json)" --transaction-id r2-foreign
[ "$(jq -r .result foreign.out)" = match ] || fail "foreign national not found: $(cat foreign.out)"
grep '"txn":"r2-foreign"' pair/USA/audit.log >foreign.log
assert_contains foreign.log '"kind":"disclosure"'
echo "R2: citizens of both parties withheld and logged; a foreign national disclosed"

# Biometric answers: the gallery's subjects carry their status. A permanent
# resident, an asylum claimant alleging persecution by the requesting
# country (CAN) and a citizen are each withheld (R2, logged); an asylum
# claimant alleging persecution elsewhere is disclosed.
make_prints 4
enrol USA 11 prints/DB1_B/101_1.png png '{"surname":"Ali","citizenship":"PAK","status":"permanent_resident"}'
[ "$code" = 200 ] || fail "enrol 11: $(cat enrol.out)"
enrol USA 12 prints/DB1_B/102_1.png png '{"surname":"Kaya","citizenship":"TUR","status":"asylum_claimant","persecution_by":"CAN"}'
enrol USA 13 prints/DB1_B/103_1.png png '{"surname":"Brown","citizenship":"GBR","status":"citizen"}'
enrol USA 14 prints/DB1_B/104_1.png png '{"surname":"Osei","citizenship":"GHA","status":"asylum_claimant","persecution_by":"GHA"}'
[ "$code" = 200 ] || fail "enrol 14: $(cat enrol.out)"
for i in 1 2 3; do
    pq "b$i" biometric "$(probe_body prints/DB1_B/10${i}_2.iso iso19794-2 ASYLUM r2-bio$i)"
    [ "$code" = 200 ] && [ "$(jq -r .result b$i.out)" = no_match ] || fail "subject 1$i disclosed: $(cat b$i.out)"
    grep "\"txn\":\"r2-bio$i\"" pair/USA/audit.log >b$i.log
    assert_contains b$i.log '"kind":"refusal".*"records":\["subject:1'"$i"'"\].*"rule":"R2"'
done
pq b4 biometric "$(probe_body prints/DB1_B/104_2.iso iso19794-2 ASYLUM r2-bio4)"
[ "$(jq -r .result b4.out)" = match ] && [ "$(jq -r .disclosure.surname b4.out)" = Osei ] \
    || fail "claimant persecuted elsewhere: $(cat b4.out)"
echo "R2 (gallery): permanent resident, claimant against CAN and citizen withheld; other claimant disclosed"
