#!/usr/bin/env bash
# perimeter audit append/keygen/checkpoint/verify/report: a log written by the
# binary verifies intact against the partner's signed checkpoints; a changed
# byte, a deleted entry, two swapped entries, a truncation and a re-hashed
# forgery are each found and named; the probe never lands in the log.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log="$tmp/audit.log"

"$bin" audit keygen "$tmp/node" >"$tmp/out.txt"
[ "$(stat -c %a "$tmp/node.key")" = 600 ] || fail "secret key is not mode 600"
printf 'SECRET-PROBE-BYTES' >"$tmp/probe.bin"
add() { "$bin" audit append "$log" --time "$1" --actor node-CAN --partner USA --purpose REFUGEE_VETTING "${@:2}" >"$tmp/seq.txt"; }
add 1800000001 --kind query --txn T1 --probe-file "$tmp/probe.bin" --rule 'agreement 4.1'
add 1800000002 --kind disclosure --txn T1 --rule 'agreement 4.1' --field surname --field match --record CAN-1
add 1800000003 --kind refusal --txn T2 --rule R2
add 1800000004 --kind probe_destroyed --txn T3 --probe-file "$tmp/probe.bin" --rule R6
"$bin" audit checkpoint "$log" --key "$tmp/node.key" --out "$tmp/cp" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '"count":4'
add 1800000005 --kind query --txn T4 --rule 'agreement 4.1'
add 1800000006 --kind disclosure --txn T4 --rule 'agreement 4.1' --field surname --record CAN-2
"$bin" audit checkpoint "$log" --key "$tmp/node.key" --out "$tmp/cp" >"$tmp/out.txt"
assert_contains "$tmp/seq.txt" '^6$'
assert_not_contains "$log" 'SECRET-PROBE' "the log"
assert_contains "$log" '"actor":"node-CAN"' "the log"
assert_contains "$log" "$(sha256sum "$tmp/probe.bin" | cut -c1-64)" "the log (probe hash)"

pub=$(cat "$tmp/node.pub")
"$bin" audit verify "$log" --checkpoints "$tmp/cp" --key "$pub" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^intact: 6 entries, head [0-9a-f]{64}, 2 of 2 signed checkpoints matched$'
"$bin" audit report "$log" >"$tmp/report.json"
assert_contains "$tmp/report.json" '"REFUGEE_VETTING": 2'
assert_contains "$tmp/report.json" '"R2": 1'

cp "$log" "$tmp/good.log"
tampered() { # WHAT REGEX [checkpoints]
    local rc=0
    "$bin" audit verify "$log" ${3:+--checkpoints "$tmp/cp" --key "$pub"} >"$tmp/out.txt" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "$1: exit $rc, want 1 (not intact)"
    assert_contains "$tmp/out.txt" "$2" "$1"
    cp "$tmp/good.log" "$log"
}
sed -i '2s/"surname"/"surnamf"/' "$log"
tampered "one byte changed" 'first bad entry: 2$'
sed -i '3d' "$log"
tampered "entry deleted" 'entry 3: removed or out of order'
awk 'NR==5{held=$0; next} {print} NR==6{print held}' "$tmp/good.log" >"$log"
tampered "entries swapped" 'entry 5: removed or out of order \(its position holds entry 6\)'
sed -i '5,6d' "$log"
"$bin" audit verify "$log" >"$tmp/out.txt" # the chain alone cannot see a clean cut
tampered "truncated" 'log truncated.*entry 5 onward removed' cp
# Forgery: keep 1-4, rewrite 5-6 (the disclosure of CAN-2 hidden), re-hashed by the binary itself.
sed -i '5,6d' "$log"
add 1800000005 --kind query --txn T4 --rule 'agreement 4.1'
add 1800000006 --kind query --txn T5 --rule 'agreement 4.1'
"$bin" audit verify "$log" >"$tmp/out.txt" # self-consistent without checkpoints
tampered "re-hashed forgery" 'differ from the signed checkpoint at count 6.*first entry not proven is 5' cp
# A checkpoint file signed by another key is refused.
"$bin" audit keygen "$tmp/other" >/dev/null
rc=0; "$bin" audit verify "$log" --checkpoints "$tmp/cp" --key "$(cat "$tmp/other.pub")" >"$tmp/out.txt" || rc=$?
[ "$rc" = 1 ] || fail "foreign key accepted (exit $rc)"
assert_contains "$tmp/out.txt" 'signed by another key'
echo "audit_cli: ok"
