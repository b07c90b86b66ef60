#!/usr/bin/env bash
# Officers' history and report routes on a running node answer the same bytes
# `perimeter report` prints for the same database (JSON, CSV and text), check
# their query arguments (unknown, bad date, bad number, wrong media type each a
# 400/415 naming the problem), and keep the reports to supervisors.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

make_pair
db=pair/CAN/perimeter.db
"$bin" synth crossings --people 400 --days 40 --seed 7 --split gen --truth truth.csv \
    --people-out people.csv 2>/dev/null || fail "synth"
"$bin" crossings import --db "$db" gen/CAN.csv 2>/dev/null || fail "import CAN"
"$bin" crossings import --db "$db" --from-partner USA gen/USA.csv 2>/dev/null || fail "import USA"
"$bin" link --db "$db" >link.log 2>&1 || fail "link: $(cat link.log)"
start_node CAN
tok=$(officer_token CAN)
PERIMETER_PASSWORD=sup-pass-1 "$bin" officer add --config pair/CAN/node.json --role supervisor \
    carol >/dev/null || fail "supervisor add"
stok=$(PERIMETER_PASSWORD=sup-pass-1 "$bin" officer login --config pair/CAN/node.json --user carol)
base=$(url CAN)
ca=pair/CAN/ca/ca.pem
get() { # NAME TOKEN PATH: body into NAME, status into $code
    code=$(curl -sS -o "$1" -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $2" \
        "$base$3" || true)
}

# the same bytes as the CLI
doc=
for d in $(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "document_number") c = i; next }
                    NR <= 40 { print $c }' gen/CAN.csv); do
    if "$bin" report history --db "$db" --document "$d" >/dev/null 2>&1; then doc=$d; break; fi
done
[ -n "$doc" ] || fail "no linked document among the first 40 rows"
for f in json csv text; do
    case $f in json) o=--json ;; csv) o=--csv ;; text) o= ;; esac
    get h.$f "$tok" "/v1/history?document=$doc&format=$f"
    [ "$code" = 200 ] || fail "history $f: HTTP $code $(cat h.$f)"
    "$bin" report history --db "$db" --document "$doc" $o >cli_h.$f || fail "cli history"
    cmp -s h.$f cli_h.$f || fail "history $f differs from the CLI: $(diff h.$f cli_h.$f | head -5)"
    get r.$f "$stok" "/v1/reports/reconcile?format=$f"
    [ "$code" = 200 ] || fail "reconcile $f: HTTP $code $(cat r.$f)"
    "$bin" report reconcile --db "$db" $o >cli_r.$f || fail "cli reconcile"
    cmp -s r.$f cli_r.$f || fail "reconcile $f differs from the CLI"
done
get o.json "$stok" "/v1/reports/overstays?as_of=2026-02-20&stay=CAN=0,default=30"
[ "$code" = 200 ] || fail "overstays: HTTP $code $(cat o.json)"
"$bin" report overstays --db "$db" --as-of 2026-02-20 --stay CAN=0 --stay default=30 --json \
    >cli_o.json || fail "cli overstays"
cmp -s o.json cli_o.json || fail "overstays differ from the CLI"
rows=$(jq '.rows | length' o.json)
[ "$rows" -gt 0 ] || fail "no overstays listed: $(head -c 300 o.json)"
get p.json "$stok" "/v1/reports/presence?all=1&as_of=2026-02-20&years=1&required=10"
[ "$code" = 200 ] || fail "presence: HTTP $code $(cat p.json)"
"$bin" report presence --db "$db" --all --as-of 2026-02-20 --years 1 --required 10 --json \
    >cli_p.json || fail "cli presence"
cmp -s p.json cli_p.json || fail "presence differs from the CLI"

