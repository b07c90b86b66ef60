#!/usr/bin/env bash
# ctest-label: heavy
# The full pipeline on FVC2002 DB1-4 B images: extraction + matching under the
# FVC protocol. Every image extracts, the protocol counts are right, and the
# accuracy stays within sight of the reference pipelines (NBIS mean EER 5.08%,
# pooled FMR1000 16.3%); a regression of the extractor or the matcher fails it.
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
data=${PERIMETER_DATA:-}
source "$(dirname "$0")/lib.sh"
require_data "$data/fvc2002/DB1_B" "$data/fvc2002/DB2_B" "$data/fvc2002/DB3_B" "$data/fvc2002/DB4_B"
# A crash or failure of the extractor or matcher is a failure, never a skip.
"$bin" compare "$data/fvc2002/DB1_B/101_1.tif" "$data/fvc2002/DB1_B/101_2.tif" >/dev/null \
    || fail "compare of two FVC images failed (rc $?)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$bin" eval fvc "$data/fvc2002" --json --reject-plot "$tmp/reject.png" > "$tmp/eval.json"
[ "$(head -c 8 "$tmp/reject.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
    || fail "--reject-plot did not write a PNG"
python3 - "$tmp/eval.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for d in r["databases"]:
    assert (d["genuine"], d["impostors_fvc"], d["impostors_all"]) == (280, 45, 2880), d
assert r["failures_to_extract"] == 0, r["failures_to_extract"]
# Gates a small margin above the figures measured with the refined print edge
# (issue 14: mean EER 1.36%, pooled FMR1000 3.48% with the local consolidation
# and quality weight, 3.93% rigid; at 84484cf 1.82% / 4.29%):
# one genuine pair is 0.36 points of a DB's EER and 0.09 of the pooled
# FMR1000. Move the gates down when the figures improve.
assert r["mean_fvc"]["eer"] < 1.65, r["mean_fvc"]
assert r["pooled_all_impostors"]["fmr1000"] < 3.8, r["pooled_all_impostors"]
for d in r["databases"]:
    assert d["fvc"]["eer"] < 2.9, (d["db"], d["fvc"])
# Print quality predicts failure: rejecting the lowest-quality prints lowers
# the EER far faster than rejecting at random. Measured (issue 14): mean EER
# (all impostors) 1.77% -> 0.77% at 10% rejected and 0.70% at 20%; random
# rejection stays at 1.75-1.77%.
e = r["error_reject"]
assert e["rejected_percent"][:5] == [0, 5, 10, 15, 20], e["rejected_percent"]
assert e["mean_eer"][2] < 0.95 and e["mean_eer"][4] < 0.9, e["mean_eer"]
assert e["mean_eer"][2] < 0.6 * e["mean_random"][2], e
print("mean EER %.2f%%, pooled FMR1000 %.2f%%, %.0f comparisons/s" % (
    r["mean_fvc"]["eer"], r["pooled_all_impostors"]["fmr1000"], r["comparisons_per_second_per_core"]))
PY
echo "match_fvc_images: ok"
