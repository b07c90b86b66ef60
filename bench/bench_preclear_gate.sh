#!/usr/bin/env bash
# Pre-clearance at the gate, per traveller, end to end on two real nodes
# (issue 13 part 3): for each of N travellers, (a) the officer's
# POST /v1/preclear on USA's node with the traveller's manifest row and his
# gate capture (document checks, stay history from USA's store, the
# fingerprint 1:1 against his enrolled prints), then (b) the partner round
# trip: the same capture as an anonymous biometric query through USA's node
# to CAN's (POST /v1/partners/CAN/query/biometric: USA's log, mutual TLS,
# CAN's policy, log and 1:N). Per traveller = (a) + (b), wall clock from the
# client (curl), p50 / p95 / max; baseline in the same run: GET /health.
# Then the whole flight in one request with the 1:N gate (per traveller =
# request time / N).
#
#   bench/bench_preclear_gate.sh BIN [N] [ROUNDS]  (N travellers, default 20)
#
# When build/bench/bench_gate exists beside BIN's build (or $BENCH_GATE
# names it), the same requests are then sent by that C client (libcurl), in
# one process: once over one kept-open connection as a gate client does,
# once with a fresh connection and TLS handshake per call; ROUNDS times
# over the N travellers (default 3).
#
# Data: `synth prints` (seed 11, 300x300, two impressions per finger: the
# first enrolled, the second captured at the gate), extracted by our
# extractor; travellers' names made up per index. Prints the load average.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
n=${2:-20}
rounds=${3:-3}
gate=${BENCH_GATE:-$(dirname "$bin")/bench/bench_gate}
work=$(mktemp -d /tmp/perimeter-bench-preclear.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r port_can port_usa <<<"$ports"
"$bin" init --country CAN --partner USA --port "$port_can" --partner-port "$port_usa" pair >/dev/null
# R13: the test agreement allows 20 biometric queries a day; the bench sends
# N x (1 + 2 ROUNDS), so both sides' copy (the same text) is raised
for f in pair/CAN/agreement-USA.json pair/USA/agreement-CAN.json; do
    jq '.quota.biometric_query = ([.quota.biometric_query, 100000] | max)' "$f" >"$f.new"
    mv "$f.new" "$f"
done
for cc in CAN USA; do
    "$bin" serve --config "pair/$cc/node.json" 2>>"$cc.log" &
    pids+=($!)
done
for cc in CAN USA; do
    port=$port_can; [ $cc = USA ] && port=$port_usa
    for _ in $(seq 1 300); do
        curl -s -o /dev/null --cacert "pair/$cc/ca/ca.pem" "https://127.0.0.1:$port/health" && break
        sleep 0.2
    done
done
PERIMETER_PASSWORD=bench-pass "$bin" officer add --config pair/USA/node.json --replace sam >/dev/null
tok=$(PERIMETER_PASSWORD=bench-pass "$bin" officer login --config pair/USA/node.json --user sam)
"$bin" synth prints --fingers "$n" --impressions 2 --seed 11 --out prints --threads 2 \
    --size 300x300 >/dev/null
usa=https://127.0.0.1:$port_usa
purpose=$(jq -r '.purposes[0]' pair/USA/agreement-CAN.json)
hdr="flight_id,passenger_seq,surname,given_names,date_of_birth,sex,citizenship,document_type,document_number,document_issuer,document_expiry"
echo "$hdr" >manifest.csv
i=0
for f in prints/*/*_1.png; do
    i=$((i + 1))
    [ $i -le "$n" ] || break
    "$bin" extract "$f" -o "e$i.iso" --format iso >/dev/null
    "$bin" extract "${f%_1.png}_2.png" -o "g$i.iso" --format iso >/dev/null
    dob=$(printf '19%02d-%02d-%02d' $((50 + i % 40)) $((1 + i % 12)) $((1 + i % 28)))
    row="XB200,$(printf %03d $i),TRAVELLER,NUMBER$i,$dob,F,FRA,P,$(printf '12AB%05d' $i),FRA,2031-01-01"
    echo "$row" >>manifest.csv
    echo "$row" >"row$i.csv"
    jq -n --rawfile d <(base64 -w0 "e$i.iso") --arg dob "$dob" --arg g "NUMBER$i" --argjson s $((100 + i)) \
        '{subject: $s, person: {surname: "TRAVELLER", given_names: $g, date_of_birth: $dob, citizenship: "FRA"},
          fingers: [{format: "iso19794-2", data: $d}]}' >enrol.json
    curl -sS -o /dev/null --cacert pair/USA/ca/ca.pem -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' --data-binary @enrol.json "$usa/v1/gallery/enrol"
done
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
stats() { sort -n | awk '{ v[NR] = $1 } END { i95 = int(0.95 * NR + 0.999); if (i95 < 1) i95 = 1
    printf "p50 %d ms, p95 %d ms, max %d ms (n %d)", v[int((NR + 1) / 2)], v[i95], v[NR], NR }'; }
echo "load average before: $(cat /proc/loadavg)"
: >pre.txt; : >partner.txt; : >total.txt; : >health.txt; : >decisions.txt
for i in $(seq 1 "$n"); do
    jq -n --rawfile m <(echo "$hdr"; cat "row$i.csv") --arg q "$(printf %03d $i)" \
        --rawfile d <(base64 -w0 "g$i.iso") \
        '{manifest: $m, date: "2026-06-01", gate: {mode: "1:1",
          captures: [{passenger_seq: $q, fingers: [{format: "iso19794-2", data: $d}]}]}}' >pc.json
    jq -n --rawfile d <(base64 -w0 "g$i.iso") --arg p "$purpose" --arg t "GATE-$i" \
        '{transaction_id: $t, purpose: $p, format: "iso19794-2", data: $d}' >pq.json
    cp pc.json "pc$i.json"
    # the C client writes a unique id over the Xs for every call (replays are refused)
    jq --arg t "GATE-$i-XXXXXXXX" '.transaction_id = $t' pq.json >"pq$i.json"
    t=$(date +%s%N)
    curl -sS -o /dev/null --cacert pair/USA/ca/ca.pem "$usa/health"
    ms "$t" >>health.txt
    t=$(date +%s%N)
    curl -sS -o pc.out --cacert pair/USA/ca/ca.pem -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' --data-binary @pc.json "$usa/v1/preclear"
    a=$(ms "$t")
    t2=$(date +%s%N)
    curl -sS -o pq.out --cacert pair/USA/ca/ca.pem -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' --data-binary @pq.json "$usa/v1/partners/CAN/query/biometric"
    b=$(ms "$t2")
    echo "$a" >>pre.txt; echo "$b" >>partner.txt; echo $((a + b)) >>total.txt
    jq -r '.rows[0].decision' pc.out >>decisions.txt
    jq -e '.result' pq.out >/dev/null || { echo "partner query failed: $(cat pq.out)" >&2; exit 1; }
done
echo "per traveller, $n travellers, one at a time (client wall clock, curl's TLS set-up included):"
echo "  GET /health (baseline):              $(stats <health.txt)"
echo "  POST /v1/preclear, 1:1 gate:         $(stats <pre.txt)"
echo "  partner round trip through the node: $(stats <partner.txt)"
echo "  end to end (preclear + partner):     $(stats <total.txt)"
echo "  decisions: $(sort decisions.txt | uniq -c | tr '\n' ' ')"
caps=$(for i in $(seq 1 "$n"); do
    jq -c -n --arg q "$(printf %03d $i)" --rawfile d <(base64 -w0 "g$i.iso") \
        '{passenger_seq: $q, fingers: [{format: "iso19794-2", data: $d}]}'; done | jq -s -c .)
jq -n --rawfile m manifest.csv --argjson c "$caps" \
    '{manifest: $m, date: "2026-06-01", gate: {mode: "1:N", captures: $c}}' >flight.json
t=$(date +%s%N)
curl -sS -o flight.out --cacert pair/USA/ca/ca.pem -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/json' --data-binary @flight.json "$usa/v1/preclear"
f=$(ms "$t")
echo "whole flight, 1:N gate against the flight's gallery, one request: $f ms for $n travellers ($((f / n)) ms each); $(jq -r '"cleared \(.cleared), refer \(.refer), do not board \(.do_not_board)"' flight.out)"
echo "load average after: $(cat /proc/loadavg)"
if [ -x "$gate" ]; then
    echo "C gate client ($gate), connections kept open vs fresh, same process:"
    "$gate" "$usa" pair/USA/ca/ca.pem "$tok" . "$n" "$rounds"
fi
