#!/usr/bin/env bash
# perimeter subject-access (R12) through the binary: a person's report holds
# their own crossings and the disclosure about them, not another person's,
# as JSON and as a readable page; the request itself is logged.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
src=${PERIMETER_SRC:?PERIMETER_SRC not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PERIMETER_DB="$tmp/p.db"
log="$tmp/audit.log"
common=(--agreement "$src/docs/agreement-example.json" --log "$log" --ours CAN)

"$bin" synth crossings --people 40 --days 20 --seed 5 --start 2026-03-01 -o "$tmp/c.csv" >/dev/null 2>&1
"$bin" crossings import "$tmp/c.csv" >"$tmp/out.txt" 2>&1 || fail "import: $(cat "$tmp/out.txt")"
"$bin" crossings export --limit 400 -o "$tmp/all.jsonl" 2>/dev/null
field() { sed -nE "s/.*\"$1\":\"([^\"]*)\".*/\\1/p"; }
line1=$(sed -n 1p "$tmp/all.jsonl")
doc=$(field document_number <<<"$line1") iss=$(field document_issuer <<<"$line1")
ra="$(field reporting_country <<<"$line1"):$(field record_id <<<"$line1")"
# someone else's record: the first line with another document
# (to a file, then the first line: `grep | head` under pipefail dies of SIGPIPE)
grep -v "\"document_number\":\"$doc\"" "$tmp/all.jsonl" >"$tmp/others.jsonl"
other=$(sed -n 1p "$tmp/others.jsonl")
ro="$(field reporting_country <<<"$other"):$(field record_id <<<"$other")"
mine=$(grep -c "\"document_number\":\"$doc\",\"document_issuer\":\"$iss\"" "$tmp/all.jsonl")
"$bin" audit append "$log" --kind disclosure --partner USA --purpose ENTRY_EXIT --rule agreement \
    --field surname --record "$ra" --txn Q-MINE >/dev/null
"$bin" audit append "$log" --kind disclosure --partner USA --purpose ENTRY_EXIT --rule agreement \
    --field surname --record "$ro" --txn Q-OTHER >/dev/null
rc=0
"$bin" subject-access "${common[@]}" --officer clerk >"$tmp/out.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "a report about nobody: exit $rc"
"$bin" subject-access "${common[@]}" --officer clerk --document "$doc" --issuer "$iss" \
    --out "$tmp/r.json" --html "$tmp/r.html"
n=$(grep -c '"record": ' "$tmp/r.json")
[ "$n" -ge "$mine" ] || fail "report lists $n crossings, the exported feed alone has $mine"
assert_contains "$tmp/r.json" '"txn": "Q-MINE"'
assert_not_contains "$tmp/r.json" 'Q-OTHER'
assert_contains "$tmp/r.html" '<h1>Your travel and disclosure report</h1>'
assert_contains "$tmp/r.html" "<td>$doc</td>|$doc"
assert_contains "$tmp/r.html" 'Q-MINE'
assert_contains "$log" '"kind":"subject_access"'
"$bin" audit verify "$log" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^intact: 3 entries'
