#!/usr/bin/env bash
# The pull side of the feed: CAN does not push; USA's feed job pulls CAN's
# entries by cursor (GET /v1/partner/feed?since=) and stores them as exits,
# with its cursor in the same transaction. After a restart USA asks from its
# stored cursor: the new entries arrive, nothing twice.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

make_pair
jq '.partners[0].push = false' pair/CAN/node.json >c.json && mv c.json pair/CAN/node.json
jq '.partners[0].push = false | .partners[0].pull = true | .limits.feed_batch = 700' \
    pair/USA/node.json >u.json && mv u.json pair/USA/node.json
"$bin" bench ingest --rows 6000 --seed 31 --country CAN --write-jsonl can.jsonl
"$bin" crossings import --db pair/CAN/perimeter.db can.jsonl 2>/dev/null
entries=$(crossing_stat CAN our_entries)
start_node CAN
start_node USA
arrived() { [ "$(crossing_stat USA partner_exits)" = "$entries" ]; }
wait_until 60 arrived || fail "USA pulled $(crossing_stat USA partner_exits) of $entries: $(cat USA.log)"
cursor=$("$bin" crossings stats --db pair/USA/perimeter.db --json | jq .partner_cursors.CAN)
[ "$cursor" -gt 0 ] || fail "USA stored no cursor"
stop_node USA
# more entries while USA is down
"$bin" bench ingest --rows 2000 --seed 32 --country CAN --write-jsonl more.jsonl
tok=$(officer_token CAN)
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json more.jsonl 2>/dev/null
before=$entries
entries=$(crossing_stat CAN our_entries)
[ "$entries" -gt "$before" ] || fail "no new entries"
start_node USA
wait_until 60 arrived || fail "after the restart USA has $(crossing_stat USA partner_exits) of $entries"
sqlite3 pair/USA/perimeter.db "SELECT count(*), count(DISTINCT record_id) FROM crossing WHERE origin = 'CAN'" >d.txt
[ "$(cat d.txt)" = "$entries|$entries" ] || fail "USA holds $(cat d.txt), want $entries"
curl -sS -o m.txt --cacert pair/USA/ca/ca.pem "$(url USA)/metrics"
assert_contains m.txt "^perimeter_feed_pulled_rows_total $((entries - before))\$"
stop_node USA
[ "$node_rc" = 0 ] || fail "exit $node_rc at the end"
stop_node CAN
[ "$node_rc" = 0 ] || fail "exit $node_rc at the end"
echo "node_pull: $entries entries pulled once"
