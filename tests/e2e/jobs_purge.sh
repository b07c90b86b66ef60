#!/usr/bin/env bash
# perimeter jobs purge (R9) and jobs destroy (R7) through the binary: records
# past their retention are deleted and named in purge tombstones, nothing
# younger is touched, a second run changes nothing, received data found
# irrelevant is destroyed with a tombstone, and the log stays intact.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
src=${PERIMETER_SRC:?PERIMETER_SRC not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PERIMETER_DB="$tmp/p.db"
agr="$src/docs/agreement-example.json"
log="$tmp/audit.log"
common=(--agreement "$agr" --log "$log" --ours CAN --actor purge-job)

"$bin" synth crossings --people 40 --days 20 --seed 5 --start 2026-03-01 -o "$tmp/c.csv" >/dev/null 2>&1
"$bin" crossings import "$tmp/c.csv" >"$tmp/out.txt" 2>&1 || fail "import: $(cat "$tmp/out.txt")"
"$bin" crossings stats >"$tmp/before.txt"
total=$(sed -nE '0,/^total/s/^total[^0-9]*([0-9]+).*/\1/p' "$tmp/before.txt")
[ -n "$total" ] && [ "$total" -gt 0 ] || fail "no crossings imported: $(cat "$tmp/before.txt")"

# 2026-03-01 + 5479 days is 2041-03-01: the day before, everything is kept.
kept_at=$(date -u -d 2041-02-27 +%s)
"$bin" jobs purge "${common[@]}" --now "$kept_at" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^purged: crossing 0, match_result 0, received_biographic 0; tombstones 0'

# Long after: every crossing is past its 15 years, in batches of 50.
late=$(date -u -d 2042-01-01 +%s)
"$bin" jobs purge "${common[@]}" --now "$late" --batch 50 >"$tmp/out.txt"
assert_contains "$tmp/out.txt" "^purged: crossing $total, "
"$bin" crossings stats >"$tmp/after.txt"
assert_contains "$tmp/after.txt" '^total[^0-9]*0\b'
"$bin" audit report "$log" >"$tmp/report.json"
assert_contains "$tmp/report.json" '"purge": '"$(( (total + 49) / 50 ))"
assert_contains "$log" '"rule":"R9"'
assert_contains "$log" 'class crossing; retention 5479 days'
# Idempotent: nothing more to purge, no new tombstone.
lines=$(wc -l <"$log")
"$bin" jobs purge "${common[@]}" --now "$late" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" 'crossing 0, .*tombstones 0 '
[ "$(wc -l <"$log")" = "$lines" ] || fail "a second purge wrote to the log"

# R7: received data found irrelevant is destroyed, the rest kept.
printf '{"surname":"DOE","match":true}' >"$tmp/answer.json"
now=$(date -u -d 2026-06-01 +%s)
for t in T1 T2; do
    "$bin" received add "${common[@]}" --now "$now" --origin USA --class received_biographic \
        --purpose REFUGEE_VETTING --txn "$t" --subject P:SYR:N1 --file "$tmp/answer.json" >"$tmp/id.txt"
done
rc=0
"$bin" received add "${common[@]}" --origin GBR --class received_biographic --purpose REFUGEE_VETTING \
    --txn T3 --subject x --file "$tmp/answer.json" >"$tmp/out.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "data from a non-party accepted (exit $rc)"
rc=0
"$bin" received irrelevant 1 "${common[@]}" --officer ana --now "$now" >"$tmp/out.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "irrelevant without a reason accepted (exit $rc)"
"$bin" received irrelevant 1 "${common[@]}" --officer ana --why "not the applicant" --now "$now" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" 'found irrelevant by ana'
"$bin" received list --irrelevant >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^#1 .*IRRELEVANT, by ana'
"$bin" jobs destroy "${common[@]}" --now $((now + 86400)) >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^destroyed: 1 \(past the deadline: 0\); tombstones 1'
"$bin" received list >"$tmp/out.txt"
assert_not_contains "$tmp/out.txt" '^#1 '
assert_contains "$tmp/out.txt" '^#2 '
assert_contains "$log" '"kind":"purge".*"rule":"R7"'
"$bin" audit verify "$log" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^intact: '
