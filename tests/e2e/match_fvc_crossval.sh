#!/usr/bin/env bash
# ctest-label: heavy
# Held-out accuracy on FVC2002 DB1-4 B (eval fvc --cross-validate): the
# extractor's border margin and the score calibration are chosen on three DBs
# and measured on the fourth, every DB held out once. Checks the protocol
# counts, the held-out accuracy and the held-out calibration (the share of
# impostors at or above 20/30/40 against the claimed 1%/0.1%/0.01%).
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
data=${PERIMETER_DATA:-}
source "$(dirname "$0")/lib.sh"
require_data "$data/fvc2002/DB1_B" "$data/fvc2002/DB2_B" "$data/fvc2002/DB3_B" "$data/fvc2002/DB4_B"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# a bad grid is refused with usage status 2
rc=0; "$bin" eval fvc "$data/fvc2002" --cross-validate --grid-border 8,x 2> "$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "bad --grid-border: status $rc, want 2"
assert_contains "$tmp/err" "grid-border"
rc=0; "$bin" eval fvc "$data/fvc2002" --cross-validate --grid-local 30,500 2> "$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "bad --grid-local: status $rc, want 2"
assert_contains "$tmp/err" "grid-local"
rc=0; "$bin" eval fvc "$data/fvc2002" --cross-validate --grid-quality 2 2> "$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "bad --grid-quality: status $rc, want 2"
assert_contains "$tmp/err" "grid-quality"
rc=0; "$bin" eval fvc "$data/fvc2002" --resample-ppi 50 2> "$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "bad --resample-ppi: status $rc, want 2"
assert_contains "$tmp/err" "resample-ppi"

"$bin" eval fvc "$data/fvc2002" --cross-validate --json > "$tmp/cv.json"
python3 - "$tmp/cv.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
folds = r["folds"]
assert [f["held_out"] for f in folds] == ["DB1_B", "DB2_B", "DB3_B", "DB4_B"], folds
# the default grid: border margins x the matcher's local consolidation
# widths x minutia-quality weights (48 points)
assert sorted({g["border_margin"] for g in r["grid"]}) == [4, 8, 12, 16], r["grid"]
assert sorted({g["local_sigma"] for g in r["grid"]}) == [0, 30, 60, 120], r["grid"]
assert sorted({g["quality_weight"] for g in r["grid"]}) == [0, 0.5, 1], r["grid"]
assert len(r["grid"]) == 48, len(r["grid"])
for f in folds:
    assert f["impostors"] == 2880, f
    assert f["border_margin"] in (4, 8, 12, 16), f
    assert f["local_sigma"] in (0, 30, 60, 120), f
assert r["pooled_calibration_check"]["impostors"] == 4 * 2880
# Gates a small margin above the held-out figures measured with the local
# consolidation and quality weight (mean EER with FVC impostors 1.36%, with
# all impostors 1.61%, pooled FMR1000 over all cross-finger impostors 3.57%;
# rigid matcher 1.36% / 1.77% / 3.93%): one genuine pair is 0.36 points of a
# DB's EER and 0.09 of the pooled FMR1000.
assert r["mean_fvc"]["eer"] < 1.65, r["mean_fvc"]
assert r["mean_all_impostors"]["eer"] < 1.9, r["mean_all_impostors"]
assert r["pooled_all_impostors"]["fmr1000"] < 3.8, r["pooled_all_impostors"]
# The calibration holds on the held-out DB: never more than 2x the claimed
# 1% / 0.1% / 0.01% at 20 / 30 / 40 (measured with the bound per-fold fit: at
# most 1.25% (DB4) and 0.069% (DB2), none at 40; the conservative fit without
# the tail bound gave DB4 one impostor at 40, 3.5x; the pooled fit gave DB4
# 2.67% and 0.21%). At 40 one impostor of a DB's 2,880 is already 3.5x the
# claim, so within 2x there means none.
assert r["calibration_method"] == "bound", r["calibration_method"]
for f in folds:
    assert f["at20"]["percent"] <= 2.0 and f["at30"]["percent"] <= 0.2, f
    assert f["at40"]["count"] == 0, f
assert r["pooled_calibration_check"]["at40"]["count"] <= 2, r["pooled_calibration_check"]
print("held out: mean EER %.2f%%, pooled FMR1000 %.2f%%, pooled impostors >=30 %.3f%%" % (
    r["mean_fvc"]["eer"], r["pooled_all_impostors"]["fmr1000"],
    r["pooled_calibration_check"]["at30"]["percent"]))
PY
echo "match_fvc_crossval: ok"
