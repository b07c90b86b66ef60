#!/usr/bin/env bash
# The partner feed over JetStream (docs/node.md "The feed on JetStream"): each
# country runs its own nats-server (own ports and directories here, never
# the system's service) with JetStream in its own domain; USA's server dials
# CAN's leaf node port with mutual TLS (certificates made by `perimeter init`,
# each side trusting only the other's CA) and binds the link to its exchange
# account. CAN's node publishes its entries (same export, policy and
# disclosure log as the HTTPS push) to its stream; USA's stream sources it;
# USA's node imports and acknowledges.
# Shown: every entry arrives once (USA's store, and each stream, holds each
# record once); a SIGKILL and restart of CAN's server in the middle of an
# import, then of USA's server while CAN adds entries, lose nothing and
# duplicate nothing; the disclosure log counts every record once; a leaf
# connection with a certificate from another CA is refused.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/jetstream_lib.inc" # functions only: before node_lib.inc changes directory
source "$(dirname "$0")/node_lib.inc"

js_pair
"$bin" bench ingest --rows 3000 --seed 41 --country CAN --write-jsonl a.jsonl
"$bin" crossings import --db pair/CAN/perimeter.db a.jsonl 2>/dev/null
entries=$(crossing_stat CAN our_entries)
[ "$entries" -gt 0 ] || fail "no entries at CAN"

nats_up CAN
nats_up USA
start_node CAN
start_node USA
arrived() { [ "$(crossing_stat USA partner_exits)" = "$entries" ]; }
wait_until 60 arrived || fail "USA has $(crossing_stat USA partner_exits) of $entries: $(cat USA.log CAN.log)"

# 1. CAN's server killed while CAN's officers import more (the node's
# publishes fail and back off), restarted: the rest arrives.
tok=$(officer_token CAN)
"$bin" bench ingest --rows 8000 --seed 42 --country CAN --write-jsonl b.jsonl
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json b.jsonl >imp_b.out 2>&1 &
imp=$!
sleep 0.5
nats_kill CAN
wait "$imp" || fail "officer import: $(cat imp_b.out)"
# on a fast machine the whole import may have gone out before the kill: one
# more import while the server is down gives the feed something to publish
"$bin" bench ingest --rows 500 --seed 44 --country CAN --write-jsonl b2.jsonl
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json b2.jsonl >imp_b2.out 2>&1 ||
    fail "officer import: $(cat imp_b2.out)"
pub_failed() { grep -Eq "feed to USA failed \(jetstream" CAN.log; }
wait_until 20 pub_failed || fail "CAN's node did not notice its server was down: $(tail CAN.log)"
nats_up CAN
entries=$(crossing_stat CAN our_entries)
wait_until 120 arrived || fail "after CAN's restart USA has $(crossing_stat USA partner_exits) of $entries: $(tail -20 USA.log CAN.log)"

# 2. USA's server killed; CAN adds entries (they wait in CAN's stream);
# USA's server restarted: its stream's source resumes where it was.
nats_kill USA
"$bin" bench ingest --rows 2000 --seed 43 --country CAN --write-jsonl c.jsonl
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json c.jsonl >imp_c.out 2>&1 ||
    fail "officer import: $(cat imp_c.out)"
entries=$(crossing_stat CAN our_entries)
out_ok() { [ "$(stream_msgs CAN PMFEED_CAN_USA)" = "$entries" ]; }
wait_until 60 out_ok || fail "CAN's stream holds $(stream_msgs CAN PMFEED_CAN_USA) of $entries"
nats_up USA
wait_until 120 arrived || fail "after USA's restart USA has $(crossing_stat USA partner_exits) of $entries: $(tail -20 USA.log)"

# once: in USA's store, in both streams (the Nats-Msg-Id dedup), and in
# CAN's disclosure log (each batch logged once, rows adding up)
sqlite3 pair/USA/perimeter.db "SELECT count(*), count(DISTINCT record_id) FROM crossing WHERE origin = 'CAN'" >d.txt
[ "$(cat d.txt)" = "$entries|$entries" ] || fail "USA holds $(cat d.txt), want $entries"
[ "$(stream_msgs CAN PMFEED_CAN_USA)" = "$entries" ] || fail "CAN's stream holds $(stream_msgs CAN PMFEED_CAN_USA), want $entries"
in_ok() { [ "$(stream_msgs USA PMFEED_IN_CAN)" = "$entries" ]; }
wait_until 10 in_ok || fail "USA's stream holds $(stream_msgs USA PMFEED_IN_CAN), want $entries"
grep '"kind":"disclosure"' pair/CAN/audit.log >disc.log || fail "no disclosure in CAN's log"
sum=$(sed 's/.*crossings store_id [0-9]*\.\.[0-9]* (\([0-9]*\) rows).*/\1/' disc.log | awk "{s += \$1} END {print s}")
[ "$sum" = "$entries" ] || fail "CAN's disclosures count $sum rows, want $entries"
assert_contains disc.log "\"partner\":\"USA\"" "CAN's disclosures"
curl -sS -o m.txt --cacert pair/USA/ca/ca.pem "$(url USA)/metrics"
assert_contains m.txt "^perimeter_feed_received_rows_total $entries\$"

# a leaf connection with a certificate of another CA is refused by CAN's server
"$bin" init --country MEX --partner CAN --port 1 --partner-port 2 other >/dev/null
cat >rogue.conf <<EOF
listen: 127.0.0.1:-1
leafnodes {
  remotes [ { url: "nats-leaf://USA:$pw_leaf@127.0.0.1:$port_leaf"
    tls { cert_file: "$here/other/MEX/node.pem", key_file: "$here/other/MEX/node.key",
          ca_file: "$here/pair/USA/partners/CAN-ca.pem" } } ]
}
EOF
"$nats_prog" -c rogue.conf -l rogue.log &
rogue=$!
node_pids+=("$rogue")
sleep 2
kill "$rogue"; wait "$rogue" 2>/dev/null || true
# (Go's TLS client offers no certificate the server's CA list does not name,
# so CAN's server sees none and ends the handshake; the link never binds)
assert_contains nats-CAN/server.log "TLS leafnode handshake error" "CAN's server log"
assert_contains rogue.log "Leafnode connection closed" "the rogue server's log"
assert_not_contains rogue.log "account: EXCH" "the rogue server's log"

stop_node USA
[ "$node_rc" = 0 ] || fail "USA exit $node_rc"
stop_node CAN
[ "$node_rc" = 0 ] || fail "CAN exit $node_rc"
echo "node_jetstream: $entries entries over JetStream, once, across restarts of both servers"