# arguments are checked
get e1 "$stok" "/v1/reports/overstays?as_of=2026-02-30"
[ "$code" = 400 ] && [ "$(jq -r .field e1)" = as_of ] || fail "bad date: $code $(cat e1)"
get e2 "$stok" "/v1/reports/reconcile?colour=blue"
[ "$code" = 400 ] && [ "$(jq -r .code e2)" = unknown_argument ] && [ "$(jq -r .field e2)" = colour ] ||
    fail "unknown argument: $code $(cat e2)"
get e3 "$stok" "/v1/reports/presence?all=2&as_of=2026-02-20"
[ "$code" = 400 ] && [ "$(jq -r .field e3)" = all ] || fail "bad number: $code $(cat e3)"
get e4 "$stok" "/v1/reports/overstays"
[ "$code" = 400 ] && [ "$(jq -r .code e4)" = missing_argument ] || fail "missing as_of: $code $(cat e4)"
get e5 "$stok" "/v1/reports/everything?as_of=2026-02-20"
[ "$code" = 404 ] || fail "unknown report: $code $(cat e5)"
get e6 "$tok" "/v1/history?document=$doc&traveller=3"
[ "$code" = 400 ] || fail "two selectors: $code $(cat e6)"
get e7 "$stok" "/v1/reports/overstays?as_of=2026-02-20&stay=XX=abc"
[ "$code" = 400 ] && [ "$(jq -r .field e7)" = stay ] || fail "bad stay: $code $(cat e7)"
get e8 "$tok" "/v1/history?document=NO-SUCH-DOC"
[ "$code" = 404 ] || fail "unknown document: $code $(cat e8)"
code=$(curl -sS -o e9 -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $stok" \
    -H 'Content-Type: application/json' --data-binary '{}' "$base/v1/reports/removals" || true)
[ "$code" = 415 ] || fail "removals as JSON: $code $(cat e9)"
# an officer who is not a supervisor does not get reports
get e10 "$tok" "/v1/reports/reconcile"
[ "$code" = 403 ] || fail "officer got a report: $code"
# removals: orders as CSV, same answer as the CLI
printf 'order_id,surname,given_names,date_of_birth,document_number,order_date\n' >orders.csv
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
         NR <= 4 { print "RO" NR "," $c["surname"] "," $c["given_names"] "," $c["date_of_birth"] "," \
                   $c["document_number"] ",2026-01-01" }' gen/CAN.csv >>orders.csv
code=$(curl -sS -o rm.json -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $stok" \
    -H 'Content-Type: text/csv' --data-binary @orders.csv "$base/v1/reports/removals" || true)
[ "$code" = 200 ] || fail "removals: HTTP $code $(cat rm.json)"
"$bin" report removals --db "$db" --orders orders.csv --json >cli_rm.json || fail "cli removals"
cmp -s rm.json cli_rm.json || fail "removals differ from the CLI"
[ "$(jq '.rows | length' rm.json)" = 3 ] || fail "removals rows: $(cat rm.json)"
# the same from a terminal: perimeter officer history / report print the node's bytes
PERIMETER_TOKEN=$tok "$bin" officer history --config pair/CAN/node.json --document "$doc" --csv \
    >oh.csv 2>oh.err || fail "officer history: $(cat oh.err)"
cmp -s oh.csv cli_h.csv || fail "officer history differs from the CLI"
PERIMETER_TOKEN=$stok "$bin" officer report overstays --config pair/CAN/node.json \
    --as-of 2026-02-20 --stay CAN=0 --stay default=30 --json >oo.json 2>oo.err || fail "officer report: $(cat oo.err)"
cmp -s oo.json cli_o.json || fail "officer report differs from the CLI"
rc=0
PERIMETER_TOKEN=$tok "$bin" officer report reconcile --config pair/CAN/node.json >/dev/null 2>or.err || rc=$?
[ "$rc" = 1 ] || fail "officer report as a plain officer: rc $rc"
assert_contains or.err 'role_insufficient'
stop_node CAN
echo "node_reports: ok (history, 3 reports x formats, removals, 11 refusals)"
