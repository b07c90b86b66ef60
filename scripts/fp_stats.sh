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
# report NAME < "n q" lines (fte lines included)
report() {
    local rows ok fte
    rows=$(cat)
    fte=$(printf '%s\n' "$rows" | grep -c ' fte' || true)
    ok=$(printf '%s\n' "$rows" | grep -v ' fte' | grep -c . || true)
    local mm mq
    mm=$(printf '%s\n' "$rows" | grep -v ' fte' | awk '{print $1}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    mq=$(printf '%s\n' "$rows" | grep -v ' fte' | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%s\n' "$rows" | grep -v ' fte' | awk -v name="$1" -v fte="$fte" -v mm="$mm" -v mq="$mq" '
        { s += $1; k = int($2 / 20); if (k > 4) k = 4; b[k]++; n++ }
        END {
            printf "%-8s images %4d fte %d minutiae mean %5.1f median %3d quality median %3d bands(0-19,20-39,40-59,60-79,80-100)", name, n + fte, fte, n ? s / n : 0, mm, mq
            for (k = 0; k < 5; k++) printf " %4.1f%%", n ? 100 * b[k] / n : 0
            printf "\n"
        }'
}
for db in $(awk '{print $1}' "$tmp" | sort -uV); do
    awk -v d="$db" '$1 == d {print $2, $3}' "$tmp" | report "$db"
done
awk '{print $2, $3}' "$tmp" | report all
