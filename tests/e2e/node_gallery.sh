#!/usr/bin/env bash
# The gallery's officer routes on a real node: enrol three subjects (PNG,
# ISO template, WSQ), identify a second impression of each (the right
# subject first), verify a mate (high score) and a non-mate (low score), an
# unknown subject 404; bad bodies refused with the field; a partner's probe
# as an ANSI 378 template finds the subject; the gallery is reloaded from the
# store after a restart.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
make_pair
start_node USA
make_prints 3
"$bin" image convert prints/DB1_B/103_1.png prints/DB1_B/103_1.wsq >/dev/null || fail "wsq"
"$bin" image convert prints/DB1_B/103_2.png prints/DB1_B/103_2.wsq >/dev/null || fail "wsq"
enrol USA 101 prints/DB1_B/101_1.png png '{"surname":"A"}'
[ "$code" = 200 ] || fail "enrol png: $code $(cat enrol.out)"
enrol USA 102 prints/DB1_B/102_1.iso iso19794-2
[ "$code" = 200 ] || fail "enrol iso: $code $(cat enrol.out)"
enrol USA 103 prints/DB1_B/103_1.wsq wsq
[ "$code" = 200 ] && [ "$(jq .gallery_fingers enrol.out)" = 3 ] || fail "enrol wsq: $code $(cat enrol.out)"
# the same (subject, encounter, finger position) twice
enrol USA 103 prints/DB1_B/103_1.wsq wsq
[ "$code" = 409 ] && [ "$(jq -r .code enrol.out)" = exists ] || fail "re-enrol: $code $(cat enrol.out)"

# officer call NAME PATH JSON_FILE: status in $code, body NAME.out
ocall() {
    code=$(curl -sS -o "$1.out" -w '%{http_code}' --cacert pair/USA/ca/ca.pem \
        -H "Authorization: Bearer $tok_USA" -H 'Content-Type: application/json' \
        --data-binary @"$3" "$(url USA)$2" || true)
}
fingers() { # FILE FORMAT
    jq -c -n --arg f "$2" --rawfile d <(base64 -w0 "$1") '[{format: $f, data: $d}]'
}
for i in 1 2 3; do
    jq -n --argjson f "$(fingers prints/DB1_B/10${i}_2.iso iso19794-2)" '{fingers: $f, max_candidates: 3}' >id.json
    ocall "id$i" /v1/gallery/identify id.json
    [ "$code" = 200 ] || fail "identify $i: $code $(cat id$i.out)"
    [ "$(jq '.candidates[0].subject' id$i.out)" = "10$i" ] || fail "identify $i: $(cat id$i.out)"
done
jq -n --argjson f "$(fingers prints/DB1_B/101_2.png png)" '{subject: 101, fingers: $f}' >v.json
ocall vm /v1/gallery/verify v.json
[ "$code" = 200 ] || fail "verify: $code $(cat vm.out)"
jq -n --argjson f "$(fingers prints/DB1_B/102_2.iso iso19794-2)" '{subject: 101, fingers: $f}' >v2.json
ocall vn /v1/gallery/verify v2.json
awk -v m="$(jq .score vm.out)" -v n="$(jq .score vn.out)" 'BEGIN { exit !(m >= 40 && n < 40) }' \
    || fail "verify scores: mate $(jq .score vm.out), non-mate $(jq .score vn.out)"
# two probe fingers: the score is on the calibrated fused scale, as in the
# partner query (docs/gallery.md "Fused score calibration"), with
# pm_gallery_fuse's raw score in fused_raw; identify and verify agree; a
# one-finger answer has no fused_raw
two=$(jq -c -n --argjson a "$(fingers prints/DB1_B/101_2.png png)" \
    --argjson b "$(fingers prints/DB1_B/101_2.iso iso19794-2)" '$a + $b')
jq -n --argjson f "$two" '{subject: 101, fingers: $f}' >v4.json
ocall v2f /v1/gallery/verify v4.json
[ "$code" = 200 ] || fail "two-finger verify: $code $(cat v2f.out)"
jq -e '(.fused_raw | type) == "number" and .score < .fused_raw and .score >= 40' v2f.out >/dev/null \
    || fail "two-finger verify not calibrated: $(cat v2f.out)"
