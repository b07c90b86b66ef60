#!/usr/bin/env bash
# Who may call what, on a real node: every partner route refuses a client
# with no certificate, a certificate from an unknown CA (even with the listed
# subject), and a certificate of the partner's CA with an unlisted subject; an
# officer token never opens a partner route; a partner certificate never opens
# an officer route. Bodies: oversized, malformed JSON and an unknown field each
# get a 4xx whose body says why ({code, message, field}).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

make_pair
start_node CAN
tok=$(officer_token CAN)
base=$(url CAN)
ca=pair/CAN/ca/ca.pem
usa_dn=$(jq -r '.partners[0].subjects[0]' pair/CAN/node.json)

# an unknown CA issuing a certificate with USA's listed subject
"$bin" pki ca --dn "CN=Rogue CA" --cert rogue-ca.pem --key rogue-ca.key
"$bin" pki issue --ca-cert rogue-ca.pem --ca-key rogue-ca.key --dn "$usa_dn" \
    --cert rogue.pem --key rogue.key
# USA's own CA, a subject CAN's configuration does not list
"$bin" pki issue --ca-cert pair/USA/ca/ca.pem --ca-key pair/USA/ca/ca.key \
    --dn "CN=intruder,O=Perimeter test PKI USA" --cert unlisted.pem --key unlisted.key
"$bin" pki describe unlisted.pem >desc.txt
assert_contains desc.txt '^subject CN=intruder,O=Perimeter test PKI USA$'

"$bin" node routes --json >routes.json
[ "$(jq '[.[] | select(.auth == "partner")] | length' routes.json)" -ge 5 ] || fail "few partner routes"

# call NAME METHOD PATH [curl args...]: HTTP status into $code, body into NAME.out
call() {
    local name=$1 method=$2 path=$3
    shift 3
    code=$(curl -sS -o "$name.out" -w '%{http_code}' -X "$method" --cacert "$ca" "$@" \
        -H 'Content-Type: application/json' --data-binary '{}' "$base$path" 2>"$name.err" || true)
}

n=0
while read -r method path; do
    p=${path//\{code\}/USA}
    for who in none rogue unlisted token; do
        case $who in
        none) call "$who" "$method" "$p" ;;
        rogue) call "$who" "$method" "$p" --cert rogue.pem --key rogue.key ;;
        unlisted) call "$who" "$method" "$p" --cert unlisted.pem --key unlisted.key ;;
        token) call "$who" "$method" "$p" -H "Authorization: Bearer $tok" ;;
        esac
        case $who in
        none | token) want=401; wcode=client_certificate_required ;;
        *) want=403; wcode=partner_not_recognised ;;
        esac
        [ "$code" = "$want" ] || fail "$method $p as $who: HTTP $code, want $want ($(cat "$who.out" "$who.err"))"
        [ "$(jq -r .code "$who.out")" = "$wcode" ] || fail "$method $p as $who: $(cat "$who.out")"
        n=$((n + 1))
    done
    # the real partner gets past the check (whatever the route then answers)
    call usa "$method" "$p" --cert pair/USA/node.pem --key pair/USA/node.key -H "$agr"
    case $code in 401 | 403 | 409) fail "$method $p refused USA's node: $(cat usa.out)" ;; esac
    # ... but only when it says it runs the same agreement (its hash on every request)
    call noagr "$method" "$p" --cert pair/USA/node.pem --key pair/USA/node.key
    [ "$code" = 409 ] && [ "$(jq -r .code noagr.out)" = agreement_mismatch ] \
        || fail "$method $p without the agreement header: $code $(cat noagr.out)"
    call othagr "$method" "$p" --cert pair/USA/node.pem --key pair/USA/node.key \
        -H "Perimeter-Agreement: $(printf '0%.0s' $(seq 1 64))"
    [ "$code" = 409 ] || fail "$method $p with another agreement: $code $(cat othagr.out)"
    assert_contains othagr.out 'partner runs agreement 0{64}, we run [0-9a-f]{64}'
done < <(jq -r '.[] | select(.auth == "partner") | "\(.method) \(.path)"' routes.json)
echo "partner routes: $n refusals checked"

