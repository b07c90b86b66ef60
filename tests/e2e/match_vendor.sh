#!/usr/bin/env bash
# compare and eval fvc on the vendor's ISO templates of FVC2002 (interop):
# every template reads, the protocol counts are right, the figures are sane,
# and --plot writes a PNG.
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
data=${PERIMETER_DATA:-}
vendor="$data/fvc2002-vendor-iso"
if [ -z "$data" ] || [ ! -d "$vendor/DB1_B" ]; then
    echo "SKIP: $vendor not found (set PERIMETER_DATA)"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# same finger scores far above different fingers
gen=$("$bin" compare "$vendor/DB1_B/101_1.iso" "$vendor/DB1_B/101_2.iso" --json)
imp=$("$bin" compare "$vendor/DB1_B/101_1.iso" "$vendor/DB1_B/102_1.iso" --json)
python3 - "$gen" "$imp" <<'PY'
import json, sys
g, i = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert g["score"] > 30 > i["score"], (g, i)
PY

"$bin" eval fvc "$vendor" --json --plot "$tmp/det.png" > "$tmp/eval.json"
python3 - "$tmp/eval.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
dbs = r["databases"]
assert [d["db"] for d in dbs] == ["DB1_B", "DB2_B", "DB3_B", "DB4_B"], dbs
for d in dbs:
    assert (d["genuine"], d["impostors_fvc"], d["impostors_all"]) == (280, 45, 2880), d
    assert d["failures_to_extract"] == 0, d
assert r["mean_fvc"]["eer"] < 8.0, r["mean_fvc"]          # reference matcher: 8.17%
assert r["pooled_all_impostors"]["fmr1000"] < 18.5, r      # reference matcher: 18.5%
assert r["comparisons"] == 4 * (280 + 45 + 2880)
PY
head -c 8 "$tmp/det.png" | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'

# a truncated template is refused with a message naming the problem
head -c 40 "$vendor/DB1_B/101_1.iso" > "$tmp/cut.iso"
if "$bin" compare "$tmp/cut.iso" "$vendor/DB1_B/101_1.iso" 2> "$tmp/err"; then
    echo "truncated template accepted"; exit 1
fi
grep -q truncated "$tmp/err"
echo "match_vendor: ok"
