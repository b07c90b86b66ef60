#!/bin/bash
# perimeter extract end to end: an FVC2002 image to a text listing, ISO, ANSI
# and native templates and a drawing; the templates compare with each other.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
img="${PERIMETER_DATA:-}/fvc2002/DB1_B/101_1.tif"
img2="${PERIMETER_DATA:-}/fvc2002/DB1_B/101_2.tif"
require_data "$img" "$img2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PERIMETER_BIN" extract "$img" > "$tmp/list.txt"
grep -q '^count [1-9]' "$tmp/list.txt"
n=$(awk '/^count/ {print $2}' "$tmp/list.txt")
[ "$(grep -cE ' (ending|bifurcation) ' "$tmp/list.txt")" -eq "$n" ]
for f in iso ansi native; do
    "$PERIMETER_BIN" extract "$img" --format "$f" -o "$tmp/a.$f"
    [ -s "$tmp/a.$f" ]
done
"$PERIMETER_BIN" extract "$img2" -o "$tmp/b.pmt" --draw "$tmp/b.png"
[ "$(head -c 8 "$tmp/b.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "--draw did not write a PNG"
# same finger: the ISO and ANSI records match the native one
for f in iso ansi; do
    s=$("$PERIMETER_BIN" compare "$tmp/a.$f" "$tmp/b.pmt" | awk '/^score/ {print int($2)}')
    [ "$s" -ge 30 ] || { echo "score $s too low for $f"; exit 1; }
done
# a blank image is a clear failure to extract
printf 'P5\n64 64\n255\n' > "$tmp/blank.pgm"
head -c 4096 /dev/zero | tr '\0' '\310' >> "$tmp/blank.pgm"
if "$PERIMETER_BIN" extract "$tmp/blank.pgm" 2> "$tmp/err.txt"; then exit 1; fi
grep -q "fingerprint" "$tmp/err.txt"
echo ok
