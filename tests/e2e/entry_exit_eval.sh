#!/usr/bin/env bash
# Entry/exit answers against the generator's truth (issue 15) on a small
# generated population with noise: overstays from admission data, presence
# days, removal departures with evidence, scored by `perimeter eval
# entry-exit`; gates a small margin under the figures measured on this set
# (seed 5, 5000 people, 200 days, noise 0.05: overstays 57/57 precision and
# recall 1.0, presence complete-record within 1 day 0.9960, removals 35/35,
# none wrongly confirmed).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=$(realpath "${PERIMETER_BIN:?PERIMETER_BIN not set}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$bin" synth crossings --people 5000 --days 200 --seed 5 --noise 0.05 --split d --truth t.csv \
    --people-out p.csv --removals-out r.csv >/dev/null 2>&1
"$bin" crossings import --db c.db d/CAN.csv 2>/dev/null
"$bin" crossings import --db c.db --from-partner USA d/USA.csv 2>/dev/null
"$bin" link --db c.db >/dev/null
"$bin" eval entry-exit --db c.db --truth t.csv --people p.csv --country CAN --as-of 2026-07-24 \
    --stay CAN=0 --json > ev.json
jq -e '.overstays.true >= 40 and .overstays.precision >= 0.97 and .overstays.recall >= 0.97
       and .presence.complete_people > 2000
       and .presence.complete_exact / .presence.complete_people >= 0.98
       and .presence.complete_within_1 / .presence.complete_people >= 0.99
       and .presence.truth_in_range / .presence.people >= 0.99
       and .removals.departed >= 30 and .removals.wrongly_confirmed == 0
       and .removals.confirmed / .removals.departed >= 0.97' ev.json >/dev/null \
    || { cat ev.json; fail "entry/exit figures below the gates"; }
"$bin" eval entry-exit --db c.db --truth t.csv --people p.csv --country CAN --as-of 2026-07-24 \
    --stay CAN=0 > ev.txt
for k in precision recall "within 1 day" "wrongly confirmed" "settled counts"; do
    assert_contains ev.txt "$k"
done

# the reports carry their basis and evidence
"$bin" report overstays --db c.db --as-of 2026-07-24 --stay CAN=0 --json > os.json
jq -e '.overstays > 0 and (.rows | length) > 0
       and all(.rows[]; .stay_basis == "admission" or .stay_basis == "estimated")
       and all(.rows[]; .status == "overstay" or (.status == "departure_to_confirm"
                                                  and (.evidence | startswith("score"))))' \
    os.json >/dev/null || { head -c 2000 os.json; fail "overstays JSON"; }
awk -F, 'NR == 1 || $8 == "CAN"' r.csv > orders.csv
"$bin" report removals --db c.db --orders orders.csv --json > rm.json
jq -e '.departed > 0 and all(.rows[] | select(.status == "departed");
        (.exit_record | startswith("USA:")) and (.matched_by | length) > 0
        and (.evidence | contains("linked to the same traveller")))' rm.json >/dev/null \
    || { head -c 2000 rm.json; fail "removals JSON"; }
"$bin" report presence --db c.db --as-of 2026-07-24 --all --csv > pr.csv
assert_contains pr.csv '^traveller,window_from,window_to,days_present,.*,days_min,days_max,uncertain$'

# a stored crossing missing from the truth is a clear error
head -n 100 t.csv > short.csv
rc=0; "$bin" eval entry-exit --db c.db --truth short.csv --people p.csv --country CAN \
    --as-of 2026-07-24 >/dev/null 2>err.txt || rc=$?
[ "$rc" = 3 ] || fail "short truth: exit $rc"
assert_contains err.txt 'has no truth'
rc=0; "$bin" eval entry-exit --db c.db --truth t.csv --people p.csv >/dev/null 2>err.txt || rc=$?
[ "$rc" = 2 ] || fail "missing --country/--as-of: exit $rc"
echo "entry_exit_eval: ok"
