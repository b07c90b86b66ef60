#!/usr/bin/env bash
# R11 onward transfer, on two real nodes: data received from a partner is
# tagged with its origin and never sent on. CAN's entries arrive at USA as
# exits (origin CAN); USA's feed (pushed to CAN and served to a puller)
# carries none of them, and a biographic query about a person USA knows only
# from CAN's feed answers "no match" even though the record is in USA's store.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
"$bin" bench ingest --rows 200 --seed 21 --country CAN --write-jsonl can.jsonl >/dev/null
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json can.jsonl >imp.out \
    || fail "import: $(cat imp.out)"
entries=$(jq -s 'map(select(.direction == "entry")) | length' can.jsonl)
arrived() { [ "$(crossing_stat USA partner_exits)" = "$entries" ]; }
wait_until 30 arrived || fail "feed: $(crossing_stat USA partner_exits) of $entries"
n=$(sqlite3 pair/USA/perimeter.db "SELECT count(*) FROM crossing WHERE origin = 'CAN'")
[ "$n" = "$entries" ] || fail "USA tagged $n of $entries rows with origin CAN"

# USA's own feed, pulled by CAN's certificate: nothing of CAN's comes back
code=$(curl -sS -o pull.jsonl -w '%{http_code}' --cacert pair/USA/ca/ca.pem \
    --cert pair/CAN/node.pem --key pair/CAN/node.key -H "$agr" \
    "$(url USA)/v1/partner/feed?since=0&limit=100000")
[ "$code" = 200 ] || fail "pull: $code"
[ ! -s pull.jsonl ] || fail "USA's feed carried $(wc -l <pull.jsonl) rows (it has no entries of its own)"
[ "$(crossing_stat CAN partner_exits)" = 0 ] || fail "CAN received its own records back"

# a person USA knows only from CAN's feed
jq -c -n 'first(inputs | select(.direction == "entry" and .citizenship != "USA" and
    .citizenship != "CAN" and (.date_of_birth | length) == 10))' can.jsonl >p.json
[ -s p.json ] || fail "no third-country entry in the sample"
oq q --purpose ASYLUM --surname "$(jq -r .surname p.json)" --dob "$(jq -r .date_of_birth p.json)" \
    --transaction-id r11
[ "$qrc" = 0 ] && [ "$(jq -r .result q.out)" = no_match ] || fail "partner data sent on: $(cat q.out)"
rid=$(jq -r .record_id p.json)
[ "$(sqlite3 pair/USA/perimeter.db "SELECT count(*) FROM crossing WHERE record_id = '$rid'")" = 1 ] \
    || fail "the record is not in USA's store (the test would prove nothing)"
echo "R11: $entries received rows tagged CAN; none sent on by feed or query"
