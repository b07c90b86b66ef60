#!/usr/bin/env bash
# ctest-label: heavy
# The README's first command: make demo's script runs end to end on loopback
# (two nodes, feed, vetting, pre-clearance, logs verified) and its checks
# hold: every applicant as the generator's truth says, every crossing across,
# both disclosure logs intact against the partner's checkpoints.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
src=${PERIMETER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PERIMETER_DEMO_DIR=$tmp/demo bash "$src/scripts/demo.sh" "$bin" >"$tmp/demo.log" 2>&1 ||
    fail "demo failed: $(tail -20 "$tmp/demo.log")"
assert_contains "$tmp/demo.log" 'applicants 12: done 12, pending 0'
assert_contains "$tmp/demo.log" '  12 applicants as the truth says, 0 not'
# R14: every seeded applicant found AND confirmed through the node's review
# queue, nobody else; adverse action refused before the confirmation
assert_contains "$tmp/demo.log" 'ground truth: 3 seeded in the US gallery, 3 found and confirmed through review; missed 0, confirmed but not seeded 0'
[ "$(grep -c 'adverse decision before confirmation: refused R14; after: allowed true' "$tmp/demo.log")" = 3 ] ||
    fail "review gate: $(grep 'adverse decision' "$tmp/demo.log")"
# the final status copied back by `vet refresh`: the refreshed case files
# and summary say the same as the queue and the truth
assert_contains "$tmp/demo.log" 'case files: 3 confirmed, missed 0, confirmed but not seeded 0; summary: {"matches":3,"confirmed":3,"rejected":0,"pending":0,"not_queued":0,"not_found":0}'
# every checkpoint the partner holds matched (the demo's own, and any the
# nodes' checkpoint job signed meanwhile on a slow machine)
[ "$(grep -cE '^intact: .* ([1-9][0-9]*) of \1 signed checkpoints matched' "$tmp/demo.log")" = 2 ] ||
    fail "logs not verified: $(grep -A1 "log, checked" "$tmp/demo.log")"
can=$(wc -l <"$tmp/demo/gen/CAN.csv")
usa=$(wc -l <"$tmp/demo/gen/USA.csv")
"$bin" crossings stats --db "$tmp/demo/pair/USA/perimeter.db" --json >"$tmp/s.json"
[ "$(jq .partner_exits "$tmp/s.json")" = $((can - 1)) ] || fail "USA has $(jq .partner_exits "$tmp/s.json") of $((can - 1)) CAN entries"
"$bin" crossings stats --db "$tmp/demo/pair/CAN/perimeter.db" --json >"$tmp/s.json"
[ "$(jq .partner_exits "$tmp/s.json")" = $((usa - 1)) ] || fail "CAN has $(jq .partner_exits "$tmp/s.json") of $((usa - 1)) USA entries"
echo "demo: ok"
