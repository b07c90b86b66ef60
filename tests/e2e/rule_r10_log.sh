#!/usr/bin/env bash
# R10 disclosure log with checkpoints both sides can verify, on two real
# nodes. USA answers queries (each logged: query, probe/refusal, disclosure
# or answer); USA sends CAN a signed checkpoint of its log (officer route,
# on demand) and CAN fetches one (partner route); both are kept by CAN,
# checked against USA's pinned key. Then USA's log is rewritten and
# re-hashed so that it is self-consistent (the disclosure of a match
# hidden): `audit verify` alone cannot see it, against CAN's copy of USA's
# checkpoints it names the first entry not proven. A checkpoint signed by
# another key is refused by CAN, and a node whose log has one altered byte
# refuses to start, naming the entry. A validly signed but older checkpoint
# is refused as a rollback.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
"$bin" bench ingest --rows 100 --seed 3 --country USA --write-jsonl usa.jsonl >/dev/null
tok_USA=$(officer_token USA)
PERIMETER_TOKEN=$tok_USA "$bin" officer import --config pair/USA/node.json usa.jsonl >imp.out
jq -c -n 'first(inputs | select(.citizenship != "USA" and .citizenship != "CAN" and
    (.date_of_birth | length) == 10))' usa.jsonl >p.json
oq q1 --purpose IMMIGRATION --surname Nobody --dob 1970-01-01 --transaction-id r10-1
oq q2 --purpose SHOPPING --surname Nobody --dob 1970-01-01 --transaction-id r10-2 || true
# both sides log the exchange: CAN what its officer asked and what came back
grep '"txn":"r10-1"' pair/CAN/audit.log >can1.log || fail "CAN did not log its query"
assert_contains can1.log '"actor":"officer:alice".*"kind":"query".*"partner":"USA".*"purpose":"IMMIGRATION".*"rule":"sent"'
assert_contains can1.log '"kind":"answer".*"rule":"no_match"'
grep '"txn":"r10-2"' pair/CAN/audit.log >can2.log
assert_contains can2.log '"kind":"answer".*"rule":"HTTP 403 refused R1"'
grep '"txn":"r10-1"' pair/USA/audit.log >usa1.log
assert_contains usa1.log '"actor":"partner:CAN".*"kind":"query"'

# supervisors on both sides
for cc in CAN USA; do
    PERIMETER_PASSWORD=correct-horse "$bin" officer add --config "pair/$cc/node.json" --replace \
        --role supervisor sup >/dev/null
done
sup_USA=$(PERIMETER_PASSWORD=correct-horse "$bin" officer login --config pair/USA/node.json --user sup)
sup_CAN=$(PERIMETER_PASSWORD=correct-horse "$bin" officer login --config pair/CAN/node.json --user sup)
# an officer is not enough to sign
code=$(curl -sS -o off.out -w '%{http_code}' --cacert pair/USA/ca/ca.pem -X POST \
    -H "Authorization: Bearer $tok_USA" "$(url USA)/v1/audit/checkpoint")
[ "$code" = 403 ] || fail "an officer signed a checkpoint: $code"
# USA sends one now (on demand)
code=$(curl -sS -o send.out -w '%{http_code}' --cacert pair/USA/ca/ca.pem -X POST \
    -H "Authorization: Bearer $sup_USA" "$(url USA)/v1/audit/checkpoint")
[ "$code" = 200 ] && [ "$(jq -r .partners.CAN send.out)" = stored ] || fail "send: $code $(cat send.out)"
n1=$(jq .checkpoint.count send.out)
[ "$n1" -ge 4 ] || fail "checkpoint covers $n1 entries"

# more exchanges, then CAN fetches a fresh checkpoint from USA
oq q3 --purpose ASYLUM --surname "$(jq -r .surname p.json)" --dob "$(jq -r .date_of_birth p.json)" \
    --transaction-id r10-3
[ "$(jq -r .result q3.out)" = match ] || fail "q3: $(cat q3.out) $(cat q3.err)"
code=$(curl -sS -o fetch.out -w '%{http_code}' --cacert pair/CAN/ca/ca.pem -X POST \
    -H "Authorization: Bearer $sup_CAN" "$(url CAN)/v1/partners/USA/checkpoint")
