#!/usr/bin/env bash
# R15 channel security, on two real nodes: a plain-HTTP call gets no answer
# at all (the port speaks only TLS 1.2/1.3), a TLS client without a
# certificate and one with a certificate of another CA (carrying the
# partner's own subject) are refused before any handler runs, and none of
# them reaches the disclosure log as a query.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
base=$(url USA)
body='{"transaction_id":"r15","purpose":"ASYLUM","surname":"X","date_of_birth":"1980-01-01"}'
plain=${base/https:/http:}
rc=0
curl -sS -o plain.out -w '%{http_code}' -H 'Content-Type: application/json' -H "$agr" \
    --data-binary "$body" "$plain/v1/partner/query/biographic" >plain.code 2>plain.err || rc=$?
[ "$rc" != 0 ] || fail "plain HTTP answered: $(cat plain.code) $(cat plain.out)"
code=$(curl -sS -o none.out -w '%{http_code}' --cacert pair/USA/ca/ca.pem -H "$agr" \
    -H 'Content-Type: application/json' --data-binary "$body" "$base/v1/partner/query/biographic")
[ "$code" = 401 ] && [ "$(jq -r .code none.out)" = client_certificate_required ] \
    || fail "no certificate: $code $(cat none.out)"
can_dn=$(jq -r '.partners[0].subjects[0]' pair/USA/node.json)
"$bin" pki ca --dn "CN=Rogue CA" --cert rogue-ca.pem --key rogue-ca.key
"$bin" pki issue --ca-cert rogue-ca.pem --ca-key rogue-ca.key --dn "$can_dn" --cert rogue.pem \
    --key rogue.key
code=$(curl -sS -o rogue.out -w '%{http_code}' --cacert pair/USA/ca/ca.pem --cert rogue.pem \
    --key rogue.key -H "$agr" -H 'Content-Type: application/json' --data-binary "$body" \
    "$base/v1/partner/query/biographic")
[ "$code" = 403 ] && [ "$(jq -r .code rogue.out)" = partner_not_recognised ] \
    || fail "rogue CA: $code $(cat rogue.out)"
# CAN's real certificate gets through
pq ok biographic "$body"
[ "$code" = 200 ] || fail "CAN: $code $(cat ok.out)"
[ "$(grep -c '"kind":"query"' pair/USA/audit.log)" = 1 ] || fail "refused calls reached the log as queries"
echo "R15: plain HTTP, no certificate and a rogue CA refused; the partner's node served"
