#!/usr/bin/env bash
# R11 onward transfer, on two real nodes: data CAN received from USA (a match
# answer, and USA's entries stored from the feed) cannot be handed to a third
# party without a consent in the agreement (the pair's agreement records
# none): refused with R11 and logged; CAN's own record can be handed on, and
# that is logged too.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
[ "$(jq '.onward_transfer_consent | length' pair/CAN/agreement-USA.json)" = 0 ] ||
    fail "the test agreement records consents"
H=record_id,reporting_country,direction,timestamp,port_code,mode,surname,given_names,middle_names,date_of_birth,citizenship,sex,document_type,document_number,document_issuer
printf '%s\nC1,CAN,entry,2026-03-01T10:00:00-05:00,YYZ1,air,GARCIA,ANA,,1980-02-03,MEX,F,P,M1000001,MEX\n' "$H" >can.csv
printf '%s\nU1,USA,entry,2026-03-02T10:00:00-05:00,BUF1,land,LOPEZ,JUAN,,1975-06-07,MEX,M,P,M1000002,MEX\n' "$H" >usa.csv
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json can.csv 2>/dev/null || fail "import CAN"
tok_usa=$(officer_token USA)
PERIMETER_TOKEN=$tok_usa "$bin" officer import --config pair/USA/node.json usa.csv 2>/dev/null || fail "import USA"
arrived() { [ "$(crossing_stat CAN partner_exits)" = 1 ]; }
wait_until 30 arrived || fail "USA's entry did not reach CAN"
make_prints 2
enrol USA 7 prints/DB1_B/101_1.png png '{"surname":"Haddad","citizenship":"SYR"}'
[ "$code" = 200 ] || fail "enrol: $code $(cat enrol.out)"
PERIMETER_PASSWORD=sup-pass-11 "$bin" officer add --config pair/CAN/node.json --role supervisor \
    sol >/dev/null || fail "supervisor add"
stok=$(PERIMETER_PASSWORD=sup-pass-11 "$bin" officer login --config pair/CAN/node.json --user sol)
call() { # NAME TOKEN METHOD PATH [BODY]
    code=$(curl -sS -o "$1" -w '%{http_code}' --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' -X "$3" --data-binary "${5:-}" "$(url CAN)$4" || true)
}
probe_body prints/DB1_B/101_2.iso iso19794-2 ASYLUM r11-1 >body.json
call q "$tok" POST /v1/partners/USA/query/biometric @body.json
[ "$code" = 200 ] && [ "$(jq -r .result q)" = match ] || fail "query: $code $(cat q)"
call rl "$tok" GET /v1/received
rid=$(jq '.received[0].id' rl)
# USA's match answer to a third party: refused, R11
call t1 "$stok" POST /v1/transfers "{\"received_id\": $rid, \"to\": \"GBR\", \"purpose\": \"ASYLUM\"}"
[ "$code" = 403 ] && [ "$(jq -r .rule t1)" = R11 ] || fail "received data handed on: $code $(cat t1)"
assert_not_contains t1 'Haddad' "refusal"
# USA's entry as stored from the feed: refused too
uid=$(sqlite3 pair/CAN/perimeter.db "SELECT id FROM crossing WHERE record_id = 'U1'")
call t2 "$stok" POST /v1/transfers "{\"crossing_id\": $uid, \"to\": \"GBR\", \"purpose\": \"ASYLUM\"}"
[ "$code" = 403 ] && [ "$(jq -r .rule t2)" = R11 ] || fail "feed copy handed on: $code $(cat t2)"
# CAN's own record may go
cid=$(sqlite3 pair/CAN/perimeter.db "SELECT id FROM crossing WHERE record_id = 'C1'")
call t3 "$stok" POST /v1/transfers "{\"crossing_id\": $cid, \"to\": \"GBR\", \"purpose\": \"ASYLUM\"}"
[ "$code" = 200 ] || fail "own record: $code $(cat t3)"
assert_contains t3 'GARCIA'
# a plain officer may not hand anything on; bad bodies refused
call t4 "$tok" POST /v1/transfers "{\"crossing_id\": $cid, \"to\": \"GBR\", \"purpose\": \"ASYLUM\"}"
[ "$code" = 403 ] || fail "officer handed on: $code"
call t5 "$stok" POST /v1/transfers "{\"crossing_id\": $cid, \"received_id\": $rid, \"to\": \"GBR\", \"purpose\": \"ASYLUM\"}"
[ "$code" = 400 ] || fail "two records: $code $(cat t5)"
stop_node CAN
stop_node USA
grep '"rule":"R11"' pair/CAN/audit.log >r11.log || fail "no R11 refusal logged"
[ "$(grep -c . r11.log)" -ge 2 ] || fail "R11 refusals logged: $(cat r11.log)"
grep '"kind":"onward_transfer"' pair/CAN/audit.log >ot.log || fail "the transfer of CAN's own record is not logged"
"$bin" audit verify pair/CAN/audit.log >v.txt || fail "CAN's log: $(cat v.txt)"
echo "R11: partner data refused twice (match answer, feed copy), own record handed on; logged"
