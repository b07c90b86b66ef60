#!/usr/bin/env bash
# Watchlist screening accuracy gate (issue 13): a generated population, a
# 3,000-entry list holding 500 of its people (some written in Han or
# Devanagari, some without a date of birth), a 6,000-passenger manifest.
# Seeds 41/42/43: neither the tuning sets nor the reported held-out sets
# (docs/link.md). Measured (romanisation classes, nationality as a set;
# Dec 4) 0.984 hits at 1.27 false per 1,000 clean travellers; 0.996 with
# name-only referrals at 5.27 referrals per 1,000 (the previous scoring: 0.984
# at 1.09, 0.996 at 4.18). Two thresholds (Dec 5: 94 for entries listing a
# date of birth, 95.5 for entries listed without, chosen on the tuning sets,
# docs/link.md "Two thresholds"): 0.978 at 1.27. Gates sit a small margin
# around (one or two misses, three false hits).
source "$(dirname "$0")/lib.sh"
set -euo pipefail
bin=$(realpath "${PERIMETER_BIN:?PERIMETER_BIN not set}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$bin" synth crossings --people 6000 --days 20 --seed 41 -o x.csv --truth t.csv \
    --people-out p.csv >/dev/null 2>&1 || fail "synth crossings"
"$bin" synth watchlist --from-people p.csv --size 3000 --hits 500 --seed 42 -o wl.csv \
    --truth wlt.csv >/dev/null 2>&1 || fail "synth watchlist"
"$bin" synth manifest --from-people p.csv --passengers 6000 --seed 43 --noise 0.05 -o m.csv \
    --truth mt.csv >/dev/null 2>&1 || fail "synth manifest"
# the list really holds names in scripts without an ICAO table
awk -F, 'NR > 1 && $2 ~ /[^ -~]/' wl.csv > native.txt
[ "$(wc -l < native.txt)" -ge 20 ] || fail "expected names in non-Latin scripts on the list"
"$bin" screen --watchlist wl.csv --manifest m.csv --truth mt.csv --watchlist-truth wlt.csv \
    --json > plain.json || fail "screen"
jq -e '.seeded_people_screened == 500 and .clean_people == 5500
       and .hit_rate_people >= 0.975 and .false_hits_per_1000_clean_travellers <= 1.85
       and (has("name_only_referrals") | not)' plain.json >/dev/null || { cat plain.json; fail "accuracy"; }
# apart for the 465 seeded entries listed with a date of birth and the 35
# without (measured Dec 4 at one threshold, 95: 0.998 hits, 0.73 false per
# 1,000 through dated entries; 0.800 hits, 0.55 false per 1,000 through
# undated ones. Dec 5, 94 / 95.5: 0.998 / 0.91 dated, 0.714 / 0.36 undated;
# gates two misses / two false hits away)
jq -e '.seeded_people_listed_without_dob == 35
       and .hit_rate_people_listed_with_dob >= 0.995
       and .false_hits_per_1000_clean_travellers_via_dated_entries <= 1.3
       and .hit_rate_people_listed_without_dob >= 0.65
       and .false_hits_per_1000_clean_travellers_via_undated_entries <= 0.95' plain.json \
    >/dev/null || { cat plain.json; fail "accuracy per kind of entry"; }
# --min-undated moves the entries listed without a date alone: above every
# score none of them is hit, and the dated figures stay as they are
"$bin" screen --watchlist wl.csv --manifest m.csv --truth mt.csv --watchlist-truth wlt.csv \
    --min-undated 500 --json > undated.json || fail "screen --min-undated"
jq -e '.hit_rate_people_listed_without_dob == 0
       and .false_hits_per_1000_clean_travellers_via_undated_entries == 0
       and .hit_rate_people_listed_with_dob == $p[0].hit_rate_people_listed_with_dob
       and .false_hits_per_1000_clean_travellers_via_dated_entries
           == $p[0].false_hits_per_1000_clean_travellers_via_dated_entries' \
    --slurpfile p plain.json undated.json >/dev/null || { cat undated.json; fail "--min-undated"; }
"$bin" screen --watchlist wl.csv --manifest m.csv --truth mt.csv --watchlist-truth wlt.csv \
    --name-only --json > ref.json || fail "screen --name-only"
jq -e '.hit_rate_people == $p[0].hit_rate_people
       and .false_hits_per_1000_clean_travellers == $p[0].false_hits_per_1000_clean_travellers
       and .hit_rate_people_with_referrals >= 0.992
       and .name_only_referrals_per_1000_clean_travellers <= 6.0
       and .name_only_referrals > 0' --slurpfile p plain.json ref.json >/dev/null \
    || { cat ref.json; fail "name-only referrals"; }
# referral rows say so; hit rows do not
"$bin" screen --watchlist wl.csv --manifest m.csv --name-only --csv > rows.csv || fail "rows"
grep -c "name only: listed without date of birth or document" rows.csv > nref.txt || true
[ "$(cat nref.txt)" -gt 0 ] || fail "no referral rows"
# hits say which evidence carried them: a romanisation variant, the rarity of
# a name listed without a date, each term's points
grep -c "romanisation variant" rows.csv > nrom.txt || true
[ "$(cat nrom.txt)" -gt 0 ] || fail "no hit through a romanisation variant"
grep -c "no date listed: name rarity" rows.csv > nrar.txt || true
[ "$(cat nrar.txt)" -gt 0 ] || fail "no hit naming the rarity of a name listed without a date"
grep -c "dob exact +10.0" rows.csv > nw.txt || true
[ "$(cat nw.txt)" -gt 0 ] || fail "reasons without the terms' points"
echo "ok"
