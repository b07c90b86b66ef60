#!/usr/bin/env bash
# crossings import/export, the partner feed (their entry = our exit), history.
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }

# Two countries' sample entries/exits (deterministic).
"$bin" bench ingest --rows 2000 --seed 11 --country CAN --write-csv can.csv
"$bin" bench ingest --rows 1500 --seed 12 --country USA --write-jsonl usa.jsonl

# Import, then import again: nothing new, exit 0.
"$bin" crossings import --db can.db can.csv 2>log || fail "import rc $?"
grep -q '2000 rows, 2000 stored' log || fail "first import: $(cat log)"
"$bin" crossings import --db can.db can.csv 2>log || fail "re-import rc $?"
grep -q '2000 rows, 0 stored, 2000 already present' log || fail "re-import: $(cat log)"
# stdin needs --format; $PERIMETER_DB is the default database
PERIMETER_DB=usa.db "$bin" crossings import --format jsonl - <usa.jsonl 2>log || fail "stdin import"
grep -q '1500 stored' log || fail "stdin import: $(cat log)"
rc=0; "$bin" crossings import --db usa.db - <usa.jsonl 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "stdin without --format: rc $rc, want 2"

# Bad rows: reported with line, field and reason; good rows stored; exit 1.
{ head -3 can.csv
  sed -n 4p can.csv | sed 's/,CAN,entry,/,CAN,sideways,/; s/,CAN,exit,/,CAN,sideways,/'
  sed -n 5p can.csv | sed -E 's/,[0-9]{4}-[0-9]{2}-[0-9]{2},([A-Z]{3}),([MFX]),/,1970-02-30,\1,\2,/'
  sed -n 6,8p can.csv; } >bad.csv
rc=0; "$bin" crossings import --db bad.db bad.csv 2>log || rc=$?
[ "$rc" = 1 ] || fail "bad rows: rc $rc, want 1"
grep -q 'line 4: direction: ' log || fail "no line-4 direction message: $(cat log)"
grep -q 'line 5: date_of_birth: .*does not exist' log || fail "no line-5 date message: $(cat log)"
grep -q '7 rows, 5 stored, 0 already present, 2 rejected' log || fail "bad summary: $(cat log)"
# --strict stores nothing
rc=0; "$bin" crossings import --db strict.db --strict bad.csv 2>log || rc=$?
[ "$rc" = 1 ] || fail "strict: rc $rc"
grep -q 'strict: nothing stored' log || fail "strict summary: $(cat log)"
"$bin" crossings export --db strict.db 2>/dev/null >strict.jsonl
[ -s strict.jsonl ] && fail "strict stored rows"

# Export our entries as the feed; cursor resumes.
"$bin" crossings export --db can.db --since 0 -o feed1.jsonl 2>log
n_feed=$(wc -l <feed1.jsonl)
n_can_entries=$(awk -F, 'NR > 1 && $3 == "entry"' can.csv | wc -l)
[ "$n_feed" = "$n_can_entries" ] || fail "feed has $n_feed lines, CAN has $n_can_entries entries"
grep -q '"direction":"exit"' feed1.jsonl && fail "feed contains exits"
last=$(tail -1 feed1.jsonl | sed 's/.*"cursor":\([0-9]*\)}/\1/')
grep -q "next: --since $last" log || fail "cursor message: $(cat log)"
mid=$(sed -n 10p feed1.jsonl | sed 's/.*"cursor":\([0-9]*\)}/\1/')
"$bin" crossings export --db can.db --since "$mid" 2>/dev/null >feed2.jsonl
[ "$(wc -l <feed2.jsonl)" = $((n_feed - 10)) ] || fail "--since $mid did not resume after line 10"
"$bin" crossings export --db can.db --since "$last" 2>/dev/null >feed3.jsonl
[ -s feed3.jsonl ] && fail "feed past the end"

