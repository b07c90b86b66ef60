#!/usr/bin/env bash
# The officers' web console in headless Chromium (docs/console.md): a node on
# a free 127.0.0.1 port with its own data on synthetic data (a vetted cohort
# in its vetting folder, imported crossings), officers of each console role,
# then `node --test tests/browser` (playwright-core driving /usr/bin/chromium):
# login, vetting case with the minutiae overlays, confirm into the R14 queue,
# traveller timeline, audit view; refused: logged out, wrong role, cross-site.
# Screenshots go to docs/console/. chromium, node and
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
"$bin" synth cohort --out pair/CAN/vetting --applicants 4 --known 2 --bad 1 --seed 4 --threads 2 \
    --purpose "$purpose" >gen.out || fail "synth cohort: $(cat gen.out)"
(cd pair/CAN/vetting && "$bin" vet . --purpose "$purpose" --partner-gallery partner/gallery.snap \
    --out run1 --workers 2 >vet.out 2>vet.err) || fail "vet: $(cat pair/CAN/vetting/vet.err)"
match=$(grep -l '"outcome": "match"' pair/CAN/vetting/run1/cases/*.json | head -1)
[ -n "$match" ] || fail "no match in the run"
match=$(basename "$match" .json)
for r in adj:adjudicator analyst:analyst auditor:auditor vet:vetting_officer; do
    PERIMETER_PASSWORD=correct-horse "$bin" officer add --config pair/CAN/node.json \
        --role "${r#*:}" "${r%%:*}" >/dev/null || fail "officer add $r"
done
start_node CAN
tok=$(officer_token CAN)
"$bin" bench ingest --rows 200 --write-jsonl day.jsonl >/dev/null 2>&1 || fail "bench ingest"
PERIMETER_TOKEN=$tok "$bin" officer import --config pair/CAN/node.json day.jsonl >imp.out ||
    fail "import: $(cat imp.out)"
"$bin" link --db pair/CAN/perimeter.db >link.out 2>&1 || fail "link: $(cat link.out)"
document=$(head -1 day.jsonl | jq -r .document_number)
[ -n "$document" ] && [ "$document" != null ] || fail "no document in $(head -1 day.jsonl)"

mkdir -p "$src/docs/console"
rc=0
CONSOLE_URL=$(url CAN) CONSOLE_RUN=run1 CONSOLE_MATCH_CASE=$match CONSOLE_DOCUMENT=$document \
    CONSOLE_SHOTS=$src/docs/console \
    node --test --test-reporter=spec "$src/tests/browser/" >browser.out 2>&1 || rc=$?
cat browser.out
[ "$rc" = 0 ] || fail "browser tests failed (exit $rc)"
assert_contains browser.out "pass 6"
echo "console browser tests: ok"
