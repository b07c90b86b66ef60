#!/usr/bin/env bash
# `perimeter link`, the review queue and every report on a PostgreSQL store
# (a throwaway cluster this test starts and stops) give the same answers as
# on SQLite for the same crossings: a generated population imported into
# both (our entries and a partner's), linked on both, a review pair accepted
# on both, linked again, then reconcile, overstays, presence, history and
# removals compared byte for byte. ~26 s on a loaded 2-core machine:
# ctest-label: heavy
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
pg_scratch
pg=$(pg_createdb linked)
sq="$tmp/linked.db"

"$bin" synth crossings --people 1500 --days 60 --seed 21 --noise 0.05 -o x.csv \
    --truth t.csv >/dev/null 2>&1
(head -1 x.csv; awk -F, 'NR > 1 && $2 == "CAN"' x.csv) >can.csv
(head -1 x.csv; awk -F, 'NR > 1 && $2 == "USA"' x.csv) >usa.csv
[ "$(wc -l <can.csv)" -gt 1000 ] && [ "$(wc -l <usa.csv)" -gt 1000 ] || fail "generated too few rows"
# two removal orders for people of the file (surname, given names, dob, document)
{
    echo order_id,surname,given_names,date_of_birth,document_number,order_date
    awk -F, 'NR == 2 || NR == 50 { printf "O%d,%s,%s,%s,%s,2026-01-01\n", NR, $7, $8, $10, $14 }' can.csv
} >orders.csv

for db in "$sq" "$pg"; do
    "$bin" crossings import --db "$db" can.csv 2>log || fail "import into $db: $(cat log)"
    "$bin" crossings import --db "$db" --from-partner USA usa.csv 2>log \
        || fail "partner import into $db: $(cat log)"
done
"$bin" link --db "$sq" --em 0 --json >link_sq.json 2>err || fail "link on SQLite: $(cat err)"
"$bin" link --db "$pg" --em 0 --json >link_pg.json 2>err || fail "link on PostgreSQL: $(cat err)"
for k in records travellers merges review_pairs; do
    [ "$(jq ".$k" link_pg.json)" = "$(jq ".$k" link_sq.json)" ] \
        || fail "link $k: PostgreSQL $(jq ".$k" link_pg.json), SQLite $(jq ".$k" link_sq.json)"
done
[ "$(jq .travellers link_pg.json)" -gt 500 ] || fail "too few travellers: $(cat link_pg.json)"
[ "$(jq .review_pairs link_pg.json)" -gt 0 ] || fail "no review pair to decide: $(cat link_pg.json)"

# the review queue: the same pairs; the first accepted on both, then a rerun keeps it
"$bin" review --db "$sq" --status all --json >rev_sq.json
"$bin" review --db "$pg" --status all --json >rev_pg.json
cmp -s rev_sq.json rev_pg.json || { diff rev_sq.json rev_pg.json | head; fail "review queues differ"; }
rid=$(jq '.[0].id' rev_pg.json)
for db in "$sq" "$pg"; do
    "$bin" review --db "$db" --accept "$rid" >/dev/null 2>err || fail "accept on $db: $(cat err)"
    rc=0; "$bin" review --db "$db" --accept "$rid" >/dev/null 2>err || rc=$?
    [ "$rc" != 0 ] || fail "a pair accepted twice on $db"
    "$bin" link --db "$db" --em 0 >/dev/null 2>err || fail "second link on $db: $(cat err)"
done
"$bin" review --db "$pg" --status accepted --json >acc_pg.json
[ "$(jq length acc_pg.json)" = 1 ] || fail "accepted pairs on PostgreSQL: $(cat acc_pg.json)"

# every report, both backends, byte for byte
run_reports() { # DB SUFFIX
    "$bin" report reconcile --db "$1" --all --csv >"rec_$2.csv"
    "$bin" report overstays --db "$1" --as-of 2026-06-01 --stay USA=0 --csv >"over_$2.csv"
    "$bin" report presence --db "$1" --all --as-of 2026-06-01 --years 1 --required 30 \
        --csv >"pres_$2.csv"
    "$bin" report history --db "$1" --traveller 1 --csv >"hist_$2.csv"
    "$bin" report removals --db "$1" --orders orders.csv --csv >"rem_$2.csv"
}
run_reports "$sq" sq 2>err || fail "reports on SQLite: $(cat err)"
run_reports "$pg" pg 2>err || fail "reports on PostgreSQL: $(cat err)"
for r in rec over pres hist rem; do
    [ "$(wc -l <"${r}_pg.csv")" -gt 1 ] || fail "report $r on PostgreSQL is empty"
    cmp -s "${r}_sq.csv" "${r}_pg.csv" || { diff "${r}_sq.csv" "${r}_pg.csv" | head; fail "report $r differs"; }
done
echo "link_postgres: ok"
