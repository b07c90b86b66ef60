#!/usr/bin/env bash
# perimeter vet end to end on a synthetic cohort of 20 applicants (5 known to
# the partner, 3 bad captures) against the partner's gallery snapshot: every
# outcome agrees with the truth (every seeded applicant found under its
# partner subject id, no one else), bad captures are queued for re-capture,
# and a run killed with SIGKILL resumes without skipping anyone and without
# querying anyone twice except the one query in flight at the kill.
# ctest-label: heavy
set -euo pipefail
source "$(dirname "$0")/lib.sh"
P=${PERIMETER_BIN:?}
T=$(mktemp -d)
bg=
cleanup() {
    if [ -n "$bg" ]; then kill -9 "$bg" 2>/dev/null || true; wait "$bg" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T"

"$P" synth cohort --out coh --applicants 20 --known 5 --bad 3 --distractors 100 --seed 13 \
    --threads 2 > gen.out
assert_contains gen.out "wrote 20 applicants"

# check_truth OUT: every case file's outcome (and match candidate) as the truth says
check_truth() {
    local out=$1 app file subj cap expected got cand n=0
    while IFS=, read -r app file subj cap expected; do
        [ "$app" = applicant ] && continue
        [ -s "$out/cases/$app.json" ] || fail "$out: no case file for $app"
        got=$(jq -r .outcome "$out/cases/$app.json")
        [ "$got" = "$expected" ] || fail "$out: $app is $got, the truth says $expected ($cap)"
        if [ "$expected" = match ]; then
            cand=$(jq -r '.partner.candidates[0].subject' "$out/cases/$app.json")
            [ "$cand" = "$subj" ] || fail "$out: $app matched $cand, the truth says $subj"
            [ "$(jq -r '.partner.candidates | length' "$out/cases/$app.json")" = 1 ] ||
                fail "$out: $app has more than one candidate"
        fi
        n=$((n + 1))
    done < coh/truth.csv
    [ "$n" = 20 ] || fail "truth rows: $n"
}

# 1. one uninterrupted run
"$P" vet coh --purpose REFUGEE_VETTING --partner-gallery coh/partner/gallery.snap \
    --workers 2 --out run1 --query-log q1.log > run1.out
assert_contains run1.out "applicants 20: done 20, pending 0"
assert_contains run1.out "match +5 "
assert_contains run1.out "failed capture +2"
check_truth run1
[ "$(wc -l < run1/adjudication.jsonl)" = 5 ] || fail "adjudication list: 5 matches expected"
[ "$(jq -r .status run1/adjudication.jsonl | sort -u)" = pending_review ] || fail "review status"
# re-capture: the three bad captures at least, each with its reason
for kind in blank bad_finger corrupt; do
    app=$(awk -F, -v k=$kind '$4 == k { print $1 }' coh/truth.csv)
    assert_contains run1/recapture.csv "^$app," "recapture.csv ($kind)"
done
# one query per applicant with a usable capture, none for failed captures
[ "$(wc -l < q1.log)" = 18 ] || fail "expected 18 partner queries, got $(wc -l < q1.log)"
[ "$(sort q1.log | uniq -d | wc -l)" = 0 ] || fail "an applicant was queried twice"
jq -e '.outcomes.match == 5 and .outcomes.no_match == 13 and .outcomes.failed_capture == 2
       and .this_run.queries == 18 and .applicants == 20' run1/summary.json > /dev/null ||
    fail "summary.json: $(cat run1/summary.json)"
# a second run has nothing left to do
"$P" vet coh --purpose REFUGEE_VETTING --partner-gallery coh/partner/gallery.snap \
    --out run1 --query-log q1.log > again.out
[ "$(wc -l < q1.log)" = 18 ] || fail "a finished cohort was queried again"

# 2. killed with SIGKILL part way, then resumed
"$P" vet coh --purpose REFUGEE_VETTING --partner-gallery coh/partner/gallery.snap \
    --workers 1 --out run2 --query-log q2.log > run2a.out 2>&1 &
bg=$!
for i in $(seq 1 600); do
    n=$( (ls run2/cases 2>/dev/null || true) | wc -l)
    [ "$n" -ge 6 ] && break
    kill -0 "$bg" 2>/dev/null || fail "the run ended before it could be killed"
    sleep 0.05
done
kill -9 "$bg"
wait "$bg" 2>/dev/null || true
bg=
done_before=$(sqlite3 run2/journal.sqlite "SELECT count(*) FROM applicants WHERE state = 'done'")
[ "$done_before" -ge 5 ] && [ "$done_before" -lt 20 ] || fail "killed run: $done_before done"
"$P" vet coh --purpose REFUGEE_VETTING --partner-gallery coh/partner/gallery.snap \
    --workers 2 --out run2 --query-log q2.log > run2b.out
assert_contains run2b.out "applicants 20: done 20, pending 0"
check_truth run2
# every queryable applicant queried; a repeat only for the query in flight at the kill
[ "$(sort -u q2.log | wc -l)" = 18 ] || fail "distinct queries: $(sort -u q2.log | wc -l)"
dups=$(sort q2.log | uniq -d | wc -l)
[ "$dups" -le 1 ] || fail "$dups applicants queried twice"
resent=$(jq -r .this_run.resent run2/summary.json)
# the kill can land after the journal marked a query "sent" and before the
# transport saw it: then it is resent but appears once in the log
[ "$dups" -le "$resent" ] && [ "$resent" -le 1 ] ||
    fail "summary says $resent resent, the log shows $dups repeats"
[ "$(sqlite3 run2/journal.sqlite "SELECT max(attempts) FROM applicants")" -le 2 ] ||
    fail "an applicant was sent more than twice"

# 3. refused: an output folder of another purpose, no purpose, two partners
if "$P" vet coh --purpose ENTRY_EXIT --partner-gallery coh/partner/gallery.snap --out run1 \
    > other.out 2>&1; then fail "a journal of another purpose was reused"; fi
assert_contains other.out "belongs to a run with purpose 'REFUGEE_VETTING'"
if "$P" vet coh --partner-gallery coh/partner/gallery.snap > nop.out 2>&1; then
    fail "ran without a purpose"
fi
if "$P" vet coh --purpose X --partner-gallery a --config b > two.out 2>&1; then
    fail "two partners accepted"
fi
assert_contains two.out "give one partner"
echo OK
