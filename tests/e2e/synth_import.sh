#!/usr/bin/env bash
# synth crossings -> crossings import: every generated row (noisy ones, native
# scripts, MRZs included) passes the importer's validation; output is
# deterministic; the truth has one row per record; the partner feeds exchange.
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }

"$bin" synth crossings --people 4000 --days 10 --seed 31 --noise 0.1 --split csv \
    --truth truth.csv --people-out people.csv --removals-out orders.csv 2>log \
    || fail "synth rc $?: $(cat log)"
[ -s csv/CAN.csv ] && [ -s csv/USA.csv ] || fail "split files missing"
"$bin" synth crossings --people 4000 --days 10 --seed 31 --noise 0.1 --split jsonl \
    --format jsonl --truth truth2.csv 2>/dev/null || fail "synth jsonl"
cmp -s truth.csv truth2.csv || fail "truth differs between CSV and JSONL runs of one seed"
"$bin" synth crossings --people 4000 --days 10 --seed 31 --noise 0.1 -o all.csv 2>/dev/null
cat csv/CAN.csv > merged.csv; tail -n +2 csv/USA.csv >> merged.csv
[ "$(sort merged.csv | md5sum)" = "$(sort all.csv | md5sum)" ] || fail "split and -o differ"

records=$(( $(wc -l <csv/CAN.csv) + $(wc -l <csv/USA.csv) - 2 ))
[ "$(( $(wc -l <truth.csv) - 1 ))" = "$records" ] || fail "truth rows != records ($records)"
[ "$(( $(wc -l <people.csv) - 1 ))" = 4000 ] || fail "person master rows"
orders=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $c["removal_order"] == 1' people.csv | wc -l)
[ "$orders" -gt 0 ] && [ "$(( $(wc -l <orders.csv) - 1 ))" = "$orders" ] || fail "removal orders ($orders)"
grep -q ',[0-9]*,typo' truth.csv || fail "no noise kinds in the truth"
grep -q '|' csv/CAN.csv || fail "no MRZ column values"

for c in CAN USA; do
    "$bin" crossings import --db "$c.db" "csv/$c.csv" 2>log || fail "$c import rc $?: $(head -5 log)"
    grep -q ' 0 rejected' log || fail "$c: rows rejected: $(head -5 log)"
    "$bin" crossings import --db "$c.jl.db" "jsonl/$c.jsonl" 2>log || fail "$c jsonl import: $(head -5 log)"
    grep -q ' 0 rejected' log || fail "$c jsonl: rows rejected: $(head -5 log)"
    "$bin" crossings import --db "$c.db" "csv/$c.csv" 2>log || fail "$c re-import"
    grep -q ' 0 stored' log || fail "$c re-import stored rows again: $(cat log)"
done

# each side's entries become the other side's exits
"$bin" crossings export --db CAN.db >can_feed.jsonl 2>/dev/null || fail "export"
"$bin" crossings import --db USA.db --from-partner CAN can_feed.jsonl 2>log || fail "feed import: $(head -5 log)"
grep -q ' 0 rejected' log || fail "feed rows rejected: $(head -5 log)"
# watchlist and manifest from the person master
"$bin" synth watchlist --from-people people.csv --size 2000 --hits 25 --seed 3 -o wl.csv \
    --truth wlt.csv 2>/dev/null || fail "synth watchlist"
[ "$(( $(wc -l <wl.csv) - 1 ))" = 2000 ] || fail "watchlist rows"
[ "$(grep -c ',[0-9][0-9]*$' wlt.csv)" = 25 ] || fail "watchlist truth hits"
head -1 wl.csv >"$tmp/out.txt"
grep -q '^watchlist_id,surname,given_names,aliases,date_of_birth,sex,citizenship,document_number,document_issuer,reason$' "$tmp/out.txt" \
    || fail "watchlist header"
"$bin" synth manifest --from-people people.csv --passengers 300 --flights 3 --seed 3 -o man.csv \
    --truth mant.csv 2>/dev/null || fail "synth manifest"
[ "$(( $(wc -l <man.csv) - 1 ))" = 300 ] || fail "manifest rows"
[ "$(cut -d, -f1 man.csv | tail -n +2 | sort -u | wc -l)" = 3 ] || fail "manifest flights"
rc=0; "$bin" synth watchlist --from-people nosuch.csv --size 10 --hits 2 -o x.csv 2>/dev/null || rc=$?
[ "$rc" = 1 ] || fail "missing person master: rc $rc"
rc=0; "$bin" synth crossings --people 10 --days 1 --seed 1 --countries CAN,ZZZ -o x.csv 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "unknown country: rc $rc"
echo "synth_import: ok ($records records)"
