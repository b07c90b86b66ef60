#!/usr/bin/env bash
# The feed survives crashes: CAN pushes 100,000 entries to USA; USA is killed
# with SIGKILL in the middle of the feed and restarted, then CAN (the sender)
# is killed the same way and restarted. In the end USA holds every entry
# exactly once as an exit: nothing lost (CAN resumes from its stored cursor and
# retries with backoff while USA is down), nothing duplicated (USA's import
# is idempotent; at-least-once delivery re-sends what was not acknowledged).
# ctest-label: heavy (about 17 s here, several times that under ASan)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

N=100000
make_pair
# small pushes so that the feed takes a few seconds and a kill lands inside it
jq '.limits.feed_batch = 1000' pair/CAN/node.json >cfg.json && mv cfg.json pair/CAN/node.json
"$bin" bench ingest --rows $N --seed 21 --country CAN --write-jsonl rows.jsonl
sed 's/"direction":"exit"/"direction":"entry"/' rows.jsonl >entries.jsonl
"$bin" crossings import --db pair/CAN/perimeter.db entries.jsonl 2>import.log || fail "import: $(cat import.log)"
[ "$(crossing_stat CAN our_entries)" = $N ] || fail "CAN has $(crossing_stat CAN our_entries) entries"

cursor_usa() { # how far USA stored CAN's feed
    sqlite3 -cmd '.timeout 5000' pair/USA/perimeter.db "SELECT feed_cursor FROM partner WHERE code = 'CAN'" 2>/dev/null || echo 0
}
exits_usa() {
    sqlite3 -cmd '.timeout 5000' pair/USA/perimeter.db "SELECT count(*) FROM crossing WHERE origin = 'CAN'"
}
past() { local c; c=$(cursor_usa); [ "${c:-0}" -ge "$1" ]; }

start_node USA
start_node CAN
wait_until 60 past 20000 || fail "the feed did not start: $(tail -5 CAN.log)"
stop_node USA KILL
c1=$(cursor_usa)
[ "$c1" -lt $N ] || fail "USA had the whole feed before the kill; nothing was tested"
echo "USA killed at cursor $c1"
sleep 2 # CAN keeps trying and backs off
grep -q 'feed to USA failed' CAN.log || fail "CAN did not notice USA was down"
start_node USA
wait_until 60 past $((c1 + 20000)) || fail "the feed did not resume: $(tail -5 CAN.log)"
stop_node CAN KILL
c2=$(cursor_usa)
[ "$c2" -lt $N ] || fail "USA had the whole feed before CAN was killed; nothing was tested"
echo "CAN killed at cursor $c2"
start_node CAN
done_all() { [ "$(exits_usa)" -ge $N ]; }
wait_until 120 done_all || fail "USA has $(exits_usa) of $N"
sleep 1
sqlite3 pair/USA/perimeter.db "SELECT count(*), count(DISTINCT record_id), min(direction), max(direction)
    FROM crossing WHERE origin = 'CAN'" >final.txt
[ "$(cat final.txt)" = "$N|$N|2|2" ] || fail "USA holds $(cat final.txt), want $N|$N|2|2"
# every record id CAN sent is there (not just the count)
sqlite3 pair/CAN/perimeter.db "SELECT record_id FROM crossing ORDER BY record_id" >sent.txt
sqlite3 pair/USA/perimeter.db "SELECT record_id FROM crossing WHERE origin = 'CAN' ORDER BY record_id" >got.txt
cmp -s sent.txt got.txt || fail "record ids differ between CAN and USA"
tok=$(officer_token CAN)
PERIMETER_TOKEN=$tok "$bin" partner feed-status --config pair/CAN/node.json --json >fs.json
[ "$(jq '.partners[0].push_pending' fs.json)" = 0 ] || fail "pending: $(cat fs.json)"
stop_node CAN
[ "$node_rc" = 0 ] || fail "exit $node_rc at the end"
stop_node USA
[ "$node_rc" = 0 ] || fail "exit $node_rc at the end"
echo "node_crash: $N entries, USA killed at $c1, CAN killed at $c2, all arrived once"
