#!/usr/bin/env bash
# perimeter synth cohort: the applicants' transactions validate, the partner's
# holdings and the truth agree, bad captures are what the truth says, and an
# existing cohort is not overwritten. No shared data.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
P=${PERIMETER_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

"$P" synth cohort --out coh --applicants 7 --known 2 --bad 3 --distractors 5 --seed 3 \
    --threads 2 > gen.out
assert_contains gen.out "wrote 7 applicants to coh/applicants \(2 known to the partner, 3 bad captures\)"
assert_contains gen.out "partner gallery coh/partner/gallery.snap: 70 fingers \(2 known subjects, 5 distractors\)"
assert_contains gen.out "s CPU per applicant"
[ "$(ls coh/applicants | wc -l)" = 7 ] || fail "expected 7 transactions"
[ "$(wc -l < coh/truth.csv)" = 8 ] || fail "truth.csv: expected a header and 7 rows"
[ "$(grep -c ',match$' coh/truth.csv)" = 2 ] || fail "truth: 2 known applicants expected"
for kind in blank bad_finger corrupt; do
    [ "$(grep -c ",$kind," coh/truth.csv)" = 1 ] || fail "truth: one $kind capture expected"
done
# known applicants are not bad captures, and each has a partner subject id
awk -F, 'NR > 1 && $5 == "match" && ($3 == "" || $4 != "good") { bad = 1 } END { exit bad }' \
    coh/truth.csv || fail "a known applicant without a subject id or with a bad capture"
# 2 known subjects x 10 fingers in enroll.csv, every template readable
[ "$(tail -n +2 coh/partner/enroll.csv | wc -l)" = 20 ] || fail "enroll.csv: 20 rows expected"
(cd coh/partner && "$P" enroll --db p.db --list enroll.csv > ../../enroll.out)
assert_contains enroll.out "enrolled 20 finger view"

good=$(awk -F, '$4 == "good" { print $2; exit }' coh/truth.csv)
"$P" an2k validate "coh/$good" > val.out
assert_contains val.out "valid \(12 records, 0 errors"
"$P" an2k dump "coh/$good" > dump.out
assert_contains dump.out "\[2.018\]=[A-Z' -]+,"
assert_contains dump.out "\[2.037\]=REFUGEE_VETTING"
cut=$(awk -F, '$4 == "corrupt" { print $2 }' coh/truth.csv)
if "$P" an2k validate "coh/$cut" > cut.out 2>&1; then fail "a cut transaction validated"; fi

# the same seed gives the same transactions
"$P" synth cohort --out coh2 --applicants 7 --known 2 --bad 3 --distractors 5 --seed 3 \
    --threads 1 > gen2.out
cmp "coh/$good" "coh2/$good" || fail "same seed, different bytes"
cmp coh/truth.csv coh2/truth.csv || fail "same seed, different truth"

# refused: an existing cohort, known + bad over the applicants, bad numbers
if "$P" synth cohort --out coh --applicants 2 > again.out 2>&1; then fail "overwrote a cohort"; fi
assert_contains again.out "already holds a cohort"
if "$P" synth cohort --out c3 --applicants 2 --known 2 --bad 1 > over.out 2>&1; then
    fail "known + bad > applicants accepted"
fi
assert_contains over.out "exceed the applicants"
if "$P" synth cohort --out c4 --applicants x > num.out 2>&1; then fail "bad number accepted"; fi
assert_contains num.out "not an integer"
echo OK
