#!/usr/bin/env bash
# R13 quota, on two real nodes: the pair's agreement allows 20 biometric
# queries per partner per day. The 21st is refused naming R13 (429), refused
# queries do not count, and the counter survives a restart of the answering
# node (replayed at start from the disclosure log, where every allowed query is).
# A re-ask of a lost answer (supersedes) moves its query's charge instead of
# adding one, live and after the restart.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
make_prints 1
# each query its own transaction id (a reused one is refused as a replay)
body() { probe_body prints/DB1_B/101_2.iso iso19794-2 ASYLUM "r13-$1"; }
# a refused query (unlisted purpose) first: it must not count
pq x biometric "$(probe_body prints/DB1_B/101_2.iso iso19794-2 FISHING r13-x)"
[ "$code" = 403 ] || fail "FISHING: $code"
for i in $(seq 1 20); do
    pq "q$i" biometric "$(body "$i")"
    [ "$code" = 200 ] || fail "query $i of 20: $code $(cat q$i.out)"
done
# a re-ask of a lost answer (supersedes) moves its query's charge: answered
# at the limit, and so is a re-ask of the re-ask
reask() { body "$1" | jq -c --arg s "r13-$2" '. + {supersedes: $s}'; }
pq q20b biometric "$(reask 20b 20)"
[ "$code" = 200 ] || fail "re-ask at the limit: $code $(cat q20b.out)"
pq q20c biometric "$(reask 20c 20b)"
[ "$code" = 200 ] || fail "re-ask of the re-ask at the limit: $code $(cat q20c.out)"
pq q21 biometric "$(body 21)"
[ "$code" = 429 ] && [ "$(jq -r .rule q21.out)" = R13 ] || fail "21st: $code $(cat q21.out)"
assert_contains q21.out 'quota of 20 per 1 days used up'
# a refused query had no charge to move: its re-ask is refused too
pq q21b biometric "$(reask 21b 21)"
[ "$code" = 429 ] && [ "$(jq -r .rule q21b.out)" = R13 ] || fail "re-ask of a refused query: $code $(cat q21b.out)"
# biographic queries have their own quota
pq g biographic '{"transaction_id":"r13-g","purpose":"ASYLUM","surname":"X","date_of_birth":"1980-01-01"}'
[ "$code" = 200 ] || fail "biographic after the biometric quota: $code $(cat g.out)"
stop_node USA
[ "$node_rc" = 0 ] || fail "USA exit $node_rc"
start_node USA
# the replayed counter is the live one: 20 (the re-asks took their lost
# queries' charges), so a fresh query is refused and a re-ask answered
pq q22 biometric "$(body 22)"
[ "$code" = 429 ] && [ "$(jq -r .rule q22.out)" = R13 ] || fail "after restart: $code $(cat q22.out)"
pq q20d biometric "$(reask 20d 20c)"
[ "$code" = 200 ] || fail "re-ask at the limit after a restart: $code $(cat q20d.out)"
pq q23 biometric "$(body 23)"
[ "$code" = 429 ] || fail "after the re-ask past the restart: $code $(cat q23.out)"
report USA
[ "$(jq '.refusals_per_rule.R13' report_USA.json)" = 4 ] || fail "report: $(cat report_USA.json)"
echo "R13: 20 allowed, re-asks answered at the limit (and after a restart), the 21st refused, still refused after a restart"
