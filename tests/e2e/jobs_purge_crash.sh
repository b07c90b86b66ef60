#!/usr/bin/env bash
# The retention purge survives SIGKILL: a purge of small batches is killed
# part-way (three times, at different moments), then run to the end. Every
# crossing is gone, every one is named in exactly one R9 tombstone (none
# lost, none twice), and the log verifies intact.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
src=${PERIMETER_SRC:?PERIMETER_SRC not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PERIMETER_DB="$tmp/p.db"
log="$tmp/audit.log"
common=(--agreement "$src/docs/agreement-example.json" --log "$log" --ours CAN --actor purge-job)

"$bin" synth crossings --people 400 --days 60 --seed 9 --start 2026-03-01 -o "$tmp/c.csv" >/dev/null 2>&1
"$bin" crossings import "$tmp/c.csv" >"$tmp/out.txt" 2>&1 || fail "import: $(cat "$tmp/out.txt")"
"$bin" crossings stats >"$tmp/stats.txt"
total=$(sed -nE '0,/^total/s/^total[^0-9]*([0-9]+).*/\1/p' "$tmp/stats.txt")
[ "${total:-0}" -gt 500 ] || fail "too few crossings for the test: ${total:-0}"
late=$(date -u -d 2042-06-01 +%s)
for delay in 0.15 0.3 0.45; do
    "$bin" jobs purge "${common[@]}" --now "$late" --batch 20 >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
"$bin" jobs purge "${common[@]}" --now "$late" --batch 20 >"$tmp/out.txt"
"$bin" crossings stats >"$tmp/stats.txt"
assert_contains "$tmp/stats.txt" '^total[^0-9]*0\b'
# every record named in the R9 tombstones, once
grep -o '"records":\[[^]]*\]' "$log" | sed -e 's/^"records":\[//' -e 's/\]$//' | tr ',' '\n' >"$tmp/named.txt"
named=$(grep -c . "$tmp/named.txt")
[ "$named" = "$total" ] || fail "tombstones name $named records, $total were purged"
sort "$tmp/named.txt" | uniq -d >"$tmp/dups.txt"
[ ! -s "$tmp/dups.txt" ] || fail "records named twice: $(head -3 "$tmp/dups.txt")"
"$bin" audit verify "$log" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^intact: '
