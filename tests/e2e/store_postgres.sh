#!/usr/bin/env bash
# The CLI on a PostgreSQL store (`--db postgresql://...`, a throwaway cluster
# this test starts and stops): import (idempotent), export, history and stats
# give the same answers as on SQLite for the same files; two concurrent
# imports into one database both complete; link runs on it; serve refuses clearly.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
pg_scratch
can=$(pg_createdb can)
usa=$(pg_createdb usa)
both=$(pg_createdb twoimports)

"$bin" bench ingest --rows 3000 --seed 11 --country CAN --write-csv can.csv
"$bin" bench ingest --rows 1500 --seed 12 --country USA --write-jsonl usa.jsonl

for db in "$can" can.db; do
    "$bin" crossings import --db "$db" can.csv 2>log || fail "import into $db: $(cat log)"
    assert_contains log '3000 rows, 3000 stored' "first import into $db"
    "$bin" crossings import --db "$db" can.csv 2>log || fail "re-import into $db"
    assert_contains log '3000 rows, 0 stored, 3000 already present' "re-import into $db"
done
# the same feed (records and cursors) from both backends
"$bin" crossings export --db "$can" --since 0 -o feed_pg.jsonl 2>/dev/null
"$bin" crossings export --db can.db --since 0 -o feed_sq.jsonl 2>/dev/null
[ -s feed_pg.jsonl ] || fail "empty feed from PostgreSQL"
cmp -s feed_pg.jsonl feed_sq.jsonl || fail "feeds differ between PostgreSQL and SQLite"
mid=$(sed -n 100p feed_pg.jsonl | sed 's/.*"cursor":\([0-9]*\)}/\1/')
"$bin" crossings export --db "$can" --since "$mid" -o feed_tail.jsonl 2>/dev/null
[ "$(wc -l <feed_tail.jsonl)" = $(( $(wc -l <feed_pg.jsonl) - 100 )) ] || fail "--since on PostgreSQL"

# the partner's side: CAN's entries become USA's exits, cursor stored
PERIMETER_DB="$usa" "$bin" crossings import --format jsonl - <usa.jsonl 2>log || fail "stdin import: $(cat log)"
assert_contains log '1500 stored'
"$bin" crossings import --db "$usa" --from-partner CAN feed_pg.jsonl 2>log || fail "partner import: $(cat log)"
last=$(tail -1 feed_pg.jsonl | sed 's/.*"cursor":\([0-9]*\)}/\1/')
assert_contains log "partner CAN feed cursor $last \\(stored\\)"
"$bin" crossings stats --db "$usa" --json >stats.json
assert_contains stats.json "\"partner_cursors\":\\{\"CAN\":$last\\}"
"$bin" crossings import --db usa.db --format jsonl - <usa.jsonl 2>/dev/null
"$bin" crossings import --db usa.db --from-partner CAN feed_sq.jsonl 2>/dev/null
"$bin" crossings stats --db usa.db --json >stats_sq.json
cmp -s stats.json stats_sq.json || fail "stats differ: $(cat stats.json) vs $(cat stats_sq.json)"

# history by document and by name + date of birth: the same on both
row=$(sed -n 7p feed_pg.jsonl)
doc=$(echo "$row" | sed 's/.*"document_number":"\([A-Z0-9]*\)".*/\1/')
iss=$(echo "$row" | sed 's/.*"document_issuer":"\([A-Z]*\)".*/\1/')
sur=$(echo "$row" | sed 's/.*"surname":"\([^"]*\)".*/\1/')
dob=$(echo "$row" | sed 's/.*"date_of_birth":"\([^"]*\)".*/\1/')
"$bin" history --db "$usa" --document "$doc" --issuer "$iss" >h_pg.txt
"$bin" history --db usa.db --document "$doc" --issuer "$iss" >h_sq.txt
assert_contains h_pg.txt " exit  CAN " "history on PostgreSQL"
cmp -s h_pg.txt h_sq.txt || fail "history by document differs"
"$bin" history --db "$usa" --surname "$sur" --dob "$dob" >n_pg.txt
"$bin" history --db usa.db --surname "$sur" --dob "$dob" >n_sq.txt
assert_contains n_pg.txt "$doc"
cmp -s n_pg.txt n_sq.txt || fail "history by name differs"

# two imports into one database at once: both complete (one writer at a time)
"$bin" bench ingest --rows 8000 --seed 21 --country MEX --write-csv m1.csv
"$bin" bench ingest --rows 8000 --seed 22 --country GTM --write-csv m2.csv
"$bin" crossings import --db "$both" --batch 500 m1.csv 2>log1 & p1=$!
"$bin" crossings import --db "$both" --batch 500 m2.csv 2>log2 & p2=$!
wait $p1 || fail "concurrent import 1: $(cat log1)"
wait $p2 || fail "concurrent import 2: $(cat log2)"
assert_contains log1 "8000 stored"
assert_contains log2 "8000 stored"
"$bin" crossings stats --db "$both" --json >both.json
assert_contains both.json '"total":16000'

# the gallery's tables are on PostgreSQL too (query API)
"$bin" gallery stats --db "$can" >out 2>err || fail "gallery stats on PostgreSQL: $(cat err)"
# the link module's tables are on PostgreSQL too (query API)
# (the same records, travellers and review pairs as on SQLite)
"$bin" link --db "$can" --em 0 --json >link_pg.json 2>err || fail "link on PostgreSQL: $(cat err)"
"$bin" link --db can.db --em 0 --json >link_sq.json 2>err || fail "link on SQLite: $(cat err)"
assert_contains link_pg.json '"records": 3000'
for k in records travellers merges review_pairs; do
    [ "$(jq ".$k" link_pg.json)" = "$(jq ".$k" link_sq.json)" ] || fail "link $k differs"
done
# officer accounts (the node's tables through the query API) work on
# PostgreSQL (the whole node on PostgreSQL: e2e node_pair_postgres)
nodedb=$(pg_createdb node)
"$bin" init --country CAN --partner USA --port 1 --partner-port 2 pair >init.log \
    || fail "init: $(cat init.log)"
jq --arg db "$nodedb" '.store = $db' pair/CAN/node.json >node.json.new
mv node.json.new pair/CAN/node.json
echo 'pg officer pass' | "$bin" officer add --config pair/CAN/node.json --role supervisor \
    ana >out 2>err || fail "officer add on PostgreSQL: $(cat err)"
rc=0; echo 'pg officer pass' | "$bin" officer add --config pair/CAN/node.json \
    ana >out 2>err || rc=$?
[ "$rc" != 0 ] || fail "a second officer ana was accepted"
assert_contains err 'exists'
# a database that does not exist
rc=0; "$bin" crossings stats --db "${PG_URI%/*}/nope" >out 2>err || rc=$?
[ "$rc" != 0 ] || fail "stats on a missing database succeeded"
assert_contains err 'does not exist'
echo "store_postgres: ok"
