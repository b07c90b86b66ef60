#!/usr/bin/env bash
# ctest-label: heavy
# The full pipeline on FVC2002 DB1-4 B images: extraction + matching under the
# FVC protocol. Every image extracts, the protocol counts are right, and the
# accuracy stays within sight of the reference pipelines (NBIS mean EER 5.08%,
# pooled FMR1000 16.3%); a regression of the extractor or the matcher fails it.
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
data=${PERIMETER_DATA:-}
if [ -z "$data" ] || [ ! -f "$data/fvc2002/DB1_B/101_1.tif" ]; then
    echo "SKIP: $data/fvc2002 not found (set PERIMETER_DATA)"; exit 77
fi
if ! "$bin" compare "$data/fvc2002/DB1_B/101_1.tif" "$data/fvc2002/DB1_B/101_2.tif" >/dev/null 2>&1; then
    echo "SKIP: this build cannot extract minutiae from images"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$bin" eval fvc "$data/fvc2002" --json > "$tmp/eval.json"
python3 - "$tmp/eval.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for d in r["databases"]:
    assert (d["genuine"], d["impostors_fvc"], d["impostors_all"]) == (280, 45, 2880), d
assert r["failures_to_extract"] == 0, r["failures_to_extract"]
assert r["mean_fvc"]["eer"] < 7.0, r["mean_fvc"]
assert r["pooled_all_impostors"]["fmr1000"] < 18.0, r["pooled_all_impostors"]
print("mean EER %.2f%%, pooled FMR1000 %.2f%%, %.0f comparisons/s" % (
    r["mean_fvc"]["eer"], r["pooled_all_impostors"]["fmr1000"], r["comparisons_per_second_per_core"]))
PY
echo "match_fvc_images: ok"