jq -e 'has("fused_raw") | not' vm.out >/dev/null || fail "one-finger verify has fused_raw: $(cat vm.out)"
jq -n --argjson f "$two" '{fingers: $f, max_candidates: 3}' >id2.json
ocall id2f /v1/gallery/identify id2.json
[ "$code" = 200 ] || fail "two-finger identify: $code $(cat id2f.out)"
jq -e --slurpfile v v2f.out '.candidates[0] | .subject == 101 and .score < .fused_raw and
    ((.score - $v[0].score) | fabs) < 1e-6' id2f.out >/dev/null \
    || fail "two-finger identify: $(cat id2f.out) against verify $(cat v2f.out)"
jq -e '.candidates[0] | has("fused_raw") | not' id1.out >/dev/null || fail "one-finger identify has fused_raw"
jq -n --argjson f "$(fingers prints/DB1_B/101_2.png png)" '{subject: 999, fingers: $f}' >v3.json
ocall vu /v1/gallery/verify v3.json
[ "$code" = 404 ] || fail "unknown subject: $code $(cat vu.out)"
echo '{"subject": 5, "fingers": [{"format": "bmp", "data": "AAAA"}]}' >bad.json
ocall bad /v1/gallery/enrol bad.json
[ "$code" = 400 ] && [ "$(jq -r .field bad.out)" = 'fingers[0]' ] || fail "bad format: $code $(cat bad.out)"
jq -n --argjson f "$(fingers prints/DB1_B/101_2.png png)" '{subject: 6, person: {status: "visitor"}, fingers: $f}' >bad3.json
ocall bad3 /v1/gallery/enrol bad3.json
[ "$code" = 400 ] && [ "$(jq -r .field bad3.out)" = person.status ] || fail "bad status: $code $(cat bad3.out)"
echo '{"subject": 5, "fingers": [], "colour": 1}' >bad2.json
ocall bad2 /v1/gallery/enrol bad2.json
[ "$code" = 400 ] && [ "$(jq -r .field bad2.out)" = colour ] || fail "unknown field: $code $(cat bad2.out)"

# the partner's query with an ANSI INCITS 378 template searches the same gallery
"$bin" extract prints/DB1_B/101_2.png -o p101.ansi --format ansi || fail "extract ansi"
pq pa biometric "$(probe_body p101.ansi ansi378 ASYLUM g-ansi)"
[ "$code" = 200 ] && [ "$(jq -r .result pa.out)" = match ] && [ "$(jq -r .disclosure.surname pa.out)" = A ] \
    || fail "ansi378 partner probe: $code $(cat pa.out)"

stop_node USA
[ "$node_rc" = 0 ] || fail "USA exit $node_rc"
start_node USA
tok_USA=$(officer_token USA)
ocall id4 /v1/gallery/identify id.json
[ "$(jq '.candidates[0].subject' id4.out)" = 103 ] || fail "after restart: $(cat id4.out)"
# the same routes from a terminal: perimeter officer enrol / identify
PERIMETER_TOKEN=$tok_USA "$bin" officer enrol --config pair/USA/node.json --subject 201 \
    prints/DB1_B/102_2.png@2 --json >ce.out 2>ce.err || fail "officer enrol: $(cat ce.err)"
[ "$(jq .subject ce.out)" = 201 ] || fail "officer enrol: $(cat ce.out)"
PERIMETER_TOKEN=$tok_USA "$bin" officer identify --config pair/USA/node.json --max 3 \
    prints/DB1_B/101_2.png --json >ci.out 2>ci.err || fail "officer identify: $(cat ci.err)"
[ "$(jq '.candidates[0].subject' ci.out)" = 101 ] || fail "officer identify: $(cat ci.out)"
rc=0
PERIMETER_TOKEN=$tok_USA "$bin" officer identify --config pair/USA/node.json prints/x.bmp \
    >/dev/null 2>cb.err || rc=$?
[ "$rc" = 2 ] || fail "officer identify of a .bmp: rc $rc"
rc=0
PERIMETER_TOKEN=bad "$bin" officer identify --config pair/USA/node.json prints/DB1_B/101_2.png \
    >/dev/null 2>ct.err || rc=$?
[ "$rc" = 1 ] || fail "officer identify with a bad token: rc $rc"
echo "gallery: 3 enrolled (png, iso, wsq), identified, verified, reloaded after a restart; CLI client"
