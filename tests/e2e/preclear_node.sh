#!/usr/bin/env bash
# Pre-clearance on the node (POST /v1/preclear, officer): a manifest screened
# by the same library as `perimeter preclear`, with the gate fingerprint check
# against the node's gallery. Four travellers, three enrolled (name + date of
# birth + prints): 001 gives his own finger at the gate (cleared), 002 gives
# 003's finger (refer: 1:1 says his prints do not match, 1:N against the
# flight's gallery names passenger 003), 003 gives none (cleared, remark),
# 004 is not enrolled and gives an unknown finger (cleared, remark). Also:
# an expired document (do not board), refusals of bad requests.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
make_prints 4
person() { jq -c -n --arg s "$1" --arg g "$2" --arg d "$3" \
    '{surname: $s, given_names: $g, date_of_birth: $d, citizenship: "FRA"}'; }
enrol USA 11 prints/DB1_B/101_1.iso iso19794-2 "$(person MOREAU ANNE 1980-02-03)"
[ "$code" = 200 ] || fail "enrol: $code $(cat enrol.out)"
enrol USA 12 prints/DB1_B/102_1.iso iso19794-2 "$(person DUBOIS LUC 1975-06-07)"
[ "$code" = 200 ] || fail "enrol: $code $(cat enrol.out)"
enrol USA 13 prints/DB1_B/103_1.iso iso19794-2 "$(person PETIT JEANNE 1990-11-12)"
[ "$code" = 200 ] || fail "enrol: $code $(cat enrol.out)"
cat >manifest.csv <<'CSV'
flight_id,passenger_seq,surname,given_names,date_of_birth,sex,citizenship,document_type,document_number,document_issuer,document_expiry
XA100,001,MOREAU,ANNE,1980-02-03,F,FRA,P,12AB34567,FRA,2031-01-01
XA100,002,DUBOIS,LUC,1975-06-07,M,FRA,P,12AB34568,FRA,2031-01-01
XA100,003,PETIT,JEANNE,1990-11-12,F,FRA,P,12AB34569,FRA,2031-01-01
XA100,004,ROUX,PAUL,1985-04-05,M,FRA,P,12AB34570,FRA,2031-01-01
XA100,005,BLANC,EVE,1970-01-02,F,FRA,P,12AB34571,FRA,2020-01-01
CSV
cap() { jq -c -n --arg q "$1" --rawfile d <(base64 -w0 "$2") \
    '{passenger_seq: $q, fingers: [{format: "iso19794-2", data: $d}]}'; }
caps=$(jq -s -c . <(cap 001 prints/DB1_B/101_2.iso) <(cap 002 prints/DB1_B/103_2.iso) \
    <(cap 004 prints/DB1_B/104_2.iso))
tok_USA=${tok_USA:?}
pc() { # NAME BODY_FILE: POST /v1/preclear on USA; status in $code
    code=$(curl -sS -o "$1.out" -w '%{http_code}' --cacert pair/USA/ca/ca.pem \
        -H "Authorization: Bearer $tok_USA" -H 'Content-Type: application/json' \
        --data-binary @"$2" "$(url USA)/v1/preclear" || true)
}
for mode in 1:1 1:N; do
    jq -n --rawfile m manifest.csv --argjson c "$caps" --arg mode "$mode" \
        '{manifest: $m, date: "2026-06-01", gate: {mode: $mode, captures: $c}}' >body.json
    pc run body.json
    [ "$code" = 200 ] || fail "$mode: HTTP $code $(cat run.out)"
    d() { jq -r --arg q "$1" '.rows[] | select((.passenger_seq | tonumber) == ($q | tonumber)) | "\(.decision)|\(.reasons)"' run.out; }
    case "$(d 001)" in cleared\|) ;; *) fail "$mode 001: $(d 001)" ;; esac
    case "$(d 003)" in "cleared|gate: no fingerprint captured at the gate") ;; *) fail "$mode 003: $(d 003)" ;; esac
    case "$(d 005)" in do_not_board*expired*) ;; *) fail "$mode 005: $(d 005)" ;; esac
    if [ "$mode" = 1:1 ]; then
        case "$(d 002)" in "refer|fingerprint does not match what is on file"*) ;; *) fail "1:1 002: $(d 002)" ;; esac
        case "$(d 004)" in "cleared|gate: no prints on file for this traveller") ;; *) fail "1:1 004: $(d 004)" ;; esac
    else
        case "$(d 002)" in "refer|the prints captured at the gate are those of passenger 003 of this flight"*) ;;
            *) fail "1:N 002: $(d 002)" ;; esac
        case "$(d 004)" in "cleared|gate: no prints on file for this traveller") ;; *) fail "1:N 004: $(d 004)" ;; esac
    fi
    [ "$(jq .passengers run.out)" = 5 ] && [ "$(jq .cleared run.out)" = 3 ] &&
        [ "$(jq .refer run.out)" = 1 ] && [ "$(jq .do_not_board run.out)" = 1 ] ||
        fail "$mode summary: $(jq -c 'del(.rows)' run.out)"
done
# without a gate section: no fingerprint check at all (002 cleared)
jq -n --rawfile m manifest.csv '{manifest: $m, date: "2026-06-01"}' >plain.json
pc plain plain.json
[ "$code" = 200 ] && [ "$(jq -r '.rows[1].decision' plain.out)" = cleared ] || fail "no gate: $code $(cat plain.out)"
# refusals: a capture for nobody on the manifest, a bad mode, a malformed manifest
jq -n --rawfile m manifest.csv --argjson c "[$(cap 099 prints/DB1_B/101_2.iso)]" \
    '{manifest: $m, gate: {captures: $c}}' >b1.json
pc b1 b1.json
[ "$code" = 400 ] && assert_contains b1.out 'no passenger with this seq'
jq -n --rawfile m manifest.csv '{manifest: $m, gate: {mode: "2:2", captures: []}}' >b2.json
pc b2 b2.json
[ "$code" = 400 ] && assert_contains b2.out 'gate.mode'
jq -n '{manifest: "surname\nA,B\n", gate: {captures: []}}' >b3.json
pc b3 b3.json
[ "$code" = 400 ] || fail "malformed manifest: $code $(cat b3.out)"
echo "preclear_node: 1:1 and 1:N gate decisions with reasons, refusals"
