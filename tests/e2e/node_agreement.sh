#!/usr/bin/env bash
# The agreement on two real nodes: a node refuses to start on a malformed or
# self-contradicting agreement (naming the file, the line and the reason);
# two nodes running different agreement versions exchange nothing (the feed
# stops at the receiver's check of the Perimeter-Agreement hash and says why),
# and once both run the same text again the feed flows.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

make_pair
jq '.limits.feed_backoff_max_ms = 500' pair/CAN/node.json >c.json && mv c.json pair/CAN/node.json
cp pair/CAN/agreement-USA.json good.json

# 1. malformed (a syntax error) and contradictory (probes kept: R6) agreements
sed 's/"purposes": \[/"purposes": [,/' good.json >pair/CAN/agreement-USA.json
rc=0
"$bin" serve --config pair/CAN/node.json >bad1.out 2>bad1.err || rc=$?
[ "$rc" != 0 ] || fail "a node started on a malformed agreement"
assert_contains bad1.err 'partners\[0\]\.agreement: .*agreement-USA\.json: line 4: '
sed 's/"probe": 0/"probe": 7/' good.json >pair/CAN/agreement-USA.json
rc=0
"$bin" serve --config pair/CAN/node.json >bad2.out 2>bad2.err || rc=$?
[ "$rc" != 0 ] || fail "a node started on an agreement that keeps probes"
assert_contains bad2.err 'line [0-9]+: \$\.retention_days\.probe'
cp good.json pair/CAN/agreement-USA.json

# 2. USA runs another version of the agreement: CAN's pushes are refused
sed 's/"version": "CAN-USA-test.1"/"version": "CAN-USA-test.2"/' good.json \
    >pair/USA/agreement-CAN.json
cmp -s good.json pair/USA/agreement-CAN.json && fail "the version did not change"
start_node CAN
start_node USA
"$bin" bench ingest --rows 50 --seed 5 --country CAN --write-jsonl can.jsonl >/dev/null
tok=$(officer_token CAN)
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json can.jsonl >imp.out \
    || fail "import: $(cat imp.out)"
refused() {
    PERIMETER_TOKEN=$tok "$bin" partner feed-status --config pair/CAN/node.json --json >fs.json \
        || return 1
    grep -q 'partner runs agreement' fs.json
}
wait_until 20 refused || fail "CAN's feed status never showed the refusal: $(cat fs.json)"
assert_contains fs.json 'HTTP 409'
[ "$(crossing_stat USA partner_exits)" = 0 ] || fail "USA stored entries under another agreement"
assert_contains USA.log 'refused POST /v1/partner/feed from CAN: partner runs agreement'

# 3. the same text again: the feed flows
stop_node USA
cp good.json pair/USA/agreement-CAN.json
start_node USA
entries=$(jq -s 'map(select(.direction == "entry")) | length' can.jsonl)
[ "$entries" -gt 10 ] || fail "sample has $entries entries"
arrived() { [ "$(crossing_stat USA partner_exits)" = "$entries" ]; }
wait_until 20 arrived || fail "feed did not resume: $(crossing_stat USA partner_exits) of $entries"
stop_node CAN
[ "$node_rc" = 0 ] || fail "CAN exit $node_rc"
stop_node USA
[ "$node_rc" = 0 ] || fail "USA exit $node_rc"
echo "agreement: malformed and contradictory refused at start; mismatch refused; same text flows"
