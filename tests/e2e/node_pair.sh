#!/usr/bin/env bash
# Two real nodes (CAN, USA) on 127.0.0.1: crossings posted to CAN arrive at USA
# as exits exactly once (the push feed, at-least-once + idempotent receiver);
# the pull route serves the same feed; a partner query goes officer -> CAN ->
# USA over mutual TLS; SIGTERM stops a node cleanly.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

make_pair
start_node CAN
start_node USA
tok=$(officer_token CAN)
[ ${#tok} = 64 ] || fail "login gave no token: $tok"

"$bin" bench ingest --rows 3000 --seed 7 --country CAN --write-jsonl can.jsonl
"$bin" bench ingest --rows 500 --seed 8 --country CAN --write-csv more.csv
curl -sS -o post.json -w '%{http_code}' --cacert pair/CAN/ca/ca.pem \
    -H "Authorization: Bearer $tok" -H 'Content-Type: application/x-ndjson' \
    --data-binary @can.jsonl "$(url CAN)/v1/crossings" >code
[ "$(cat code)" = 200 ] || fail "POST crossings: $(cat code) $(cat post.json)"
[ "$(jq .stored post.json)" = 3000 ] || fail "stored: $(cat post.json)"
# CSV too, and a bad row reported with its line and field
{ cat more.csv; sed -n 2p more.csv | sed 's/,CAN,entry,/,CAN,sideways,/; s/,CAN,exit,/,CAN,sideways,/'; } >more_bad.csv
# the officer's client command: the node imports, bad rows come back with line and field
rc=0
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json more_bad.csv 2>imp.err || rc=$?
[ "$rc" = 1 ] || fail "officer import with a bad row: rc $rc ($(cat imp.err))"
assert_contains imp.err 'rejected: line 502: direction: '
assert_contains imp.err '501 rows, 500 stored, 0 already present, 1 rejected'
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json more.csv 2>imp2.err \
    || fail "officer import again: $(cat imp2.err)"
assert_contains imp2.err '500 rows, 0 stored, 500 already present, 0 rejected'
rc=0
PERIMETER_TOKEN=nonsense "$bin" officer import --config pair/CAN/node.json more.csv 2>imp3.err || rc=$?
[ "$rc" = 1 ] || fail "officer import with a bad token: rc $rc"
assert_contains imp3.err '401 token_invalid'

entries=$(crossing_stat CAN our_entries)
[ "$entries" -gt 1000 ] || fail "CAN has only $entries entries"
arrived() { [ "$(crossing_stat USA partner_exits)" = "$entries" ]; }
wait_until 60 arrived || fail "USA has $(crossing_stat USA partner_exits) of $entries exits: $(cat CAN.log)"

curl -sS -o metrics.txt --cacert pair/USA/ca/ca.pem "$(url USA)/metrics"
assert_contains metrics.txt "^perimeter_feed_received_rows_total $entries\$"
curl -sS -o metrics_can.txt --cacert pair/CAN/ca/ca.pem "$(url CAN)/metrics"
assert_contains metrics_can.txt "^perimeter_feed_pushed_rows_total $entries\$"
assert_contains metrics_can.txt '^perimeter_feed_lag_ids\{partner="USA"\} 0$'
code=$(curl -sS -o ready.json -w '%{http_code}' --cacert pair/CAN/ca/ca.pem "$(url CAN)/ready")
[ "$code" = 200 ] && [ "$(jq .ready ready.json)" = true ] || fail "ready: $code $(cat ready.json)"

# Posting the same file again stores nothing new and sends nothing twice.
curl -sS -o post3.json --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/x-ndjson' --data-binary @can.jsonl "$(url CAN)/v1/crossings"
[ "$(jq .duplicates post3.json)" = 3000 ] || fail "re-post: $(cat post3.json)"
sleep 1.5
[ "$(crossing_stat USA partner_exits)" = "$entries" ] || fail "USA count changed after a re-post"
[ "$(crossing_stat USA our_entries)" = 0 ] || fail "partner entries stored as entries"
sqlite3 pair/USA/perimeter.db "SELECT count(*), count(DISTINCT record_id) FROM crossing
    WHERE origin = 'CAN' AND direction = 2" >dist.txt
[ "$(cat dist.txt)" = "$entries|$entries" ] || fail "USA exits: $(cat dist.txt), want $entries"

# The officer sees the feed state: nothing pending, a cursor acknowledged.
PERIMETER_TOKEN=$tok "$bin" partner feed-status --config pair/CAN/node.json --json >fs.json \
    || fail "feed-status"
[ "$(jq '.partners[0].push_pending' fs.json)" = 0 ] || fail "pending: $(cat fs.json)"
[ "$(jq '.partners[0].push_acked' fs.json)" -gt 0 ] && \
  [ "$(jq '.partners[0].push_acked' fs.json)" -le "$(jq '.partners[0].store_max' fs.json)" ] \
    || fail "acked: $(cat fs.json)"
PERIMETER_TOKEN=$tok "$bin" partner feed-status --config pair/CAN/node.json >fs.txt
assert_contains fs.txt '^USA +push'

# Pull: USA may read CAN's entries after a cursor (mutual TLS, USA's certificate).
curl -sS -o pull.jsonl -w '%{http_code}' --cacert pair/CAN/ca/ca.pem --cert pair/USA/node.pem \
    --key pair/USA/node.key -H "$agr" "$(url CAN)/v1/partner/feed?since=0&limit=10" >code
[ "$(cat code)" = 200 ] || fail "pull: $(cat code)"
[ "$(wc -l <pull.jsonl)" = 10 ] || fail "pull gave $(wc -l <pull.jsonl) lines"
jq -e 'select(.direction != "entry" or .reporting_country != "CAN")' pull.jsonl >bad.txt && \
    fail "pull carried something other than CAN entries"
last=$(tail -1 pull.jsonl | jq .cursor)
curl -sS -o pull2.jsonl --cacert pair/CAN/ca/ca.pem --cert pair/USA/node.pem \
    --key pair/USA/node.key -H "$agr" "$(url CAN)/v1/partner/feed?since=$last&limit=5"
[ "$(head -1 pull2.jsonl | jq .cursor)" -gt "$last" ] || fail "pull after $last"

# Biographic query: officer -> CAN -> USA. Names exist in USA only as exits from
# CAN, which a partner never gets back (R11), so USA has no record of its own:
# "no match". Then a USA entry of a third-country national is found.
name=$(sed -n 1p can.jsonl | jq -r .surname)
dob=$(sed -n 1p can.jsonl | jq -r .date_of_birth)
PERIMETER_TOKEN=$tok "$bin" partner query --config pair/CAN/node.json --partner USA \
    --purpose ASYLUM --surname "$name" --dob "$dob" --json >q.json || fail "query: $(cat q.json)"
[ "$(jq -r .result q.json)" = no_match ] || fail "query: $(cat q.json)"
rc=0
PERIMETER_TOKEN=$tok "$bin" partner query --config pair/CAN/node.json --partner USA \
    --purpose SHOPPING --surname "$name" --dob "$dob" --json >q2.json 2>q2.err || rc=$?
[ "$rc" = 1 ] || fail "unlisted purpose: rc $rc"
assert_contains q2.err 'policy_refused'

# A USA entry of a third-country national is disclosed (allowed fields only);
# one of a CAN or USA citizen never is (R2): it answers exactly like no record.
"$bin" bench ingest --rows 400 --seed 9 --country USA --write-jsonl usa.jsonl
tok_usa=$(officer_token USA)
curl -sS -o post4.json --cacert pair/USA/ca/ca.pem -H "Authorization: Bearer $tok_usa" \
    -H 'Content-Type: application/x-ndjson' --data-binary @usa.jsonl "$(url USA)/v1/crossings"
[ "$(jq .stored post4.json)" = 400 ] || fail "USA post: $(cat post4.json)"
jq -c -n 'first(inputs | select(.citizenship != "USA" and .citizenship != "CAN" and
    (.date_of_birth | length) == 10))' usa.jsonl >foreign.json
