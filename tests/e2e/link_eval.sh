#!/usr/bin/env bash
# eval linkage and screening evaluation on a small generated population with
# noise: the figures come out, and they are sane.
set -euo pipefail
bin=$(realpath "${PERIMETER_BIN:?PERIMETER_BIN not set}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$bin" synth crossings --people 9000 --days 60 --seed 5 -o x.csv --truth t.csv \
    --people-out p.csv --noise 0.05 >/dev/null 2>&1
"$bin" eval linkage --crossings x.csv --truth t.csv --country CAN --json > ev.json 2>/dev/null
jq -e '.records > 20000 and .rejected == 0 and .precision >= 0.995 and .recall >= 0.99
       and .reconciliation_rate >= 0.98 and .reconcilable_exits > 1000
       and .model.estimated == true and .records_per_second > 0' ev.json >/dev/null \
    || { cat ev.json; exit 1; }
"$bin" eval linkage --crossings x.csv --truth t.csv --country CAN --em 0 --json > ev0.json 2>/dev/null
jq -e '.precision >= 0.995 and .recall >= 0.99 and .model.estimated == false' ev0.json >/dev/null \
    || { cat ev0.json; exit 1; }
# text output names the figures the issue asks for
"$bin" eval linkage --crossings x.csv --truth t.csv --country CAN --em 0 > ev.txt 2>/dev/null
for k in precision recall F1 reconciliation "review queue" "records/s"; do
    grep -q "$k" ev.txt || { echo "missing $k"; cat ev.txt; exit 1; }
done
# screening: seeded people are found, clean travellers rarely hit
"$bin" synth watchlist --from-people p.csv --size 1000 --hits 50 --seed 3 -o wl.csv \
    --truth wlt.csv >/dev/null 2>&1
"$bin" screen --watchlist wl.csv --crossings x.csv --truth t.csv --watchlist-truth wlt.csv \
    --json > sc.json
jq -e '.seeded_people_screened > 10 and .hit_rate_people >= 0.8
       and .false_hits_per_1000_clean_travellers < 100' sc.json >/dev/null || { cat sc.json; exit 1; }
# bad truth file: a clear error
printf 'a,b\n1,2\n' > bad.csv
rc=0; "$bin" eval linkage --crossings x.csv --truth bad.csv >/dev/null 2>err.txt || rc=$?
[ "$rc" = 1 ] && grep -q "header" err.txt || { echo "bad truth: exit $rc"; cat err.txt; exit 1; }
echo "link_eval: ok"
