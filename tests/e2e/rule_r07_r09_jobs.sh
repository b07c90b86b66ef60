#!/usr/bin/env bash
# R9 retention and R7 irrelevant data, run by the nodes themselves:
# - R9: crossings older than the agreement's retention (5,479 days) are
#   deleted on both sides (CAN's own, and USA's copies received through the
#   feed) by the purge job, each batch leaving a tombstone in that node's
#   log; recent ones stay.
# - R7: a match USA disclosed to CAN is kept by CAN as received data; once an
#   officer finds it irrelevant (who, why), the destruction job removes it and
#   logs a tombstone; marking twice is refused.
# Only an administrator runs a job. Both logs verify afterwards.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
H=record_id,reporting_country,direction,timestamp,port_code,mode,surname,given_names,middle_names,date_of_birth,citizenship,sex,document_type,document_number,document_issuer
cat >can.csv <<CSV
$H
OLD1,CAN,entry,2009-03-01T10:00:00-05:00,YYZ1,air,GARCIA,ANA,,1980-02-03,MEX,F,P,M1000001,MEX
OLD2,CAN,entry,2009-03-02T10:00:00-05:00,YYZ1,air,LOPEZ,JUAN,,1975-06-07,MEX,M,P,M1000002,MEX
NEW1,CAN,entry,2026-01-10T10:00:00-05:00,YYZ1,air,SMITH,OLIVER,,1990-09-09,GBR,M,P,GB1000004,GBR
CSV
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json can.csv 2>imp.err ||
    fail "import: $(cat imp.err)"
arrived() { [ "$(crossing_stat USA partner_exits)" = 3 ]; }
wait_until 30 arrived || fail "the feed did not carry the entries: $(crossing_stat USA partner_exits)"
admin() { # CC
    PERIMETER_PASSWORD=adm-pass-9 "$bin" officer add --config "pair/$1/node.json" --role admin \
        "adm$1" >/dev/null || fail "admin add"
    PERIMETER_PASSWORD=adm-pass-9 "$bin" officer login --config "pair/$1/node.json" --user "adm$1"
}
atok_CAN=$(admin CAN)
atok_USA=$(admin USA)
call() { # NAME CC TOKEN METHOD PATH [BODY]
    code=$(curl -sS -o "$1" -w '%{http_code}' --cacert "pair/$2/ca/ca.pem" -H "Authorization: Bearer $3" \
        -H 'Content-Type: application/json' -X "$4" --data-binary "${6:-}" "$(url "$2")$5" || true)
}
# a plain officer cannot run a job
call j0 CAN "$tok" POST /v1/jobs/purge
[ "$code" = 403 ] || fail "officer ran a job: $code $(cat j0)"
call j9 CAN "$atok_CAN" POST /v1/jobs/everything
[ "$code" = 404 ] || fail "unknown job: $code"
for cc in CAN USA; do
    eval "t=\$atok_$cc"
    call p$cc "$cc" "$t" POST /v1/jobs/purge
    [ "$code" = 200 ] || fail "purge at $cc: $code $(cat p$cc)"
    [ "$(jq .purged.crossing p$cc)" = 2 ] || fail "purge at $cc: $(cat p$cc)"
    [ "$(jq .tombstones p$cc)" -ge 1 ] || fail "no tombstone at $cc: $(cat p$cc)"
done
[ "$(crossing_stat CAN total)" = 1 ] || fail "CAN keeps $(crossing_stat CAN total) crossings"
[ "$(crossing_stat USA total)" = 1 ] || fail "USA keeps $(crossing_stat USA total) crossings"
# running it again deletes nothing more
call p2 CAN "$atok_CAN" POST /v1/jobs/purge
[ "$(jq .purged.crossing p2)" = 0 ] || fail "second purge: $(cat p2)"

# R7: a match from USA, kept by CAN as received data
make_prints 2
enrol USA 7 prints/DB1_B/101_1.png png '{"surname":"Haddad","citizenship":"SYR"}'
[ "$code" = 200 ] || fail "enrol: $code $(cat enrol.out)"
probe_body prints/DB1_B/101_2.iso iso19794-2 ASYLUM r7-1 >body.json
call q CAN "$tok" POST /v1/partners/USA/query/biometric @body.json
[ "$code" = 200 ] && [ "$(jq -r .result q)" = match ] || fail "query: $code $(cat q)"
call rl CAN "$tok" GET /v1/received
[ "$(jq '.received | length' rl)" = 1 ] && [ "$(jq -r '.received[0].origin' rl)" = USA ] ||
    fail "received: $(cat rl)"
rid=$(jq '.received[0].id' rl)
call m1 CAN "$tok" POST "/v1/received/$rid/irrelevant" '{"why":"not the applicant: different case"}'
[ "$code" = 200 ] || fail "mark: $code $(cat m1)"
call m2 CAN "$tok" POST "/v1/received/$rid/irrelevant" '{"why":"again"}'
[ "$code" = 409 ] || fail "marked twice: $code $(cat m2)"
call m3 CAN "$tok" POST "/v1/received/$rid/irrelevant" '{}'
[ "$code" = 400 ] || fail "no reason: $code $(cat m3)"
call d CAN "$atok_CAN" POST /v1/jobs/destroy
[ "$code" = 200 ] && [ "$(jq .destroyed d)" = 1 ] || fail "destroy: $code $(cat d)"
call rl2 CAN "$tok" GET /v1/received
[ "$(jq '.received | length' rl2)" = 0 ] || fail "still kept: $(cat rl2)"

stop_node CAN
stop_node USA
for cc in CAN USA; do
    grep '"kind":"purge"' "pair/$cc/audit.log" >purge_$cc.log || fail "no purge tombstone at $cc"
    assert_contains "purge_$cc.log" 'R9'
    "$bin" audit verify "pair/$cc/audit.log" >v.txt || fail "$cc's log: $(cat v.txt)"
done
grep '"rule":"R7"' pair/CAN/audit.log >r7.log || fail "no R7 entries in CAN's log"
assert_contains r7.log 'not the applicant'
echo "R9: 2 old crossings purged on each side with tombstones; R7: received match destroyed after marking"
