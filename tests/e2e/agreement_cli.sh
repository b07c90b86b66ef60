#!/usr/bin/env bash
# perimeter agreement check/hash on the committed example: accepted, hash
# independent of layout, changed by any value; malformed and contradictory
# agreements refused with the line or JSON path and the reason.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
src=${PERIMETER_SRC:?PERIMETER_SRC not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ex="$src/docs/agreement-example.json"

"$bin" agreement check "$ex" >"$tmp/out.txt"
assert_contains "$tmp/out.txt" '^agreement CAN-USA-2026.1 between CAN and USA: ok'
"$bin" agreement hash "$ex" >"$tmp/h1.txt"
assert_contains "$tmp/h1.txt" '^[0-9a-f]{64}$'

# Same content on one line (layout differs): same hash.
tr -d '\n' <"$ex" >"$tmp/flat.json"
"$bin" agreement hash "$tmp/flat.json" >"$tmp/h2.txt"
cmp -s "$tmp/h1.txt" "$tmp/h2.txt" || fail "hash depends on layout"
# One value changed: another hash.
sed 's/"match_threshold": 40.0/"match_threshold": 45.0/' "$ex" >"$tmp/t45.json"
"$bin" agreement hash "$tmp/t45.json" >"$tmp/h3.txt"
if cmp -s "$tmp/h1.txt" "$tmp/h3.txt"; then fail "a changed threshold kept the hash"; fi

refused() { # FILE REGEX
    local rc=0
    "$bin" agreement check "$1" >"$tmp/out.txt" 2>"$tmp/err.txt" || rc=$?
    [ "$rc" = 1 ] || fail "$1: exit $rc, want 1 (refused)"
    assert_contains "$tmp/err.txt" "$2"
}
sed 's/"ENTRY_EXIT": \["surname"/"ENTRY_EXIT": ["licence_plate"/' "$ex" >"$tmp/plate.json"
refused "$tmp/plate.json" "\\\$\\.allow\\.ENTRY_EXIT\\[0\\]: 'licence_plate' is not in the legal list"
sed 's/"probe": 0/"probe": 7/' "$ex" >"$tmp/probe.json"
refused "$tmp/probe.json" 'retention_days\.probe: must be 0 \(R6\)'
sed 's/"crossing": 5479/"crossing": -1/' "$ex" >"$tmp/neg.json"
refused "$tmp/neg.json" 'retention_days\.crossing: must not be negative'
sed 's/"version"/"colour": "red", "version"/' "$ex" >"$tmp/unknown.json"
refused "$tmp/unknown.json" '\$\.colour: unknown field'
head -c 200 "$ex" >"$tmp/cut.json"
refused "$tmp/cut.json" 'line [0-9]+:'
echo "agreement_cli: ok"
