#!/usr/bin/env bash
# An import killed with SIGKILL midway keeps every committed batch; re-running
# it stores each remaining row, and every row ends up stored exactly once.
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
source "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 command not installed (scripts/deps.sh installs it)"
tmp=$(mktemp -d)
writer=
trap '{ [ -z "$writer" ] || kill $writer 2>/dev/null; } || true; rm -rf "$tmp"' EXIT
cd "$tmp"
rows=100000
"$bin" bench ingest --rows $rows --seed 5 --write-csv in.csv
# The kill lands at a deterministic point whatever the machine's speed: the
# importer reads from a pipe that delivers 5,500 rows and then stays open, so
# it commits five batches of 1,000, holds 500 rows in an open transaction and
# waits for input; then it is killed.
mkfifo feed.fifo
{ head -n 5501 in.csv; exec sleep 600; } >feed.fifo 2>/dev/null &
writer=$!
"$bin" crossings import --db c.db --batch 1000 --format csv - <feed.fifo 2>import1.log &
pid=$!
n=0
for _ in $(seq 1 1200); do
  n=$(sqlite3 -cmd '.timeout 2000' c.db 'SELECT count(*) FROM crossing' 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 5000 ] && break
  kill -0 $pid 2>/dev/null || fail "the import ended before the kill: $(cat import1.log)"
  sleep 0.05
done
[ "${n:-0}" -ge 5000 ] || fail "five batches not committed after 60 s ($n rows)"
sleep 0.5   # let it read the last 500 rows into the open transaction
kill -9 $pid
wait $pid 2>/dev/null && fail "the import was not killed"
kill $writer 2>/dev/null || true
before=$(sqlite3 c.db 'SELECT count(*) FROM crossing')
echo "killed after $before rows were committed"
# exactly the five committed batches; the open transaction's 500 rows are gone
[ "$before" = 5000 ] || fail "$before rows after the kill, want the 5000 of the committed batches"
"$bin" crossings import --db c.db --batch 1000 in.csv 2>import2.log || fail "re-run: $(cat import2.log)"
grep -q "$rows rows, $((rows - before)) stored, $before already present, 0 rejected" import2.log \
  || fail "re-run summary: $(cat import2.log)"
total=$(sqlite3 c.db 'SELECT count(*) FROM crossing')
[ "$total" = $rows ] || fail "$total rows stored, want $rows"
# exactly the file's record ids, each once
sqlite3 c.db 'SELECT record_id FROM crossing ORDER BY record_id' >stored.txt
tail -n +2 in.csv | cut -d, -f1 | sort >want.txt
cmp -s stored.txt want.txt || fail "stored record ids differ from the file's"
[ "$(sqlite3 c.db 'PRAGMA integrity_check')" = ok ] || fail "integrity check"
# the lookup tables, written at each commit, match the rows exactly
docs=$(sqlite3 c.db 'SELECT count(*) FROM crossing_doc')
[ "$docs" = $rows ] || fail "$docs document entries, want $rows"
missing=$(sqlite3 c.db 'SELECT count(*) FROM crossing c WHERE NOT EXISTS
  (SELECT 1 FROM crossing_doc d WHERE d.doc_key = c.doc_key AND d.id = c.id)')
[ "$missing" = 0 ] || fail "$missing crossings without their document entry"
# rows on both sides of the kill are found by document and by name + date of birth
full='dob % 100 <> 0 AND dob / 100 % 100 <> 0'
for where in "id <= $before AND $full ORDER BY id DESC" "id > $before AND $full ORDER BY id"; do
  IFS='|' read -r rid sn dob num iss < <(sqlite3 c.db "SELECT record_id, surname,
    printf('%04d-%02d-%02d', dob / 10000, dob / 100 % 100, dob % 100), document_number,
    document_issuer FROM crossing WHERE $where LIMIT 1")
  [ -n "$rid" ] || fail "no row for $where"
  "$bin" history --db c.db --json --document "$num" --issuer "$iss" >h1.json
  grep -q "\"$rid\"" h1.json || fail "$rid not found by document $num/$iss"
  "$bin" history --db c.db --json --surname "$sn" --dob "$dob" >h2.json
  grep -q "\"$rid\"" h2.json || fail "$rid not found by name $sn, $dob"
done
echo "crash_import: ok"