jq -c -n 'first(inputs | select(.citizenship == "USA" and (.date_of_birth | length) == 10))' \
    usa.jsonl >citizen.json
[ -s foreign.json ] && [ -s citizen.json ] || fail "sample rows lack a foreign national or a citizen"
PERIMETER_TOKEN=$tok "$bin" partner query --config pair/CAN/node.json --partner USA \
    --purpose IMMIGRATION --surname "$(jq -r .surname foreign.json)" \
    --dob "$(jq -r .date_of_birth foreign.json)" --json >q3.json || fail "query 3: $(cat q3.json)"
[ "$(jq -r .result q3.json)" = match ] || fail "foreign national not found: $(cat q3.json)"
[ "$(jq -r '.crossings[0] | keys | join(",")' q3.json)" = \
  "citizenship,crossing_time,direction,document_type,mode,port" ] || fail "fields: $(cat q3.json)"
PERIMETER_TOKEN=$tok "$bin" partner query --config pair/CAN/node.json --partner USA \
    --purpose IMMIGRATION --surname "$(jq -r .surname citizen.json)" \
    --dob "$(jq -r .date_of_birth citizen.json)" --json >q4.json || fail "query 4: $(cat q4.json)"
[ "$(jq -r .result q4.json)" = no_match ] || fail "a citizen was disclosed: $(cat q4.json)"

