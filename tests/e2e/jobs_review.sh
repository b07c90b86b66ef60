#!/usr/bin/env bash
# perimeter review add|list|show|confirm|reject|act (R14) and perimeter
# transfer (R11) through the binary: adverse action on an unreviewed or a
# rejected match is refused naming R14, a decision needs who and why and is
# never overwritten, partner data goes to a third party only with the
# agreement's consent (refusal names R11), and the log holds every step.
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

# R14
t0=1800000000
"$bin" review add "${common[@]}" --now $t0 --txn Q-1 --partner USA --purpose REFUGEE_VETTING \
    --subject P:SYR:N7 --score 57.5 --action "refuse the claim" --evidence "10-print match" >"$tmp/id1"
"$bin" review add "${common[@]}" --now $t0 --txn Q-2 --partner USA --purpose REFUGEE_VETTING \
    --subject P:SYR:N8 --score 44 --action "refuse entry" >"$tmp/id2"
id1=$(cat "$tmp/id1") id2=$(cat "$tmp/id2")
"$bin" review list --now $((t0 + 7200)) >"$tmp/out.txt"
assert_contains "$tmp/out.txt" "^#$id1  pending  age 2h  USA  REFUGEE_VETTING  subject P:SYR:N7"
assert_contains "$tmp/out.txt" "^#$id2  pending"
expect_exit 1 "adverse action before review" "$bin" review act "$id1" "${common[@]}"
assert_contains "$tmp/out.txt" 'R14: adverse action on a match before human review'
expect_exit 2 "confirm without a reason" "$bin" review confirm "$id1" "${common[@]}" --officer kim
"$bin" review confirm "$id1" "${common[@]}" --officer kim --why "prints compared: same person" >"$tmp/out.txt"
expect_exit 1 "decision overwritten" "$bin" review reject "$id1" "${common[@]}" --officer lee --why "no"
assert_contains "$tmp/out.txt" 'already confirmed by kim'
"$bin" review act "$id1" "${common[@]}" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" 'may follow'
"$bin" review reject "$id2" "${common[@]}" --officer lee --why "different person" >"$tmp/out.txt"
expect_exit 1 "adverse action on a rejected match" "$bin" review act "$id2" "${common[@]}"
assert_contains "$tmp/out.txt" 'R14: the reviewing officer lee rejected the match'
"$bin" review show "$id1" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" 'decided    confirmed by kim at [0-9]+: prints compared: same person'
"$bin" review list >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^no pending adverse matches'
"$bin" review list --status all --json >"$tmp/all.json"
assert_contains "$tmp/all.json" '"officer": "lee"'

# R11
printf '{"refused":true}' >"$tmp/answer.json"
"$bin" received add "${common[@]}" --origin USA --class match_result --purpose REFUGEE_VETTING \
    --txn Q-1 --subject P:SYR:N7 --file "$tmp/answer.json" >"$tmp/rid"
rid=$(cat "$tmp/rid")
expect_exit 1 "transfer without consent" "$bin" transfer received "$rid" "${common[@]}" --to FRA --purpose REFUGEE_VETTING --out "$tmp/sent.json"
assert_contains "$tmp/out.txt" 'R11: no recorded consent'
[ ! -e "$tmp/sent.json" ] || fail "a refused transfer wrote its output"
expect_exit 1 "transfer for another purpose" "$bin" transfer received "$rid" "${common[@]}" --to GBR --purpose ENTRY_EXIT
"$bin" transfer received "$rid" "${common[@]}" --to GBR --purpose REFUGEE_VETTING --out "$tmp/sent.json" 2>"$tmp/err.txt"
cmp -s "$tmp/sent.json" "$tmp/answer.json" || fail "transferred payload differs"

"$bin" audit report "$log" >"$tmp/report.json"
assert_contains "$tmp/report.json" '"R14": 2'
assert_contains "$tmp/report.json" '"R11": 2'
assert_contains "$tmp/report.json" '"onward_transfer": 1'
assert_contains "$log" '"actor":"kim".*"detail":"match confirmed: prints compared: same person"'
"$bin" audit verify "$log" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^intact: '
