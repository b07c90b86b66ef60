#!/usr/bin/env bash
# Replay (issue 18, threat 3a): a partner query whose transaction_id the
# same partner already used within limits.replay_window_s is refused 409
# "replayed" (biographic and biometric), logged as a refusal with rule
# "replay", and not answered or counted again; the ids are kept in the store
# so a restart does not forget them; past the window the id is free again;
# a refused body (400) does not take its id.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
make_pair
start_node USA
make_prints 1
bio='{"transaction_id":"rp-1","purpose":"ASYLUM","surname":"Nguyen","date_of_birth":"1975-04-20"}'
pq a1 biographic "$bio"
[ "$code" = 200 ] || fail "first query: $code $(cat a1.out)"
pq a2 biographic "$bio"
[ "$code" = 409 ] && [ "$(jq -r .code a2.out)" = replayed ] &&
    [ "$(jq -r .field a2.out)" = transaction_id ] || fail "replay: $code $(cat a2.out)"
assert_contains a2.out 'rp-1 was already used by CAN'
# a body refused before the query (bad date) does not take its id
pq b1 biographic '{"transaction_id":"rp-2","purpose":"ASYLUM","surname":"X","date_of_birth":"1975-02-30"}'
[ "$code" = 400 ] || fail "bad dob: $code $(cat b1.out)"
pq b2 biographic '{"transaction_id":"rp-2","purpose":"ASYLUM","surname":"X","date_of_birth":"1975-02-03"}'
[ "$code" = 200 ] || fail "rp-2 after a 400: $code $(cat b2.out)"
# biometric: the same id space per partner
probe=$(probe_body prints/DB1_B/101_2.iso iso19794-2 ASYLUM rp-3)
pq c1 biometric "$probe"
[ "$code" = 200 ] || fail "biometric: $code $(cat c1.out)"
pq c2 biometric "$probe"
[ "$code" = 409 ] && [ "$(jq -r .code c2.out)" = replayed ] || fail "biometric replay: $code $(cat c2.out)"
pq c3 biometric "$(probe_body prints/DB1_B/101_2.iso iso19794-2 ASYLUM rp-1)"
[ "$code" = 409 ] || fail "biographic id reused for a biometric query: $code $(cat c3.out)"
# durable: a restart keeps the ids
stop_node USA
[ "$node_rc" = 0 ] || fail "USA exit $node_rc"
start_node USA
pq d1 biographic "$bio"
[ "$code" = 409 ] || fail "after restart: $code $(cat d1.out)"
# the log: one query entry per id, one refusal per replay, and it verifies
grep -c '"kind":"query"' pair/USA/audit.log >nq.txt || true
[ "$(cat nq.txt)" = 3 ] || fail "query entries: $(cat nq.txt) (want 3)"
grep '"rule":"replay"' pair/USA/audit.log >replays.txt || true
[ "$(grep -c '' replays.txt)" = 4 ] || fail "replay refusals logged: $(cat replays.txt)"
assert_contains replays.txt '"txn":"rp-1"'
assert_contains replays.txt '"txn":"rp-3"'
assert_contains USA.log 'refused, replayed'
"$bin" audit verify pair/USA/audit.log >verify.out 2>&1 || fail "audit verify: $(cat verify.out)"
# supersedes: a re-ask of a query whose answer was lost, under a new id
bio2='{"transaction_id":"rp-1b","supersedes":"rp-1","purpose":"ASYLUM","surname":"Nguyen","date_of_birth":"1975-04-20"}'
pq s1 biographic "$bio2"
[ "$code" = 200 ] || fail "supersedes rp-1: $code $(cat s1.out)"
pq s2 biographic "${bio2/rp-1b/rp-1c}"
[ "$code" = 409 ] && [ "$(jq -r .code s2.out)" = supersedes_refused ] &&
    [ "$(jq -r .field s2.out)" = supersedes ] || fail "rp-1 superseded twice: $code $(cat s2.out)"
assert_contains s2.out 'already superseded'
pq s3 biographic "${bio2/\"supersedes\":\"rp-1\"/\"supersedes\":\"never-sent\"}"
[ "$code" = 409 ] || fail "supersedes an unknown id: $code $(cat s3.out)"
assert_contains s3.out 'no query with that transaction_id from CAN'
pq s4 biographic "${bio2/\"supersedes\":\"rp-1\"/\"supersedes\":\"$(printf 'x%.0s' {1..65})\"}"
[ "$code" = 400 ] || fail "a 65-character supersedes: $code $(cat s4.out)"
jq -c '.transaction_id = "rp-3b" | .supersedes = "rp-3"' <<<"$probe" >probe2.json
pq s5 biometric "$(cat probe2.json)"
[ "$code" = 200 ] || fail "biometric supersedes rp-3: $code $(cat s5.out)"
grep '"kind":"supersede"' pair/USA/audit.log >sup.txt || true
[ "$(grep -c '' sup.txt)" = 2 ] || fail "supersede entries: $(cat sup.txt)"
assert_contains sup.txt '"txn":"rp-1b"'
assert_contains sup.txt 'supersedes rp-1"'
assert_contains sup.txt 'supersedes rp-3"'
grep '"rule":"supersedes"' pair/USA/audit.log >supref.txt || true
[ "$(grep -c '' supref.txt)" = 2 ] || fail "supersedes refusals logged: $(cat supref.txt)"
"$bin" audit verify pair/USA/audit.log >verify2.out 2>&1 || fail "audit verify: $(cat verify2.out)"
# past the window the id is free again
stop_node USA
jq '.limits.replay_window_s = 2' pair/USA/node.json >n.json && mv n.json pair/USA/node.json
start_node USA
sleep 3
pq e1 biographic "$bio"
[ "$code" = 200 ] || fail "after the window: $code $(cat e1.out)"
pq e2 biographic "$bio"
[ "$code" = 409 ] || fail "again within the window: $code $(cat e2.out)"
stop_node USA
echo "replay: refused 409 within the window, logged, durable across a restart, free after it"
