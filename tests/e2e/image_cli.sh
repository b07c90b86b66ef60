#!/usr/bin/env bash
# perimeter image info / image convert: conversions by extension, resolution,
# raw input, refusal of unknown input; with shared data, the FVC TIFFs.
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A generated 40x30 raw grey image (a gradient), said to be 569 ppi.
python3 - "$tmp/src.raw" <<'PY'
import sys
open(sys.argv[1], "wb").write(bytes((x * 6 + y * 2) % 256 for y in range(30) for x in range(40)))
PY
"$bin" image convert "$tmp/src.raw" "$tmp/a.png" --width 40 --height 30 --in-ppi 569 2>/dev/null
"$bin" image info "$tmp/a.png" >"$tmp/out.txt"
grep -q '^size: *40x30$' "$tmp/out.txt"
"$bin" image info "$tmp/a.png" >"$tmp/out.txt"
grep -q '^ppi: *569$' "$tmp/out.txt"
"$bin" image info --json "$tmp/a.png" >"$tmp/out.txt"
grep -q '"format":"png"' "$tmp/out.txt"
# png -> tif -> raw is lossless
"$bin" image convert "$tmp/a.png" "$tmp/b.tif" 2>/dev/null
"$bin" image info "$tmp/b.tif" >"$tmp/out.txt"
grep -q '^format: *tiff$' "$tmp/out.txt"
"$bin" image convert "$tmp/b.tif" "$tmp/c.raw" 2>/dev/null
cmp -s "$tmp/src.raw" "$tmp/c.raw" || { echo "png/tif round trip changed pixels"; exit 1; }
# every lossless format round-trips the pixels and the resolution
for ext in pgm bmp jp2 tif png; do
    "$bin" image convert "$tmp/a.png" "$tmp/r.$ext" 2>/dev/null
    "$bin" image info "$tmp/r.$ext" >"$tmp/out.txt"
    grep -q '^ppi: *569$' "$tmp/out.txt" || { echo "$ext lost the ppi"; exit 1; }
    "$bin" image convert "$tmp/r.$ext" "$tmp/r_$ext.raw" 2>/dev/null
    cmp -s "$tmp/src.raw" "$tmp/r_$ext.raw" || { echo "$ext round trip changed pixels"; exit 1; }
done
"$bin" image convert "$tmp/a.png" "$tmp/r.jpg" --quality 95 2>/dev/null
"$bin" image info --json "$tmp/r.jpg" >"$tmp/out.txt"
grep -q '"width":40,"height":30,"ppi":569' "$tmp/out.txt"
# resampling 569 -> 500 ppi: 40x30 becomes 35x26
"$bin" image convert "$tmp/a.png" "$tmp/d.png" --ppi 500 2>/dev/null
"$bin" image info "$tmp/d.png" >"$tmp/out.txt"
grep -q '^size: *35x26$' "$tmp/out.txt"
"$bin" image info "$tmp/d.png" >"$tmp/out.txt"
grep -q '^ppi: *500$' "$tmp/out.txt"
# resampling needs a known resolution
"$bin" image convert "$tmp/src.raw" "$tmp/e.png" --width 40 --height 30 2>/dev/null
if "$bin" image convert "$tmp/e.png" "$tmp/f.png" --ppi 500 2>/dev/null; then
    echo "resampled an image of unknown resolution"; exit 1
fi
# a size limit from the command line
if "$bin" image info --max-dim 39 "$tmp/a.png" 2>"$tmp/err"; then echo "limit ignored"; exit 1; fi
grep -q PM_ELIMIT "$tmp/err"
# garbage and truncated files fail with a message, and the libraries print nothing else
printf 'not an image at all' > "$tmp/junk.png"
if "$bin" image info "$tmp/junk.png" 2>"$tmp/err"; then echo "junk accepted"; exit 1; fi
grep -q PM_EUNSUPPORTED "$tmp/err"
head -c 300 "$tmp/b.tif" > "$tmp/cut.tif"
if "$bin" image info "$tmp/cut.tif" 2>"$tmp/err" >/dev/null; then echo "truncated tiff accepted"; exit 1; fi
[ "$(wc -l < "$tmp/err")" = 1 ] || { echo "expected one line of error output:"; cat "$tmp/err"; exit 1; }
# bad arguments
if "$bin" image convert "$tmp/a.png" "$tmp/x.unknown" 2>/dev/null; then echo "bad ext"; exit 1; fi
rc=0; "$bin" image info 2>/dev/null || rc=$?
[ "$rc" = 2 ] || { echo "usage exit code $rc"; exit 1; }

source "$(dirname "$0")/lib.sh"
data=${PERIMETER_DATA:-}
missing=()
if [ -n "$data" ] && [ -f "$data/fvc2002/DB2_B/101_1.tif" ]; then
    "$bin" image info "$data/fvc2002/DB2_B/101_1.tif" >"$tmp/out.txt"
    grep -q '^size: *296x560$' "$tmp/out.txt"
    "$bin" image convert "$data/fvc2002/DB2_B/101_1.tif" "$tmp/db2.png" --in-ppi 569 --ppi 500 2>/dev/null
    "$bin" image info "$tmp/db2.png" >"$tmp/out.txt"
    grep -q '^size: *260x492$' "$tmp/out.txt"
else
    missing+=("${data:-\$PERIMETER_DATA}/fvc2002/DB2_B/101_1.tif")
fi
if [ -n "$data" ] && [ -f "$data/sourceafis/wsq-original.wsq" ]; then
    wsq="$data/sourceafis/wsq-original.wsq"
    "$bin" image info "$wsq" >"$tmp/out.txt"
    grep -q '^size: *832x768$' "$tmp/out.txt"
    "$bin" image info "$wsq" >"$tmp/out.txt"
    grep -q 'NIST_COM ppi 500' "$tmp/out.txt"
    "$bin" image info --json "$wsq" >"$tmp/out.txt"
    grep -q '"bitrate":0.75' "$tmp/out.txt"
    # our decoding equals the reference decoding (a palette PNG)
    "$bin" image convert "$wsq" "$tmp/w.raw" 2>/dev/null
    "$bin" image convert "$data/sourceafis/wsq-converted.png" "$tmp/wref.raw" 2>/dev/null
    cmp -s "$tmp/w.raw" "$tmp/wref.raw" || { echo "WSQ decoding differs from wsq-converted.png"; exit 1; }
else
    missing+=("${data:-\$PERIMETER_DATA}/sourceafis/wsq-original.wsq")
fi
[ ${#missing[@]} -eq 0 ] || require_data "${missing[@]}"
echo "image_cli: ok"
