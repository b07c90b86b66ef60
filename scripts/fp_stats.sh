#!/bin/bash
# fp_stats.sh PERIMETER DIR: minutiae count and print quality (perimeter extract)
# over every image of DIR/DBn_B, per DB and overall: mean and median minutiae,
# median quality, and the share of images in quality bands 0-19, 20-39, 40-59,
# 60-79, 80-100. Used for the synthetic-vs-FVC2002 table of docs/synth.md.
set -euo pipefail
bin="$1"
dir="$2"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for db in "$dir"/DB*_B; do
    for img in "$db"/*; do
        case "$img" in *.tif|*.png|*.wsq|*.bmp|*.pgm|*.jpg) ;; *) continue ;; esac
        if "$bin" extract "$img" > "$tmp.one" 2>/dev/null; then
            q=$(awk '/^quality/ {print $2}' "$tmp.one")
            n=$(awk '/^count/ {print $2}' "$tmp.one")
            echo "$(basename "$db") $n $q" >> "$tmp"
        else
            echo "$(basename "$db") fte fte" >> "$tmp"
        fi
    done
done
rm -f "$tmp.one"
sort -k1,1V "$tmp" | awk '
function report(name, n, arr_m, arr_q, fte,    i, sm, k, med_m, med_q, b) {
    sm = 0
    for (i = 1; i <= n; i++) sm += arr_m[i]
    asort(arr_m); asort(arr_q)
    med_m = n ? arr_m[int((n + 1) / 2)] : 0
    med_q = n ? arr_q[int((n + 1) / 2)] : 0
    for (k = 0; k < 5; k++) b[k] = 0
    for (i = 1; i <= n; i++) { k = int(arr_q[i] / 20); if (k > 4) k = 4; b[k]++ }
    printf "%-8s images %4d fte %d minutiae mean %5.1f median %3d quality median %3d bands", name, n + fte, fte, n ? sm / n : 0, med_m, med_q
    for (k = 0; k < 5; k++) printf " %4.1f%%", n ? 100 * b[k] / n : 0
    printf "\n"
}
{
    if ($2 == "fte") { fte[$1]++; ftes++; dbs[$1] = 1; next }
    dbs[$1] = 1
    c[$1]++; m[$1, c[$1]] = $2; q[$1, c[$1]] = $3
    all_n++; am[all_n] = $2; aq[all_n] = $3
}
END {
    n = asorti(dbs, names, "@ind_str_asc")
    for (d = 1; d <= n; d++) {
        db = names[d]; delete tm; delete tq
        for (i = 1; i <= c[db]; i++) { tm[i] = m[db, i]; tq[i] = q[db, i] }
        report(db, c[db], tm, tq, fte[db] + 0)
    }
    report("all", all_n, am, aq, ftes + 0)
}'
rm -f "$tmp"
