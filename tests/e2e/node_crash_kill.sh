#!/usr/bin/env bash
# Crash safety of the node (issue 18): scripts/crash_harness.py drives CAN with
# imports, enrolments, console actions (supervisor logins, R14 review
# decisions) and partner queries (disclosure-log appends) while CAN's
# feed pushes to USA, SIGKILLs a node at 50 random points (CAN mostly, USA
# every fourth), restarts it each time, then checks every acknowledged write
# is present exactly once, the feed delivered every entry once, the gallery
# the node loads equals the store (and acknowledged subjects verify), and both
# disclosure logs verify. The quick variant is node_crash_kill_quick.sh.
# ctest-label: heavy (about 2-3 min here)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
kills=${PM_CRASH_KILLS:-50}
rows=${PM_CRASH_ROWS:-12000}
fingers=${PM_CRASH_FINGERS:-4}
reviews=${PM_CRASH_REVIEWS:-150}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
python3 "$(dirname "$0")/../../scripts/crash_harness.py" --bin "$bin" --kills "$kills" \
    --rows "$rows" --fingers "$fingers" --reviews "$reviews" --seed 18 --dir "$tmp/h" >"$tmp/summary.json" 2>"$tmp/err.txt" || rc=$?
cat "$tmp/summary.json"
[ "$rc" = 0 ] || fail "harness exit $rc: $(cat "$tmp/err.txt")"
[ "$(jq '.kill_points' "$tmp/summary.json")" -ge "$kills" ] || fail "fewer than $kills kill points"
[ "$(jq '.losses | length' "$tmp/summary.json")" = 0 ] || fail "losses: $(jq -c .losses "$tmp/summary.json")"
# the kills must have hit work: acknowledged writes of every kind, kills with requests in flight
for k in import_rows enrolments queries review_decisions; do
    [ "$(jq ".acknowledged.$k" "$tmp/summary.json")" -gt 0 ] || fail "no acknowledged $k"
done
[ "$(jq '.kills_with_request_in_flight.import' "$tmp/summary.json")" -gt 0 ] ||
    fail "no kill landed during an import"
[ "$(jq '.feed_entries_at_usa' "$tmp/summary.json")" -gt 0 ] || fail "the feed delivered nothing"
echo "node_crash_kill: $kills kill points, nothing acknowledged lost or doubled"
