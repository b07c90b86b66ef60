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
echo "crash_import: ok"
