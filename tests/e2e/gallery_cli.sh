#!/usr/bin/env bash
# The gallery commands end to end: synth templates -> enroll -> identify /
# verify -> a corrupt or truncated snapshot is rebuilt from the store.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
P=${PERIMETER_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

"$P" synth templates --out syn --subjects 150 --fingers 2 --probes 6 --seed 11 > synth.out
assert_contains synth.out "wrote 300 gallery templates and 6 probes"
"$P" enroll --db g.db --list syn/enroll.csv > enroll.out
assert_contains enroll.out "enrolled 300 finger view"
[ -s g.db.gallery ] || fail "no snapshot written"

# probe 1 is mated (every third probe): its subject comes first
line=$(sed -n 2p syn/probes.csv)
probe=${line%%,*}
mate=${line##*,}
[ -n "$mate" ] || fail "probe 1 has no mate in probes.csv"
"$P" identify --db g.db --json --top 3 "$probe" > id.json
first=$(jq -r '.candidates[0].subject' id.json)
[ "$first" = "$mate" ] || fail "identify returned $first, mate is $mate"
# the same with the fast first stage in front of the exact matcher
"$P" identify --db g.db --json --top 3 --first-stage "$probe" > idfs.json
first=$(jq -r '.candidates[0].subject' idfs.json)
[ "$first" = "$mate" ] || fail "identify --first-stage returned $first, mate is $mate"
"$P" verify --db g.db --subject "$mate" --json "$probe" > v.json
score=$(jq -r '.verification[0].score' v.json)
awk -v s="$score" 'BEGIN { exit !(s > 30) }' || fail "verify score $score <= 30"

# two probe fingers: the fused score is calibrated per subject compared
# (the built-in fused calibration, as the node's), --raw-fused shows it raw
"$P" identify --db g.db --json --top 3 "$probe" "$probe" > id2f.json
[ "$(jq -r '.candidates[0].subject' id2f.json)" = "$mate" ] || fail "two-finger identify lost the mate"
jq -e '.candidates[0] | .fused_raw > .score and .score > 0' id2f.json >/dev/null ||
    fail "two-finger score not calibrated below the raw fused one: $(jq -c '.candidates[0]' id2f.json)"
"$P" identify --db g.db --json --top 3 --raw-fused "$probe" "$probe" > id2r.json
jq -e --argjson r "$(jq '.candidates[0].fused_raw' id2f.json)" \
    '.candidates[0] | .score == .fused_raw and .fused_raw == $r' id2r.json >/dev/null ||
    fail "--raw-fused: $(jq -c '.candidates[0]' id2r.json)"
"$P" verify --db g.db --subject "$mate" --json "$probe" "$probe" > v2f.json
jq -e --argjson s "$(jq '.candidates[0].score' id2f.json)" \
    '.verification[0] | .fused_raw > .score and (.score - $s | fabs) < 1e-6' v2f.json >/dev/null ||
    fail "two-finger verify: $(jq -c '.verification[0]' v2f.json) vs identify $(jq -c '.candidates[0]' id2f.json)"

# a non-mated probe (probe 2) finds nobody above the FPIR 0.1% threshold
line=$(sed -n 3p syn/probes.csv)
"$P" identify --db g.db --json --fpir 0.001 "${line%%,*}" > nm.json
[ "$(jq '.candidates | length' nm.json)" -le 1 ] || fail "non-mated probe: several candidates above threshold"

# identification calibration: the FPIR threshold and each candidate's
# id_score follow it (loc 10, growth 2, scale 2 over the 300 records searched)
"$P" identify --db g.db --json --fpir 0.01 --calibration 10,2,2 "$probe" > cal.json
awk -v t="$(jq -r '.threshold' cal.json)" 'BEGIN { exit !(t > 30.5 && t < 30.7) }' ||
    fail "calibrated threshold $(jq -r '.threshold' cal.json), want 10 + 2*ln(300/-ln(0.99)) = 30.61"
[ "$(jq -r '.candidates[0].subject' cal.json)" = "$mate" ] || fail "calibrated search lost the mate"
ids=$(jq -r '.candidates[0].id_score' cal.json)
awk -v s="$ids" 'BEGIN { exit !(s > 20) }' || fail "mate's id_score $ids <= 20"
rc=0
"$P" identify --db g.db --calibration 10,2 "$probe" > /dev/null 2> calbad.err || rc=$?
[ "$rc" = 2 ] || fail "--calibration without a scale: exit $rc, want 2"

# corrupt snapshot: detected, rebuilt from the store, same answer
printf '\x55' | dd of=g.db.gallery bs=1 seek=200 conv=notrunc status=none
"$P" gallery stats --db g.db > stats.out
assert_contains stats.out "rebuilt from the store"
assert_contains stats.out "checksum mismatch"
assert_contains stats.out "fingers 300"
head -c 1000 g.db.gallery > cut && mv cut g.db.gallery
"$P" identify --db g.db --json "$probe" > id2.json
[ "$(jq -r '.candidates[0].subject' id2.json)" = "$mate" ] || fail "after truncation: wrong answer"
"$P" gallery stats --db g.db > stats2.out
assert_contains stats2.out "snapshot g.db.gallery loaded"

# enrol one more subject: the snapshot follows the store
"$P" enroll --db g.db --subject 5000 --position 1 syn/p/2.pmt > e2.out
assert_contains e2.out "gallery holds 301"
"$P" gallery rebuild --db g.db --json > rb.json
[ "$(jq -r .fingers rb.json)" = 301 ] || fail "rebuild count"

# off-centre probes: the same gallery, other probes; out of range refused
"$P" synth templates --out syn2 --subjects 150 --fingers 2 --probes 6 --seed 11 --shifted 1 > synth2.out
cmp -s syn/g/1_1.pmt syn2/g/1_1.pmt || fail "--shifted changed a gallery template"
differ=0
for i in 1 2 3 4 5 6; do cmp -s "syn/p/$i.pmt" "syn2/p/$i.pmt" || differ=$((differ + 1)); done
[ "$differ" = 6 ] || fail "--shifted 1 changed $differ of 6 probes, not all"
rc=0
"$P" synth templates --out syn3 --shifted 1.5 > bad3.out 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "synth templates --shifted 1.5 exited $rc, not 2"

# the benchmark, small: off-centre probes are reported and the mates found;
# an out-of-range option is refused
"$P" bench gallery --size 2000 --probes 30 --exhaustive 30 --tenprints 0 --threads 2 --seed 5 \
    --dir "$T" --shifted 0.3 > bench.out
assert_contains bench.out "30% of these probes placed off-centre .a further 75-150 px"
assert_contains bench.out "rank-1"
# the first stage's rank-1 (the second rank-1 line) over 10 mated probes
r1=$(sed -n 's/.*rank-1 \([0-9.]*\)% of 10 mated.*/\1/p' bench.out | tail -1)
[ -n "$r1" ] || fail "no first-stage rank-1 in bench.out"
awk -v r="$r1" 'BEGIN { exit !(r >= 70) }' || fail "bench gallery rank-1 $r1% < 70%"
rc=0
"$P" bench gallery --size 2000 --shifted 2 > bad.out 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "bench gallery --shifted 2 exited $rc, not 2"
assert_contains bad.out "--shifted 0..1"
echo "ok"
