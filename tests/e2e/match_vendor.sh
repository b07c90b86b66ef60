#!/usr/bin/env bash
# compare and eval fvc on the vendor's ISO templates of FVC2002 (interop):
# every template reads, the protocol counts are right, the figures are sane,
# and --plot writes a PNG.
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
data=${PERIMETER_DATA:-}
vendor="$data/fvc2002-vendor-iso"
source "$(dirname "$0")/lib.sh"
require_data "$vendor/DB1_B" "$vendor/DB2_B" "$vendor/DB3_B" "$vendor/DB4_B"
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
# Gates a small margin above the figures measured at 84484cf (mean EER 3.00%,
# pooled FMR1000 7.14%; the vendor's reference matcher: 8.17% / 18.5%). One
# genuine pair is 0.36 points of a DB's EER and 0.09 of the pooled FMR1000.
# Move the gates down when the figures improve.
assert r["mean_fvc"]["eer"] < 3.3, r["mean_fvc"]
assert r["pooled_all_impostors"]["fmr1000"] < 7.6, r["pooled_all_impostors"]
assert r["comparisons"] == 4 * (280 + 45 + 2880)
PY
[ "$(head -c 8 "$tmp/det.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "--plot did not write a PNG"

# a truncated template is refused with a message naming the problem
head -c 40 "$vendor/DB1_B/101_1.iso" > "$tmp/cut.iso"
if "$bin" compare "$tmp/cut.iso" "$vendor/DB1_B/101_1.iso" 2> "$tmp/err"; then
    echo "truncated template accepted"; exit 1
fi
grep -q truncated "$tmp/err"
echo "match_vendor: ok"