# USA imports CAN's feed: CAN entries become USA's exits, tagged CAN.
"$bin" crossings import --db usa.db --from-partner CAN feed1.jsonl 2>log || fail "partner import: $(cat log)"
grep -q "$n_feed stored" log || fail "partner import: $(cat log)"
grep -q "partner CAN feed cursor $last (stored)" log || fail "partner cursor: $(cat log)"
"$bin" crossings stats --db usa.db >stats.txt
grep -q "feed of CAN read up to *$last\$" stats.txt || fail "stats cursor"
"$bin" crossings stats --db usa.db --json >stats.json
grep -q "\"partner_cursors\":{\"CAN\":$last}" stats.json || fail "stats json"
"$bin" crossings import --db usa.db --from-partner CAN feed1.jsonl 2>log || fail "partner re-import"
grep -q ", 0 stored" log || fail "partner re-import stored rows: $(cat log)"
# USA's own feed does not forward CAN's data (onward transfer).
"$bin" crossings export --db usa.db 2>/dev/null >usa_feed.jsonl
[ -s usa_feed.jsonl ] || fail "USA exported no feed"
grep -q '"reporting_country":"CAN"' usa_feed.jsonl && fail "forwarded partner data"
# A feed whose rows are not the partner's entries is rejected row by row.
rc=0; "$bin" crossings import --db usa.db --from-partner MEX feed1.jsonl 2>log || rc=$?
[ "$rc" = 1 ] || fail "wrong partner: rc $rc"
grep -q "reporting_country: 'CAN' in the feed of partner MEX" log || fail "wrong partner msg"

# History: a document crossing both ways shows CAN's entry as a USA exit.
# a document that entered CAN more than once
sed 's/.*"document_number":"\([A-Z0-9]*\)","document_issuer":"\([A-Z]*\)".*/\1 \2/' feed1.jsonl |
  sort | uniq -c | sort -k1,1nr >docs.txt
top=$(awk 'NR == 1 { print $2 }' docs.txt)
row=$(grep -m1 "\"document_number\":\"$top\"" feed1.jsonl)
doc=$(echo "$row" | sed 's/.*"document_number":"\([A-Z0-9]*\)".*/\1/')
iss=$(echo "$row" | sed 's/.*"document_issuer":"\([A-Z]*\)".*/\1/')
"$bin" history --db usa.db --document "$doc" --issuer "$iss" >hist.txt
grep -q " exit  CAN .* CAN " hist.txt || fail "history lacks the mirrored exit: $(cat hist.txt)"
# every crossing of that document on the USA side: CAN's entries (as exits) and USA's own
want=$(( $(grep -c "\"document_number\":\"$doc\",\"document_issuer\":\"$iss\"" feed1.jsonl) +
         $(grep -c "\"document_number\":\"$doc\",\"document_issuer\":\"$iss\"" usa.jsonl || true) ))
[ "$want" -ge 2 ] || fail "test data: document $doc crosses only $want times"
[ "$(grep -c " $doc/$iss " hist.txt)" = "$want" ] || fail "history shows $(grep -c " $doc/$iss " hist.txt) of $want crossings"
grep -q "^$want crossings$" hist.txt || fail "history count line: $(tail -1 hist.txt)"
# in time order
awk 'NR > 1 && / [0-9]{4}-/ { print $1 }' hist.txt >times.txt
python3 -c 'import sys,datetime as d; t=[d.datetime.fromisoformat(x.strip()) for x in open("times.txt")]; sys.exit(0 if t==sorted(t) else 1)' \
  || fail "history not in time order"
"$bin" history --db usa.db --document "$doc" --issuer "$iss" --json >hist.json
python3 -c 'import json,sys; d=json.load(open("hist.json")); assert d["count"]>=1 and any(c["origin"]=="CAN" and c["direction"]=="exit" for c in d["crossings"]), d' \
  || fail "history --json"
sur=$(echo "$row" | sed 's/.*"surname":"\([^"]*\)".*/\1/')
dob=$(echo "$row" | sed 's/.*"date_of_birth":"\([^"]*\)".*/\1/')
upper=$(echo "$sur" | tr '[:lower:]' '[:upper:]')
"$bin" history --db usa.db --surname "$upper" --dob "$dob" >hist_name.txt
grep -q "$doc" hist_name.txt || fail "history by name+dob"
rc=0; "$bin" history --db usa.db --document X1 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "history without issuer: rc $rc"
rc=0; "$bin" history --db nonexistent.db --document X1 --issuer CAN 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "history on a missing db: rc $rc"
# Two imports into one database at the same time both complete (one writer
# at a time; the other waits for the lock between batches).
"$bin" bench ingest --rows 20000 --seed 21 --country MEX --write-csv m1.csv
"$bin" bench ingest --rows 20000 --seed 22 --country GTM --write-csv m2.csv
"$bin" crossings import --db both.db --batch 500 m1.csv 2>log1 & p1=$!
"$bin" crossings import --db both.db --batch 500 m2.csv 2>log2 & p2=$!
wait $p1 || fail "concurrent import 1: $(cat log1)"
wait $p2 || fail "concurrent import 2: $(cat log2)"
grep -q '20000 stored' log1 && grep -q '20000 stored' log2 || fail "concurrent imports"
"$bin" crossings stats --db both.db --json >both.json
grep -q '"total":40000' both.json || fail "concurrent total"
echo "crossings: ok"