[ "$code" = 200 ] || fail "fetch: $code $(cat fetch.out)"
n2=$(jq .checkpoint.count fetch.out)
[ "$n2" -gt "$n1" ] || fail "fetched checkpoint $n2 not past $n1"
[ "$(wc -l <pair/CAN/partners/USA-checkpoints.jsonl)" = 2 ] || fail "CAN keeps $(wc -l <pair/CAN/partners/USA-checkpoints.jsonl) checkpoints"
[ "$(wc -l <pair/USA/audit-checkpoints.jsonl)" = 2 ] || fail "USA keeps its own copies"
# USA's first checkpoint again (validly signed, older than the one CAN holds):
# refused as a rollback, logged, nothing kept (issue 18, threat 3b)
jq -c .checkpoint send.out >old_cp.json
code=$(curl -sS -o rb.out -w '%{http_code}' --cacert pair/CAN/ca/ca.pem --cert pair/USA/node.pem \
    --key pair/USA/node.key -H "$agr" -H 'Content-Type: application/json' \
    --data-binary @old_cp.json "$(url CAN)/v1/partner/checkpoint")
[ "$code" = 409 ] && [ "$(jq -r .code rb.out)" = checkpoint_rollback ] || fail "rollback: $code $(cat rb.out)"
assert_contains rb.out "signs $n1 entries, the last one stored signed $n2"
assert_contains CAN.log 'checkpoint from USA refused: checkpoint rollback'
[ "$(wc -l <pair/CAN/partners/USA-checkpoints.jsonl)" = 2 ] || fail "a rollback was kept"

# a checkpoint signed by another key is refused
"$bin" audit keygen other >/dev/null
cp pair/USA/audit.log copy.log
"$bin" audit checkpoint copy.log --key other.key >forged_cp.json
code=$(curl -sS -o fcp.out -w '%{http_code}' --cacert pair/CAN/ca/ca.pem --cert pair/USA/node.pem \
    --key pair/USA/node.key -H "$agr" -H 'Content-Type: application/json' \
    --data-binary @forged_cp.json "$(url CAN)/v1/partner/checkpoint")
[ "$code" = 403 ] && [ "$(jq -r .code fcp.out)" = checkpoint_refused ] || fail "foreign key: $code $(cat fcp.out)"
[ "$(wc -l <pair/CAN/partners/USA-checkpoints.jsonl)" = 2 ] || fail "the foreign checkpoint was kept"

stop_node USA
key=$(cat pair/USA/audit.pub)
"$bin" audit verify pair/USA/audit.log --checkpoints pair/CAN/partners/USA-checkpoints.jsonl \
    --key "$key" >v.out || fail "USA's log does not verify: $(cat v.out)"

# the forgery: the disclosure of r10-3 and everything after it rewritten, re-hashed
first=$(grep -n '"txn":"r10-3"' pair/USA/audit.log | grep '"kind":"disclosure"' | cut -d: -f1)
[ -n "$first" ] || fail "no disclosure of r10-3 in USA's log"
cp pair/USA/audit.log before.log
head -n $((first - 1)) before.log >pair/USA/audit.log
total=$(wc -l <before.log)
for i in $(seq "$first" "$total"); do
    "$bin" audit append pair/USA/audit.log --kind answer --partner CAN --purpose ASYLUM \
        --rule no_match --txn r10-3 >/dev/null
done
[ "$(wc -l <pair/USA/audit.log)" = "$total" ] || fail "forgery has another length"
"$bin" audit verify pair/USA/audit.log >alone.out || fail "the forgery is not self-consistent"
rc=0
"$bin" audit verify pair/USA/audit.log --checkpoints pair/CAN/partners/USA-checkpoints.jsonl \
    --key "$key" >forged.out || rc=$?
[ "$rc" = 1 ] || fail "forgery not detected (exit $rc): $(cat forged.out)"
assert_contains forged.out "first entry not proven is $((n1 + 1))|entry $first"

# one byte of one entry changed: the node refuses to start on it
cp before.log pair/USA/audit.log
sed -i '3s/"partner":"CAN"/"partner":"CAM"/' pair/USA/audit.log
rc=0
"$bin" serve --config pair/USA/node.json >bad.out 2>bad.err || rc=$?
[ "$rc" != 0 ] || fail "USA started on an altered log"
assert_contains bad.err 'entry 3: altered'

# on a schedule: with checkpoint_interval_s = 1 USA sends them by itself
cp before.log pair/USA/audit.log
jq '.audit.checkpoint_interval_s = 1' pair/USA/node.json >c.json && mv c.json pair/USA/node.json
start_node USA
more() { [ "$(wc -l <pair/CAN/partners/USA-checkpoints.jsonl)" -ge 4 ]; }
wait_until 15 more || fail "no scheduled checkpoints: $(wc -l <pair/CAN/partners/USA-checkpoints.jsonl)"
stop_node USA
[ "$node_rc" = 0 ] || fail "USA exit $node_rc"
"$bin" audit verify pair/USA/audit.log --checkpoints pair/CAN/partners/USA-checkpoints.jsonl \
    --key "$key" >v2.out || fail "after scheduled checkpoints: $(cat v2.out)"
echo "R10: checkpoints $n1 and $n2 kept by CAN; a re-hashed forgery and an altered byte detected"