# A biometric probe through our node: USA reads it and says plainly that it
# holds no fingerprint (a 16x16 grey square), never a made-up "no match".
python3 - <<'PY' >probe.png
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
raw = b"".join(b"\0" + bytes([200] * 16) for _ in range(16))
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0))
                        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY
rc=0
PERIMETER_TOKEN=$tok "$bin" partner query --config pair/CAN/node.json --partner USA \
    --purpose ASYLUM --probe probe.png --format png 2>bio.err >bio.out || rc=$?
[ "$rc" = 1 ] || fail "biometric query: rc $rc"
assert_contains bio.err '422 probe_invalid'

# SIGTERM drains: an import in flight when the signal arrives is finished,
# answered and committed before the node exits.
"$bin" bench ingest --rows 60000 --seed 10 --country CAN --write-jsonl late.jsonl
curl -sS -o late.json -w '%{http_code}' --cacert pair/CAN/ca/ca.pem \
    -H "Authorization: Bearer $tok" -H 'Content-Type: application/x-ndjson' \
    --data-binary @late.jsonl "$(url CAN)/v1/crossings" >late.code 2>late.err &
curl_pid=$!
in_flight() {
    curl -sS -o m.txt --cacert pair/CAN/ca/ca.pem "$(url CAN)/metrics" || return 1
    [ "$(sed -n 's/^perimeter_http_requests_in_flight //p' m.txt)" -ge 2 ]
}
wait_until 30 in_flight || fail "the import never showed as in flight"
stop_node CAN
[ "$node_rc" = 0 ] || fail "CAN exit $node_rc after draining"
wait "$curl_pid" || fail "the import in flight failed: $(cat late.err)"
[ "$(cat late.code)" = 200 ] && [ "$(jq .stored late.json)" = 60000 ] \
    || fail "the import in flight: $(cat late.code) $(cat late.json)"
sqlite3 pair/CAN/perimeter.db "SELECT count(*) FROM crossing WHERE record_id LIKE 'CAN-10-%'" >late.count
[ "$(cat late.count)" = 60000 ] || fail "after the drain CAN holds $(cat late.count) of 60000"
assert_contains CAN.log 'SIGTERM: draining'

# SIGTERM: both stopped cleanly (exit 0) and say so.
stop_node USA
[ "$node_rc" = 0 ] || fail "USA exit $node_rc"
assert_contains CAN.log 'node CAN stopped'
echo "node_pair: $entries entries arrived once"