PERIMETER_PASSWORD=correct-horse-2 "$bin" officer add --config pair/CAN/node.json --role supervisor \
    bob >/dev/null || fail "supervisor add"
stok=$(PERIMETER_PASSWORD=correct-horse-2 "$bin" officer login --config pair/CAN/node.json --user bob)
# an admin passes every officer route's role check (roles are checked separately below)
PERIMETER_PASSWORD=correct-horse "$bin" officer add --config pair/CAN/node.json --role admin root >/dev/null
tok_admin=$(PERIMETER_PASSWORD=correct-horse "$bin" officer login --config pair/CAN/node.json --user root)
m=0
s=0
while read -r method path; do
    p=${path//\{code\}/USA}
    call partner "$method" "$p" --cert pair/USA/node.pem --key pair/USA/node.key
    [ "$code" = 401 ] || fail "$method $p with a partner certificate: HTTP $code ($(cat partner.out))"
    [ "$(jq -r .code partner.out)" = token_required ] || fail "$method $p: $(cat partner.out)"
    call forged "$method" "$p" -H "Authorization: Bearer $(printf 'a%.0s' $(seq 1 64))"
    [ "$code" = 401 ] || fail "$method $p with a forged token: HTTP $code"
    call officer "$method" "$p" -H "Authorization: Bearer $tok_admin"
    case $code in 401 | 403) fail "$method $p refused the officer: $(cat officer.out)" ;; esac
    case "$method $path" in
    "GET /v1/reports/{kind}" | "POST /v1/reports/removals")
        # supervisor routes: a plain officer is refused by role, a supervisor gets past
        call officer "$method" "$p" -H "Authorization: Bearer $tok"
        [ "$code" = 403 ] && [ "$(jq -r .code officer.out)" = role_insufficient ] ||
            fail "$method $p let an officer in: HTTP $code $(cat officer.out)"
        call supervisor "$method" "$p" -H "Authorization: Bearer $stok"
        case $code in 401 | 403) fail "$method $p refused the supervisor: $(cat supervisor.out)" ;; esac
        s=$((s + 1))
        ;;
    esac
    m=$((m + 1))
done < <(jq -r '.[] | select(.auth == "officer") | "\(.method) \(.path)"' routes.json)
[ "$m" -ge 4 ] || fail "few officer routes"
[ "$s" = 2 ] || fail "supervisor routes checked: $s, want 2"
echo "officer routes: $m checked"

# Bodies. Oversized: 100 KiB on a JSON route (limit 64 KiB), with a length and chunked.
head -c 102400 /dev/zero | tr '\0' 'x' >big.txt
code=$(curl -sS -o big.out -w '%{http_code}' --cacert "$ca" -H 'Content-Type: application/json' \
    --data-binary @big.txt "$base/v1/auth/login" || true)
[ "$code" = 413 ] || fail "oversized: HTTP $code"
[ "$(jq -r .code big.out)" = body_too_large ] || fail "oversized: $(cat big.out)"
assert_contains big.out 'limit of 65536'
code=$(curl -sS -o big2.out -w '%{http_code}' --cacert "$ca" -H 'Content-Type: application/json' \
    -H 'Transfer-Encoding: chunked' --data-binary @big.txt "$base/v1/auth/login" || true)
