#!/bin/sh
# Generates one screening evaluation set (docs/link.md, "Two thresholds"):
# people P (20,000), watchlist W (10,000 entries, H seeded), manifest M
# (20,000 passengers, noise 5%), then the candidate rows that
# scripts/screen_fit_cv.py reads (`screen --csv --name-only --min 80
# --min-undated 80`; the build before the two thresholds has no --min-undated,
# and its --min 80 alone gives the same rows).
# usage: scripts/screen_make_set.sh PERIMETER DIR P W M [H] [DAYS]
set -eu
bin=$1 dir=$2 p=$3 w=$4 m=$5 h=${6:-1500} days=${7:-30}
mkdir -p "$dir"
cd "$dir"
"$bin" synth crossings --people 20000 --days "$days" --seed "$p" --noise 0.05 \
    -o x.csv --truth xt.csv --people-out p.csv
"$bin" synth watchlist --from-people p.csv --size 10000 --hits "$h" --seed "$w" \
    -o wl.csv --truth wlt.csv
"$bin" synth manifest --from-people p.csv --passengers 20000 --seed "$m" --noise 0.05 \
    -o m.csv --truth mt.csv
"$bin" screen --watchlist wl.csv --manifest m.csv --csv --name-only --min 80 \
    --min-undated 80 > rows80.csv
rm -f x.csv xt.csv
