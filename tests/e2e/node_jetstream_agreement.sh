#!/usr/bin/env bash
# The feed over JetStream under the agreement check: USA runs another version
# of the agreement than CAN. CAN's entries reach USA's stream (the servers
# do not read agreements), but USA's node refuses every message stamped with
# another agreement's hash: nothing is imported or acknowledged, and USA's
# log says why - as the HTTPS feed answers 409 (node_agreement.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/jetstream_lib.inc" # functions only: before node_lib.inc changes directory
source "$(dirname "$0")/node_lib.inc"

js_pair
cp pair/USA/agreement-CAN.json good.json
sed 's/"version": "CAN-USA-test.1"/"version": "CAN-USA-test.2"/' good.json \
    >pair/USA/agreement-CAN.json
cmp -s good.json pair/USA/agreement-CAN.json && fail "the version did not change"
"$bin" bench ingest --rows 300 --seed 51 --country CAN --write-jsonl a.jsonl
"$bin" crossings import --db pair/CAN/perimeter.db a.jsonl 2>/dev/null
entries=$(crossing_stat CAN our_entries)
[ "$entries" -gt 0 ] || fail "no entries at CAN"
nats_up CAN
nats_up USA
start_node CAN
start_node USA
in_ok() { [ "$(stream_msgs USA PMFEED_IN_CAN)" = "$entries" ]; }
wait_until 60 in_ok || fail "USA's stream holds $(stream_msgs USA PMFEED_IN_CAN) of $entries: $(tail CAN.log USA.log)"
refused() { grep -Eq "feed from CAN failed \(jetstream: a feed message runs agreement" USA.log; }
wait_until 30 refused || fail "USA did not refuse: $(tail USA.log)"
sleep 1
[ "$(crossing_stat USA partner_exits)" = 0 ] || fail "USA stored $(crossing_stat USA partner_exits) rows under another agreement"
curl -sS -o m.txt --cacert pair/USA/ca/ca.pem "$(url USA)/metrics"
assert_contains m.txt "^perimeter_feed_received_rows_total 0\$"
stop_node USA
[ "$node_rc" = 0 ] || fail "USA exit $node_rc"
stop_node CAN
[ "$node_rc" = 0 ] || fail "CAN exit $node_rc"
echo "node_jetstream_agreement: $entries messages under another agreement refused"