[ "$code" = 413 ] || fail "oversized chunked: HTTP $code"
[ "$(jq -r .code big2.out)" = body_too_large ] || fail "oversized chunked: $(cat big2.out)"
# Malformed JSON, unknown field, wrong type, missing field (officer login and a partner query).
post() { # NAME PATH BODY [curl args]
    local name=$1 path=$2 body=$3
    shift 3
    code=$(curl -sS -o "$name.out" -w '%{http_code}' --cacert "$ca" "$@" \
        -H 'Content-Type: application/json' --data-binary "$body" "$base$path" || true)
}
post bad /v1/auth/login '{"username": "alice", "password": '
[ "$code" = 400 ] && [ "$(jq -r .code bad.out)" = malformed_json ] || fail "malformed: $code $(cat bad.out)"
assert_contains bad.out 'line 1 column'
post unk /v1/auth/login '{"username":"alice","password":"correct-horse","remember":true}'
[ "$code" = 400 ] && [ "$(jq -r .code unk.out)" = unknown_field ] || fail "unknown: $code $(cat unk.out)"
[ "$(jq -r .field unk.out)" = remember ] || fail "unknown field name: $(cat unk.out)"
post typ /v1/auth/login '{"username":"alice","password":12345678}'
[ "$code" = 400 ] && [ "$(jq -r .field typ.out)" = password ] || fail "type: $code $(cat typ.out)"
assert_contains typ.out 'must be a string'
post mis /v1/partner/query/biographic '{"purpose":"ASYLUM"}' --cert pair/USA/node.pem --key pair/USA/node.key -H "$agr"
[ "$code" = 400 ] && [ "$(jq -r .code mis.out)" = missing_field ] || fail "missing: $code $(cat mis.out)"
post unk2 /v1/partner/query/biographic \
    '{"transaction_id":"t1","purpose":"ASYLUM","surname":"X","date_of_birth":"1980","nationality":"FRA"}' \
    --cert pair/USA/node.pem --key pair/USA/node.key -H "$agr"
[ "$code" = 400 ] && [ "$(jq -r .field unk2.out)" = nationality ] || fail "unknown 2: $code $(cat unk2.out)"
post dob /v1/partner/query/biographic \
    '{"transaction_id":"t1","purpose":"ASYLUM","surname":"X","date_of_birth":"1980-02-30"}' \
    --cert pair/USA/node.pem --key pair/USA/node.key -H "$agr"
[ "$code" = 400 ] && [ "$(jq -r .field dob.out)" = date_of_birth ] || fail "dob: $code $(cat dob.out)"
# Wrong password: 401, and the same answer for an unknown officer.
post wrong /v1/auth/login '{"username":"alice","password":"wrong-horse"}'
[ "$code" = 401 ] || fail "wrong password: $code"
post nobody /v1/auth/login '{"username":"mallory","password":"wrong-horse"}'
[ "$code" = 401 ] && [ "$(jq -c . nobody.out)" = "$(jq -c . wrong.out)" ] || fail "login answers differ"

# The biometric probe is validated: a template that does not parse and an image without a finger.
printf 'not a template' | base64 >probe.b64
post probe /v1/partner/query/biometric \
    "{\"transaction_id\":\"t2\",\"purpose\":\"ASYLUM\",\"format\":\"iso19794-2\",\"data\":\"$(cat probe.b64)\"}" \
    --cert pair/USA/node.pem --key pair/USA/node.key -H "$agr"
[ "$code" = 422 ] && [ "$(jq -r .code probe.out)" = probe_invalid ] || fail "bad probe: $code $(cat probe.out)"
python3 - <<'PY' >png.b64
import base64, struct, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
raw = b"".join(b"\0" + bytes([128] * 8) for _ in range(8))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)) \
      + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
print(base64.b64encode(png).decode())
PY
post probe2 /v1/partner/query/biometric \
    "{\"transaction_id\":\"t3\",\"purpose\":\"ASYLUM\",\"format\":\"png\",\"data\":\"$(cat png.b64)\"}" \
    --cert pair/USA/node.pem --key pair/USA/node.key -H "$agr"
# a well-formed PNG too small to hold a fingerprint: refused by the extractor
[ "$code" = 422 ] && [ "$(jq -r .code probe2.out)" = probe_invalid ] || fail "probe: $code $(cat probe2.out)"

# The node survived all of it.
code=$(curl -sS -o health.out -w '%{http_code}' --cacert "$ca" "$base/health")
[ "$code" = 200 ] || fail "health after the refusals: $code"
curl -sS -o metrics.txt --cacert "$ca" "$base/metrics"
assert_contains metrics.txt 'perimeter_http_requests_total\{method="GET",route="/v1/partner/hello",status="4xx"\} [0-9]+'
assert_contains metrics.txt 'perimeter_http_request_duration_seconds_bucket\{method="POST",route="/v1/auth/login",le="\+Inf"\}'
stop_node CAN
[ "$node_rc" = 0 ] || fail "CAN exit $node_rc"
