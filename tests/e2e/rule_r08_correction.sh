#!/usr/bin/env bash
# R8 corrections, on two real nodes: CAN corrects one of its entries after
# the feed delivered it to USA; the correction goes to USA (the recipient,
# found from the feed's acknowledged cursor), USA applies it to its copy and
# acknowledges, and CAN's status says complete. With USA down the correction
# stays queued, unacknowledged, visible with its age; both logs record it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
cat >one.jsonl <<'J'
{"record_id":"R8-1","reporting_country":"CAN","direction":"entry","timestamp":"2026-03-01T10:00:00-05:00","port_code":"YYZ1","mode":"air","surname":"GARCA","given_names":"ANA","middle_names":"","date_of_birth":"1980-02-03","citizenship":"MEX","sex":"F","document_type":"P","document_number":"M1000001","document_issuer":"MEX"}
J
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json one.jsonl 2>imp.err ||
    fail "import: $(cat imp.err)"
acked() {
    PERIMETER_TOKEN=$tok "$bin" partner feed-status --config pair/CAN/node.json --json >fs.json 2>/dev/null &&
        [ "$(jq '.partners[0].push_acked' fs.json)" -ge 1 ]
}
wait_until 30 acked || fail "the feed was not acknowledged: $(cat fs.json)"
PERIMETER_PASSWORD=sup-pass-8 "$bin" officer add --config pair/CAN/node.json --role supervisor \
    uma >/dev/null || fail "supervisor add"
stok=$(PERIMETER_PASSWORD=sup-pass-8 "$bin" officer login --config pair/CAN/node.json --user uma)
fix() { # NAME SURNAME WHY
    sed "s/\"surname\":\"GARCA\"/\"surname\":\"$2\"/" one.jsonl >fix.jsonl
    code=$(curl -sS -o "$1" -w '%{http_code}' --cacert pair/CAN/ca/ca.pem \
        -H "Authorization: Bearer $stok" -H 'Content-Type: application/x-ndjson' \
        --data-binary @fix.jsonl "$(url CAN)/v1/corrections?why=$3" || true)
}
usa_surname() { sqlite3 pair/USA/perimeter.db "SELECT surname FROM crossing WHERE record_id = 'R8-1'"; }
[ "$(usa_surname)" = GARCA ] || fail "USA's copy before: $(usa_surname)"
fix c1 GARCIA surname-misspelt
[ "$code" = 200 ] || fail "correction: HTTP $code $(cat c1)"
[ "$(jq .queued c1)" = 1 ] && [ "$(jq .acknowledged c1)" = 1 ] && [ "$(jq .complete c1)" = true ] ||
    fail "correction: $(cat c1) USA: $(tail -5 USA.log) CAN: $(tail -5 CAN.log)"
[ "$(usa_surname)" = GARCIA ] || fail "USA's copy after: $(usa_surname)"
[ "$(sqlite3 pair/CAN/perimeter.db "SELECT surname FROM crossing WHERE record_id = 'R8-1'")" = GARCIA ] ||
    fail "CAN's record not corrected"
code=$(curl -sS -o pend -w '%{http_code}' --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $tok" \
    "$(url CAN)/v1/corrections" || true)
[ "$code" = 200 ] && [ "$(jq '.unacknowledged | length' pend)" = 0 ] || fail "pending: $(cat pend)"
# no reason, or a record we do not have: refused
fix c2 GARCIA ""
[ "$code" = 400 ] || fail "no reason: HTTP $code"
sed 's/R8-1/R8-NOPE/' one.jsonl >nope.jsonl
code=$(curl -sS -o c3 -w '%{http_code}' --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $stok" \
    -H 'Content-Type: application/x-ndjson' --data-binary @nope.jsonl \
    "$(url CAN)/v1/corrections?why=x" || true)
[ "$code" = 404 ] || fail "unknown record: HTTP $code $(cat c3)"
# USA down: queued, not acknowledged, visible
stop_node USA
fix c4 GARCIA-LOPEZ second-surname
[ "$code" = 200 ] && [ "$(jq .acknowledged c4)" = 0 ] && [ "$(jq .complete c4)" = false ] ||
    fail "with USA down: $code $(cat c4)"
code=$(curl -sS -o pend2 -w '%{http_code}' --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $tok" \
    "$(url CAN)/v1/corrections" || true)
[ "$(jq '.unacknowledged | length' pend2)" = 1 ] && [ "$(jq -r '.unacknowledged[0].partner' pend2)" = USA ] ||
    fail "pending with USA down: $(cat pend2)"
stop_node CAN
grep '"rule":"R8"' pair/CAN/audit.log >c.log || fail "no R8 entries at CAN"
assert_contains c.log 'surname-misspelt'
grep '"rule":"R8"' pair/USA/audit.log >u.log || fail "no R8 entries at USA"
for cc in CAN USA; do "$bin" audit verify "pair/$cc/audit.log" >v.txt || fail "$cc's log: $(cat v.txt)"; done
echo "R8: correction applied and acknowledged by USA; queued and visible while USA is down"
