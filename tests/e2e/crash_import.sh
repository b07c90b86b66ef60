#!/usr/bin/env bash
# An import killed with SIGKILL midway keeps every committed batch; re-running
# it stores each remaining row, and every row ends up stored exactly once.
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 command not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fail() { echo "FAIL: $*"; exit 1; }
rows=100000
"$bin" bench ingest --rows $rows --seed 5 --write-csv in.csv
# Small batches so the kill lands between commits and inside one.
"$bin" crossings import --db c.db --batch 1000 in.csv 2>import1.log &
pid=$!
killed=0
for _ in $(seq 1 600); do
  n=$(sqlite3 -cmd '.timeout 2000' c.db 'SELECT count(*) FROM crossing' 2>/dev/null || echo 0)
  if [ "${n:-0}" -ge 3000 ]; then kill -9 $pid 2>/dev/null && killed=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
wait $pid 2>/dev/null || true
[ "$killed" = 1 ] || { echo "SKIP: the import finished before it could be killed"; exit 77; }
before=$(sqlite3 c.db 'SELECT count(*) FROM crossing')
echo "killed after $before rows were committed"
[ "$before" -lt $rows ] || fail "kill came too late ($before rows)"
[ $((before % 1000)) = 0 ] || fail "$before rows committed: not whole batches"
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
