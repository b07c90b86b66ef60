#!/usr/bin/env bash
# The officers' web console in headless Chromium (docs/console.md): a node on
# a free 127.0.0.1 port with its own data on synthetic data (a vetted cohort
# in its vetting folder, imported crossings), officers of each console role,
# then `node --test tests/browser` (playwright-core driving /usr/bin/chromium):
# login, vetting case with the minutiae overlays, confirm into the R14 queue,
# traveller timeline, audit view; refused: logged out, wrong role, cross-site.
# Screenshots go to the test's own folder, or to $PERIMETER_CONSOLE_SHOTS
# when set (PERIMETER_CONSOLE_SHOTS=$PWD/docs/console refreshes the pictures
# in docs/console/; a plain test run never rewrites the source tree). chromium, node and
# tests/browser/node_modules are installed by scripts/deps.sh (make deps);
# without them the test fails, naming what is missing.
# ctest-label: heavy
set -euo pipefail
source "$(dirname "$0")/lib.sh"
src=${PERIMETER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium missing: run scripts/deps.sh"
command -v node >/dev/null || fail "node missing: run scripts/deps.sh"
[ -d "$src/tests/browser/node_modules/playwright-core" ] ||
    fail "playwright-core missing: run scripts/deps.sh (npm ci in tests/browser)"
source "$(dirname "$0")/node_lib.inc"

make_pair
purpose=$(jq -r '.purposes[0]' pair/CAN/agreement-USA.json)
# a cohort vetted against the partner's holdings, in the node's vetting folder
"$bin" synth cohort --out pair/CAN/vetting --applicants 2 --known 1 --seed 4 --threads 2 \
    --purpose "$purpose" >gen.out || fail "synth cohort: $(cat gen.out)"
(cd pair/CAN/vetting && "$bin" vet . --purpose "$purpose" --partner-gallery partner/gallery.snap \
    --out run1 --workers 2 >vet.out 2>vet.err) || fail "vet: $(cat pair/CAN/vetting/vet.err)"
match=$(grep -l '"outcome": "match"' pair/CAN/vetting/run1/cases/*.json | head -1)
[ -n "$match" ] || fail "no match in the run"
match=$(basename "$match" .json)
# crossings of both countries, linked; a high link threshold (25) with review
# from 0 puts many pairs in the linkage review queue for the accept/split view
"$bin" synth crossings --people 200 --days 365 --seed 7 --noise 0.2 --split split \
    --format jsonl >synth.out 2>&1 || fail "synth crossings: $(cat synth.out)"
for f in split/CAN.jsonl split/USA.jsonl; do
    "$bin" crossings import --db pair/CAN/perimeter.db "$f" >imp.out 2>&1 || fail "import: $(cat imp.out)"
done
"$bin" link --db pair/CAN/perimeter.db --link 25 --review 0 >link.out 2>&1 || fail "link: $(cat link.out)"
"$bin" report history --db pair/CAN/perimeter.db --traveller 2 --json >hist.json ||
    fail "history: $(cat hist.json)"
document=$(jq -r '.rows[0].document' hist.json | cut -d' ' -f2)
issuer=$(jq -r '.rows[0].document' hist.json | cut -d' ' -f1)
[ -n "$document" ] && [ "$document" != null ] || fail "no document: $(head -c 300 hist.json)"
[ "$(jq '[.rows[].reporting_country] | unique | length' hist.json)" = 2 ] ||
    fail "traveller 2 crossed only one country's border"
# a traveller the linker linked by itself (an automatic link, with its evidence)
linked=$(sqlite3 pair/CAN/perimeter.db "SELECT r.traveller FROM link_evidence e JOIN link_record r
    ON r.crossing_id = e.crossing_id WHERE e.how = 'link' ORDER BY e.id LIMIT 1")
[ -n "$linked" ] || fail "the linker made no automatic link: $(cat link.out)"
# a flight manifest for pre-clearance: traveller 2, an expired passport, a
# listed name, a clean passenger
mkdir -p pair/CAN/preclear
sur=$(jq -r '.rows[0].surname' hist.json)
giv=$(jq -r '.rows[0].given_names' hist.json)
dob=$(jq -r '.rows[0].date_of_birth' hist.json)
cit=$(jq -r '.rows[0].citizenship' hist.json)
cat >pair/CAN/preclear/AC123.csv <<CSV
flight_id,passenger_seq,surname,given_names,middle_names,date_of_birth,sex,citizenship,document_type,document_number,document_issuer,document_expiry,scheduled_departure
AC123,1,$sur,$giv,,$dob,M,$cit,P,$document,$issuer,2031-01-01,2026-12-01T08:00:00-05:00
AC123,2,MARTIN,CLAIRE,,1992-05-05,F,FRA,P,F1234567,FRA,2026-11-30,2026-12-01T08:00:00-05:00
AC123,3,KOWALSKI,PIOTR,,1966-04-04,M,POL,P,PL777777,POL,2031-01-01,2026-12-01T08:00:00-05:00
AC123,4,DUBOIS,MARC,,1988-03-03,M,FRA,P,F7654321,FRA,2029-01-01,2026-12-01T08:00:00-05:00
CSV
cat >pair/CAN/preclear/watchlist.csv <<CSV
watchlist_id,surname,given_names,date_of_birth,sex,citizenship,document_number,document_issuer,reason
W1,KOWALSKI,PIOTR,1966-04-04,M,POL,,,criminal_warrant
CSV
for r in adj:adjudicator analyst:analyst auditor:auditor vet:vetting_officer; do
    PERIMETER_PASSWORD=correct-horse "$bin" officer add --config pair/CAN/node.json \
        --role "${r#*:}" "${r%%:*}" >/dev/null || fail "officer add $r"
done
start_node CAN

shots=${PERIMETER_CONSOLE_SHOTS:-$PWD/shots}
mkdir -p "$shots"
rc=0
CONSOLE_VETTING=$PWD/pair/CAN/vetting CONSOLE_URL=$(url CAN) CONSOLE_RUN=run1 CONSOLE_MATCH_CASE=$match CONSOLE_DOCUMENT=$document CONSOLE_ISSUER=$issuer CONSOLE_LINKED=$linked \
    CONSOLE_SHOTS=$shots \
    node --test --test-reporter=spec "$src/tests/browser/" >browser.out 2>&1 || rc=$?
cat browser.out
[ "$rc" = 0 ] || fail "browser tests failed (exit $rc)"
assert_contains browser.out "pass 7"
assert_contains browser.out "fail 0"
nshots=$(find "$shots" -name '*.png' -size +1k | wc -l)
[ "$nshots" -ge 11 ] || fail "expected the 11 view screenshots in $shots, found $nshots"
echo "console browser tests: ok"
