#!/usr/bin/env bash
# perimeter correction crossing|list|sent|ack|status (R8) through the binary:
# a corrected record that was disclosed to the partner is queued for it, is
# not complete until the partner acknowledges it, another country cannot
# acknowledge it, a record never sent queues nothing, and the log says all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
src=${PERIMETER_SRC:?PERIMETER_SRC not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PERIMETER_DB="$tmp/p.db"
log="$tmp/audit.log"
common=(--agreement "$src/docs/agreement-example.json" --log "$log" --ours CAN --actor node-CAN)
expect_exit() { # WANT WHAT CMD...
    local want=$1 what=$2 rc=0
    shift 2
    "$@" >"$tmp/out.txt" 2>&1 || rc=$?
    [ "$rc" = "$want" ] || fail "$what: exit $rc, want $want: $(cat "$tmp/out.txt")"
}

"$bin" synth crossings --people 40 --days 20 --seed 5 --start 2026-03-01 -o "$tmp/c.csv" >/dev/null 2>&1
"$bin" crossings import "$tmp/c.csv" >"$tmp/out.txt" 2>&1 || fail "import: $(cat "$tmp/out.txt")"
"$bin" crossings export --limit 2 -o "$tmp/two.jsonl" 2>/dev/null
sed -n 1p "$tmp/two.jsonl" >"$tmp/a.jsonl"
sed -n 2p "$tmp/two.jsonl" >"$tmp/b.jsonl"
ref_of() { sed -nE 's/.*"record_id":"([^"]+)","reporting_country":"([A-Z]{3})".*/\2:\1/p' "$1"; }
ra=$(ref_of "$tmp/a.jsonl") rb=$(ref_of "$tmp/b.jsonl")
[ -n "$ra" ] && [ -n "$rb" ] || fail "no records exported"
# record A was disclosed to USA in an answer; B never left the node
"$bin" audit append "$log" --kind disclosure --actor node-CAN --partner USA --purpose ENTRY_EXIT \
    --rule agreement --field surname --record "$ra" --txn Q-1 >/dev/null
sed -i -E 's/"surname":"[^"]*"/"surname":"CORRECTED"/' "$tmp/a.jsonl" "$tmp/b.jsonl"
cat "$tmp/a.jsonl" "$tmp/b.jsonl" >"$tmp/fix.jsonl"
expect_exit 2 "correction without a reason" "$bin" correction crossing "$tmp/fix.jsonl" "${common[@]}"
"$bin" correction crossing "$tmp/fix.jsonl" "${common[@]}" --why "surname misspelt" --now 1800000000 >"$tmp/out.txt"
assert_contains "$tmp/out.txt" "^$ra corrected; queued for 1 partner"
assert_contains "$tmp/out.txt" "^$rb corrected; queued for 0 partner"
"$bin" crossings export --limit 2 -o "$tmp/again.jsonl" 2>/dev/null
[ "$(grep -c '"surname":"CORRECTED"' "$tmp/again.jsonl")" = 2 ] || fail "the store does not hold the corrected records"
"$bin" correction list --now $((1800000000 + 3 * 3600)) >"$tmp/out.txt"
assert_contains "$tmp/out.txt" "^#1  $ra  to USA  age 3h  sent 0 time"
expect_exit 1 "complete before acknowledgement" "$bin" correction status "$ra"
assert_contains "$tmp/out.txt" 'R8: correction acknowledged by 0 of the 1 partners'
"$bin" correction sent 1 "${common[@]}" >/dev/null
expect_exit 1 "acknowledged by another country" "$bin" correction ack 1 "${common[@]}" --partner GBR
"$bin" correction ack 1 "${common[@]}" --partner USA --ref USA-ACK-7 >/dev/null
"$bin" correction status "$ra" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" 'correction complete'
"$bin" correction list >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^no unacknowledged corrections'
assert_contains "$log" '"detail":"acknowledged by USA, ref USA-ACK-7'
"$bin" audit verify "$log" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^intact: 3 entries'
