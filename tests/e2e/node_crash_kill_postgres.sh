#!/usr/bin/env bash
# Crash safety of a PostgreSQL-backed node (issue 18): scripts/crash_harness.py
# --db postgresql puts CAN's store in a throwaway cluster (tests/pg_env.sh, its
# own data directory and loopback port, stopped at the end) and runs the same
# kills and checks as node_crash_kill.sh (imports, enrolments, console logins
# and review decisions, partner queries, the feed to USA): a few kills here.
# PostgreSQL not installed: skip (a failure under CI, as pg_start does).
# ctest-label: heavy (about 1 min here)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
src=${PERIMETER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
kills=${PM_CRASH_KILLS:-6}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # the cluster runs as another user when we are root: it must reach its data dir
require_postgres
rc=0
python3 "$src/scripts/crash_harness.py" --bin "$bin" --db postgresql --kills "$kills" \
    --rows 3000 --fingers 2 --reviews 40 --seed 18 --dir "$tmp/h" >"$tmp/summary.json" 2>"$tmp/err.txt" || rc=$?
cat "$tmp/summary.json"
[ "$rc" = 0 ] || fail "harness exit $rc: $(cat "$tmp/err.txt")"
[ "$(jq -r '.db' "$tmp/summary.json")" = postgresql ] || fail "not a PostgreSQL run"
[ "$(jq '.kill_points' "$tmp/summary.json")" -ge "$kills" ] || fail "fewer than $kills kill points"
[ "$(jq '.losses | length' "$tmp/summary.json")" = 0 ] || fail "losses: $(jq -c .losses "$tmp/summary.json")"
for k in import_rows enrolments queries review_decisions; do
    [ "$(jq ".acknowledged.$k" "$tmp/summary.json")" -gt 0 ] || fail "no acknowledged $k"
done
[ "$(jq '.feed_entries_at_usa' "$tmp/summary.json")" -gt 0 ] || fail "the feed delivered nothing"
echo "node_crash_kill_postgres: $kills kill points on a PostgreSQL-backed CAN, nothing acknowledged lost or doubled"
