#!/bin/bash
# perimeter synth prints end to end, without ../shared/data: ten synthetic
# fingers x 8 impressions laid out as DB1_B, then `perimeter eval fvc`,
# `extract` and `compare` on them; the same seed on 1 and 2 threads gives the
# same bytes; WSQ output; the ground truth; ten-print ANSI/NIST transactions;
# bad options fail clearly.
# Gates (measured at seed 77: EER 2.18% (FVC impostors), mated pairs scored
# 90 and 86, non-mated 2.6 and 0; rolled ten-print fingers 94 mated, 8.4
# non-mated) sit a small margin beyond the figures.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin="$PERIMETER_BIN"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" synth prints --fingers 10 --impressions 8 --seed 77 --out "$tmp/a" --threads 2 > "$tmp/gen.txt"
assert_contains "$tmp/gen.txt" '^wrote 80 images' "generation summary"
assert_contains "$tmp/gen.txt" '^time .* images/s' "generation speed"
[ "$(find "$tmp/a/DB1_B" -name '*.png' | wc -l)" -eq 80 ] || fail "expected 80 PNGs in DB1_B"
[ -f "$tmp/a/DB1_B/110_8.png" ] || fail "missing DB1_B/110_8.png"

# ground truth: one JSON line per finger with 8 impressions and master minutiae
[ "$(wc -l < "$tmp/a/truth.jsonl")" -eq 10 ] || fail "truth should have 10 lines"
jq -e -s 'length == 10 and all(.[]; (.impressions | length) == 8
          and (.class | IN("arch","tented_arch","left_loop","right_loop","whorl"))
          and (.master.minutiae | length) >= 15
          and all(.impressions[]; .quality | IN("good","dry","wet","smudged","partial")))' \
    "$tmp/a/truth.jsonl" > /dev/null || fail "truth.jsonl does not hold what it promises"
[ "$(jq -r 'select(.finger == 4) | .impressions[2].file' "$tmp/a/truth.jsonl")" = "DB1_B/105_3.png" ] ||
    fail "truth file names do not follow DBn_B/<finger>_<impression>"

# same seed on one thread: the same bytes
"$bin" synth prints --fingers 10 --impressions 8 --seed 77 --out "$tmp/b" --threads 1 > /dev/null
(cd "$tmp/a" && find . -type f | sort | xargs md5sum) > "$tmp/a.md5"
(cd "$tmp/b" && find . -type f | sort | xargs md5sum) > "$tmp/b.md5"
cmp -s "$tmp/a.md5" "$tmp/b.md5" || fail "1 and 2 threads gave different output"

# the FVC protocol runs on it as it is
"$bin" eval fvc "$tmp/a" --json > "$tmp/eval.json"
fte=$(jq '.failures_to_extract' "$tmp/eval.json")
eer=$(jq '.mean_fvc.eer' "$tmp/eval.json")
[ "$fte" -eq 0 ] || fail "failures to extract: $fte"
awk -v e="$eer" 'BEGIN { exit !(e < 4.0) }' || fail "EER $eer% above the 4.0% gate"

# mated pairs score clearly above non-mated ones
score() { "$bin" compare "$tmp/a/DB1_B/$1.png" "$tmp/a/DB1_B/$2.png" > "$tmp/cmp.txt"; awk '/^score/ {print int($2)}' "$tmp/cmp.txt"; }
for pair in "101_1 101_2" "103_4 103_7"; do
    s=$(score $pair)
    [ "$s" -ge 70 ] || fail "mated pair $pair scored $s (< 70)"
done
for pair in "101_1 102_1" "105_2 108_3"; do
    s=$(score $pair)
    [ "$s" -le 20 ] || fail "non-mated pair $pair scored $s (> 20)"
done

# extraction draws and lists
"$bin" extract "$tmp/a/DB1_B/102_1.png" --draw "$tmp/d.png" > "$tmp/list.txt"
assert_contains "$tmp/list.txt" '^count [1-9][0-9]' "minutiae listing"
head -c 8 "$tmp/d.png" | od -An -tx1 > "$tmp/sig.txt"
assert_contains "$tmp/sig.txt" '89 50 4e 47' "drawing is a PNG"

# WSQ output, one forced class, an explicit size
"$bin" synth prints --fingers 2 --impressions 2 --seed 5 --format wsq --class whorl \
    --size 320x480 --out "$tmp/w" > "$tmp/genw.txt"
"$bin" image info "$tmp/w/DB1_B/102_2.wsq" > "$tmp/info.txt"
assert_contains "$tmp/info.txt" 'wsq' "WSQ output"
assert_contains "$tmp/info.txt" '320' "WSQ width"
"$bin" extract "$tmp/w/DB1_B/101_1.wsq" > "$tmp/listw.txt"
assert_contains "$tmp/listw.txt" '^count [1-9]' "minutiae from WSQ"
[ "$(jq -r '.class' "$tmp/w/truth.jsonl" | sort -u)" = "whorl" ] || fail "--class whorl not honoured"

# ten-print ANSI/NIST transactions for the vetting workflow: one subject,
# two transactions of ten rolled WSQ prints; the same finger in both matches
"$bin" synth prints --tenprint 1 --impressions 2 --seed 9 --out "$tmp/t" > "$tmp/gent.txt"
assert_contains "$tmp/gent.txt" '2 ANSI/NIST transactions' "ten-print summary"
for k in 1 2; do
    "$bin" an2k validate "$tmp/t/1_$k.an2" > "$tmp/val.txt"
    assert_contains "$tmp/val.txt" 'valid \(12 records, 0 errors' "transaction 1_$k"
done
"$bin" an2k dump "$tmp/t/1_1.an2" > "$tmp/dump.txt"
[ "$(grep -c '\[14\.013\]=' "$tmp/dump.txt")" -eq 10 ] || fail "expected ten Type-14 finger positions"
[ "$(grep -cE '\[14\.003\]=1([^0-9]|$)' "$tmp/dump.txt")" -eq 10 ] || fail "expected ten rolled (14.003 = 1) impressions"
"$bin" an2k extract "$tmp/t/1_1.an2" "$tmp/x1" > /dev/null
"$bin" an2k extract "$tmp/t/1_2.an2" "$tmp/x2" > /dev/null
"$bin" compare "$tmp/x1/rec5_type14.wsq" "$tmp/x2/rec5_type14.wsq" > "$tmp/cmpt.txt"
st=$(awk '/^score/ {print int($2)}' "$tmp/cmpt.txt")
[ "$st" -ge 70 ] || fail "rolled prints of one finger scored $st (< 70)"
"$bin" compare "$tmp/x1/rec5_type14.wsq" "$tmp/x2/rec6_type14.wsq" > "$tmp/cmpt.txt"
st=$(awk '/^score/ {print int($2)}' "$tmp/cmpt.txt")
[ "$st" -le 20 ] || fail "rolled prints of two fingers scored $st (> 20)"

# bad options: a clear message and a non-zero exit, nothing written
for bad in "--size 100x100" "--difficulty 4" "--impressions 65" "--class spiral" "--format jpg"; do
    # shellcheck disable=SC2086
    if "$bin" synth prints --fingers 1 --out "$tmp/bad" $bad 2> "$tmp/err.txt"; then
        fail "synth prints $bad should fail"
    fi
    [ -s "$tmp/err.txt" ] || fail "synth prints $bad failed without a message"
done
[ ! -e "$tmp/bad/truth.jsonl" ] || fail "a refused run wrote a truth file"
echo ok
