#!/usr/bin/env bash
# R5 anonymous probe, on two real nodes: a biometric query carrying
# biographic data (a surname in the request, or a name in the ANSI/NIST
# transaction's Type-2 record) is refused naming R5 under an agreement that
# does not allow it, and its probe is destroyed (only its hash logged); the
# same transaction without the name is searched.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
make_prints 1
enrol USA 3 prints/DB1_B/101_1.png png '{"surname":"Moreau","citizenship":"FRA"}'
[ "$code" = 200 ] || fail "enrol: $code $(cat enrol.out)"

pq s biometric "$(probe_body prints/DB1_B/101_2.iso iso19794-2 ASYLUM r5-surname '{"surname":"Moreau"}')"
[ "$code" = 403 ] && [ "$(jq -r .rule s.out)" = R5 ] || fail "surname: $code $(cat s.out)"

"$bin" an2k build named.an2 --search --purpose ASYLUM --tcn R5A --finger 1:prints/DB1_B/101_2.png \
    --field 2.018='MOREAU,ANNE' >/dev/null
"$bin" an2k build anon.an2 --search --purpose ASYLUM --tcn R5B --finger 1:prints/DB1_B/101_2.png \
    >/dev/null
pq a biometric "$(probe_body named.an2 an2k ASYLUM r5-an2k)"
[ "$code" = 403 ] && [ "$(jq -r .rule a.out)" = R5 ] || fail "an2k with a name: $code $(cat a.out)"
pq b biometric "$(probe_body anon.an2 an2k ASYLUM r5-anon)"
[ "$code" = 200 ] && [ "$(jq -r .result b.out)" = match ] || fail "anonymous an2k: $code $(cat b.out)"

h=$(sha256sum named.an2 | cut -d' ' -f1)
grep '"txn":"r5-an2k"' pair/USA/audit.log >named.log
assert_contains named.log '"kind":"refusal".*"probe_sha256":"'"$h"'".*"rule":"R5"'
assert_contains named.log '"kind":"probe_destroyed"'
assert_not_contains pair/USA/audit.log 'MOREAU'
report USA
[ "$(jq '.refusals_per_rule.R5' report_USA.json)" = 2 ] || fail "report: $(cat report_USA.json)"
echo "R5: a surname and a Type-2 name each refused; the anonymous transaction matched"
