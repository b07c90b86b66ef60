#!/usr/bin/env bash
# make demo: the two-country story on loopback. Canada and the United States
# each run a Perimeter node with the same agreement; a week of crossings is
# exchanged through the nodes (an entry into one country is an exit from the
# other), Canada vets a cohort of refugee applicants' fingerprints against the
# US holdings, both sides run their reports, the US pre-clears a flight, and
# each side checks the other's disclosure log against signed checkpoints.
# Everything is generated (synthetic people and fingerprints); nothing from
# ../shared is needed. Output stays in the folder printed at the end.
set -euo pipefail
bin=${1:-build/perimeter}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
work=${PERIMETER_DEMO_DIR:-$(mktemp -d /tmp/perimeter-demo.XXXXXX)}
mkdir -p "$work"
cd "$work"
rm -rf pair gen coh vet-out ./*.csv ./*.json ./*.log ./*.txt
say() { printf '\n== %s\n' "$*"; }
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# two free loopback ports
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 20000))
        if port_free "$p" && [ "$p" != "${1:-0}" ]; then echo "$p"; return; fi
    done
    echo "no free port" >&2
    exit 1
}
port_can=$(pick_port)
port_usa=$(pick_port "$port_can")

"$bin" --version
say "1. Two populations and a week of their land-border crossings (synthetic people)"
"$bin" synth crossings --people 20000 --days 7 --seed 2026 --countries CAN,USA \
    --split gen --truth gen/truth.csv --people-out gen/people.csv --noise 0.05
wc -l gen/CAN.csv gen/USA.csv

say "2. Two nodes, each with its key, certificate, the partner's CA and the same agreement"
"$bin" init --country CAN --partner USA --port "$port_can" --partner-port "$port_usa" pair
echo "agreement hash (both sides): $("$bin" agreement hash pair/CAN/agreement-USA.json)"
for cc in CAN USA; do
    "$bin" serve --config "pair/$cc/node.json" 2>>"$cc.log" &
    pids+=($!)
done
for cc in CAN USA; do
    port=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' "pair/$cc/node.json" | head -1)
    for i in $(seq 1 100); do
        curl -s -o /dev/null --cacert "pair/$cc/ca/ca.pem" "https://127.0.0.1:$port/health" && break
        sleep 0.1
    done
    echo "$cc node up on https://127.0.0.1:$port (log $work/$cc.log)"
done
token() { # CC USER ROLE
    PERIMETER_PASSWORD=demo-pass-$2 "$bin" officer add --config "pair/$1/node.json" --replace \
        --role "$3" "$2" >/dev/null
    PERIMETER_PASSWORD=demo-pass-$2 "$bin" officer login --config "pair/$1/node.json" --user "$2"
}
tok_can=$(token CAN claire supervisor)
tok_usa=$(token USA sam supervisor)

say "3. Each country's ports post their own crossings to their node; the feed carries the entries"
PERIMETER_TOKEN=$tok_can "$bin" officer import --config pair/CAN/node.json gen/CAN.csv
PERIMETER_TOKEN=$tok_usa "$bin" officer import --config pair/USA/node.json gen/USA.csv
stat() { "$bin" crossings stats --db "pair/$1/perimeter.db" --json | sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" | head -1; }
for i in $(seq 1 300); do
    [ "$(stat USA partner_exits)" = "$(stat CAN our_entries)" ] &&
        [ "$(stat CAN partner_exits)" = "$(stat USA our_entries)" ] && break
    sleep 0.2
done
for cc in CAN USA; do
    echo "--- $cc"
    "$bin" crossings stats --db "pair/$cc/perimeter.db"
done
PERIMETER_TOKEN=$tok_can "$bin" partner feed-status --config pair/CAN/node.json | sed -n 1,12p

say "4. Each side links its records into travellers; reports from the running node"
for cc in CAN USA; do
    "$bin" link --db "pair/$cc/perimeter.db" | tail -1
done
PERIMETER_TOKEN=$tok_can "$bin" officer report reconcile --config pair/CAN/node.json | sed -n 1,6p
echo "(overstays need more than a week of data; the figures against the generator's truth:"
echo " perimeter eval entry-exit, docs/link.md)"
"$bin" eval linkage --crossings <(cat gen/CAN.csv; tail -n +2 gen/USA.csv) \
    --truth gen/truth.csv --country CAN --em 0 | grep -E '^(records|persons|precision|recall)' || true

say "5. Refugee cohort vetting: 12 applicants' ten-prints, 3 of them known to the US"
"$bin" synth cohort --out coh --applicants 12 --known 3 --bad 1 --seed 2026 --threads 2
# the US holds its own encounters of those three: enrolled through its officer route
for subj in $(awk -F, 'NR > 1 { print $1 }' coh/partner/enroll.csv | sort -u); do
    files=$(awk -F, -v s="$subj" 'NR > 1 && $1 == s { print "coh/partner/" $4 "@" $3 }' coh/partner/enroll.csv)
    # shellcheck disable=SC2086
    PERIMETER_TOKEN=$tok_usa "$bin" officer enrol --config pair/USA/node.json --subject "$subj" \
        $files --json >/dev/null
done
echo "US gallery: $(awk -F, 'NR > 1' coh/partner/enroll.csv | wc -l) fingers of $(awk -F, 'NR > 1 { print $1 }' coh/partner/enroll.csv | sort -u | wc -l) subjects"
PERIMETER_TOKEN=$tok_can "$bin" vet coh --purpose ASYLUM --config pair/CAN/node.json \
    --partner USA --out vet-out --workers 2 || true
echo "--- against the generator's truth (coh/truth.csv):"
ok=0; bad=0
while IFS=, read -r app _ _ _ expected; do
    [ "$app" = applicant ] && continue
    got=$(sed -n 's/.*"outcome": *"\([a-z_]*\)".*/\1/p' "vet-out/cases/$app.json" 2>/dev/null | head -1)
    if [ "$got" = "$expected" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "  $app: $got (truth: $expected)"; fi
done <coh/truth.csv
echo "  $ok applicants as the truth says, $bad not"
echo "--- the matches wait in the Canadian node's review queue (R14); a supervisor decides each"
port_c=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' pair/CAN/node.json | head -1)
api() { # METHOD PATH [BODY]: the CAN node's officer API as claire
    curl -s --cacert pair/CAN/ca/ca.pem -H "Authorization: Bearer $tok_can" -X "$1" \
        ${3:+-H 'Content-Type: application/json' --data "$3"} "https://127.0.0.1:$port_c$2"
}
api GET '/v1/reviews?status=pending' >reviews-pending.json
echo "pending review: $(jq '.reviews | length' reviews-pending.json) match(es)"
: >reviews-decided.txt
while read -r line; do
    app=$(jq -r .applicant <<<"$line")
    rid=$(jq -r '.review_id // empty' <<<"$line")
    [ -n "$rid" ] || { echo "  $app: no review item in the node's queue"; continue; }
    before=$(api POST "/v1/reviews/$rid/act" | jq -r '.rule // .allowed')
    # the supervisor compares the applicant's case file with the partner's disclosure, then decides
    api POST "/v1/reviews/$rid/decision" \
        "{\"decision\":\"confirm\",\"why\":\"ten-print match checked against case file $app\"}" >/dev/null
    after=$(api POST "/v1/reviews/$rid/act" | jq -r '.allowed // .rule')
    echo "  $app: review $rid, adverse decision before confirmation: refused $before; after: allowed $after"
    echo "$app" >>reviews-decided.txt
done <vet-out/adjudication.jsonl
api GET '/v1/reviews?status=confirmed' >reviews-confirmed.json
# confirmed review items -> applicants (through the transaction id of each case file)
jq -r '.reviews[].txn' reviews-confirmed.json | sort >confirmed-txn.txt
for f in vet-out/cases/*.json; do
    jq -r 'select(.review.review_id != null) | "\(.transaction_id) \(.applicant)"' "$f"
done | sort >txn-applicant.txt
join confirmed-txn.txt txn-applicant.txt | awk '{ print $2 }' | sort >confirmed.txt
awk -F, '$5 == "match" { print $1 }' coh/truth.csv | sort >seeded.txt
missed=$(comm -23 seeded.txt confirmed.txt | wc -l)
extra=$(comm -13 seeded.txt confirmed.txt | wc -l)
echo "ground truth: $(wc -l <seeded.txt) seeded in the US gallery, $(wc -l <confirmed.txt) found and confirmed through review; missed $missed, confirmed but not seeded $extra"
echo "--- the decisions copied back into the case files and summary (perimeter vet refresh)"
PERIMETER_TOKEN=$tok_can "$bin" vet refresh vet-out --config pair/CAN/node.json
for f in vet-out/cases/*.json; do
    jq -r 'select(.review.status == "confirmed") | .applicant' "$f"
done | sort >case-confirmed.txt
echo "case files: $(wc -l <case-confirmed.txt) confirmed, missed $(comm -23 seeded.txt case-confirmed.txt | wc -l), confirmed but not seeded $(comm -13 seeded.txt case-confirmed.txt | wc -l); summary: $(jq -c .review vet-out/summary.json)"

say "6. The US pre-clears a flight to the US: documents, watchlist, past stays"
"$bin" synth manifest --from-people gen/people.csv --passengers 200 --flights 1 --seed 7 \
    --date 2026-01-12 -o manifest.csv --truth manifest-truth.csv
"$bin" synth watchlist --from-people gen/people.csv --size 2000 --hits 500 --seed 7 \
    -o watchlist.csv --truth watchlist-truth.csv
"$bin" preclear manifest.csv --watchlist watchlist.csv --db pair/USA/perimeter.db \
    --stay USA=0 --json >preclear.json
jq -r '"passengers \(.passengers): cleared \(.cleared), refer \(.refer), do not board \(.do_not_board); per traveller p50 \(.ms_p50 * 1000 | floor) us, p95 \(.ms_p95 * 1000 | floor) us"' preclear.json
jq -r '.rows[] | select(.decision != "cleared") | "  \(.passenger_seq) \(.name): \(.decision): \(.reasons)"' preclear.json | cut -c1-160
echo "(every traveller's decision and reasons: $work/preclear.json)"

say "7. Disclosure logs: checkpoints signed and exchanged, then each side's log verified"
for cc in CAN USA; do
    port=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' "pair/$cc/node.json" | head -1)
    t=$tok_can; [ "$cc" = USA ] && t=$tok_usa
    curl -s --cacert "pair/$cc/ca/ca.pem" -H "Authorization: Bearer $t" -X POST \
        "https://127.0.0.1:$port/v1/audit/checkpoint" >/dev/null
done
cleanup
pids=()
echo "nodes stopped"
"$bin" audit report pair/USA/audit.log | sed -n 1,12p
for cc in CAN USA; do
    other=USA; [ "$cc" = USA ] && other=CAN
    echo "--- $cc's log, checked against the checkpoints $other holds of it:"
    "$bin" audit verify "pair/$cc/audit.log" --checkpoints "pair/$other/partners/$cc-checkpoints.jsonl" \
        --key "$(cat "pair/$cc/audit.pub")"
done

say "Done. Nodes' databases, logs and every output are in $work"
