#!/usr/bin/env bash
# Regenerates fuzz/corpus/image/: one small generated picture (a gradient with
# stripes, not a fingerprint) in every format the image module decodes.
# usage: fuzz/make_image_seeds.sh path/to/perimeter
set -euo pipefail
bin=${1:?usage: $0 path/to/perimeter}
out=$(dirname "$0")/corpus/image
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/seed.raw" "$out/colour.ppm" <<'PY'
import sys
w, h = 24, 16
open(sys.argv[1], "wb").write(bytes((x * 9 + (y % 4) * 40) % 256 for y in range(h) for x in range(w)))
ppm = b"P6\n# ppi 500\n6 4\n255\n" + bytes(((x * 40) % 256, (y * 60) % 256, 128) [c] for y in range(4) for x in range(6) for c in range(3))
open(sys.argv[2], "wb").write(ppm)
PY
printf 'P2\n3 2\n15\n0 7 15\n15 7 0\n' > "$out/ascii.pgm"
for ext in png tif jpg jp2 bmp pgm; do
    "$bin" image convert "$tmp/seed.raw" "$out/seed.$ext" --width 24 --height 16 --in-ppi 500 2>/dev/null
done
# the bare J2K codestream inside the JP2 file
python3 - "$out/seed.jp2" "$out/seed.j2k" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(d[d.index(b"\xff\x4f\xff\x51"):])
PY
# WSQ needs at least 32 pixels a side
python3 - "$tmp/wsq.raw" <<'PY'
import sys
open(sys.argv[1], "wb").write(bytes((x * 9 + (y % 5) * 40) % 256 for y in range(32) for x in range(40)))
PY
if "$bin" image convert "$tmp/wsq.raw" "$out/seed.wsq" --width 40 --height 32 --in-ppi 500 2>/dev/null; then :; else
    rm -f "$out/seed.wsq"; echo "no WSQ encoder in this binary: seed.wsq skipped" >&2
fi
# Seeds carry no image file extension (libFuzzer ignores names), so the
# repository never looks like it holds fingerprint image files.
for f in "$out"/seed.tif "$out"/seed.bmp "$out"/seed.wsq; do
    [ -f "$f" ] && mv "$f" "${f%.*}_${f##*.}"
done
ls -l "$out"
