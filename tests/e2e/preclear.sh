#!/usr/bin/env bash
# perimeter preclear on a hand-made store and manifest whose right answers are
# known: overstays found from the linked store (a completed stay too long, an
# open stay run out by the departure, nothing counted after the departure,
# citizens never), documents (expired -> do not board, no expiry, a bad MRZ
# check digit -> refer), the watchlist (a name -> refer, a listed lost or
# stolen document in anyone's hands -> do not board); every other passenger
# cleared. Bad input (a bad date, a row with a missing field) stops with the line.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
H=record_id,reporting_country,direction,timestamp,port_code,mode,surname,given_names,middle_names,date_of_birth,citizenship,sex,document_type,document_number,document_issuer
# CAN's own entries, and USA's entries (CAN's exits, through the partner feed)
cat >can.csv <<CSV
$H
C1,CAN,entry,2026-01-10T10:00:00-05:00,YYZ1,air,GARCIA,ANA,,1980-02-03,MEX,F,P,M1000001,MEX
C2,CAN,entry,2026-01-10T10:05:00-05:00,YYZ1,air,LOPEZ,JUAN,,1975-06-07,MEX,M,P,M1000002,MEX
C3,CAN,entry,2026-01-10T10:10:00-05:00,YYZ1,air,TREMBLAY,LUC,,1970-01-20,CAN,M,P,CA100003,CAN
C4,CAN,entry,2026-01-10T10:15:00-05:00,YYZ1,air,SMITH,OLIVER,,1990-09-09,GBR,M,P,GB1000004,GBR
C5,CAN,entry,2026-01-10T10:20:00-05:00,YYZ1,air,HERRERA,ROSA,,1985-11-11,MEX,F,P,M1000005,MEX
C6,CAN,entry,2026-09-10T10:20:00-05:00,YYZ1,air,HERRERA,ROSA,,1985-11-11,MEX,F,P,M1000005,MEX
CSV
cat >usa.csv <<CSV
$H
U1,USA,entry,2026-08-10T09:00:00-04:00,BUF1,land,GARCIA,ANA,,1980-02-03,MEX,F,P,M1000001,MEX
U2,USA,entry,2026-03-01T09:00:00-04:00,BUF1,land,LOPEZ,JUAN,,1975-06-07,MEX,M,P,M1000002,MEX
U5,USA,entry,2026-02-01T09:00:00-04:00,BUF1,land,HERRERA,ROSA,,1985-11-11,MEX,F,P,M1000005,MEX
CSV
# an entry with its own admission: a visitor admitted until 15 February (the
# 180-day rule would let the same stay pass)
cat >can_adm.csv <<CSV
$H,admission_class,stay_until
C7,CAN,entry,2026-01-10T10:30:00-05:00,YYZ1,air,PEREZ,LUIS,,1983-04-04,MEX,M,P,M1000007,MEX,visitor,2026-02-15
CSV
printf 'U7,USA,entry,2026-03-01T09:00:00-04:00,BUF1,land,PEREZ,LUIS,,1983-04-04,MEX,M,P,M1000007,MEX\n' >>usa.csv
"$bin" crossings import --db s.db can.csv 2>log || fail "import CAN: $(cat log)"
"$bin" crossings import --db s.db can_adm.csv 2>log || fail "import CAN admission: $(cat log)"
"$bin" crossings import --db s.db --from-partner USA usa.csv 2>log || fail "import USA: $(cat log)"
"$bin" link --db s.db >log 2>&1 || fail "link: $(cat log)"
cat >wl.csv <<CSV
watchlist_id,surname,given_names,date_of_birth,sex,citizenship,document_number,document_issuer,reason
W1,KOWALSKI,PIOTR,1966-04-04,M,POL,,,criminal_warrant
W2,NOBODY,KNOWN,,,,X9999999,FRA,lost_stolen_document
CSV
mrz_ok=$("$bin" mrz build --help >/dev/null 2>&1 && echo yes || echo no)
M=flight_id,passenger_seq,surname,given_names,middle_names,date_of_birth,sex,citizenship,document_type,document_number,document_issuer,document_expiry,scheduled_departure
cat >man.csv <<CSV
$M
AC1,1,GARCIA,ANA,,1980-02-03,F,MEX,P,M1000001,MEX,2030-01-01,2026-09-01T08:00:00-04:00
AC1,2,LOPEZ,JUAN,,1975-06-07,M,MEX,P,M1000002,MEX,2030-01-01,2026-09-01T08:00:00-04:00
AC1,3,TREMBLAY,LUC,,1970-01-20,M,CAN,P,CA100003,CAN,2030-01-01,2026-09-01T08:00:00-04:00
AC1,4,SMITH,OLIVER,,1990-09-09,M,GBR,P,GB1000004,GBR,2030-01-01,2026-09-01T08:00:00-04:00
AC1,5,HERRERA,ROSA,,1985-11-11,F,MEX,P,M1000005,MEX,2030-01-01,2026-09-01T08:00:00-04:00
AC1,6,MARTIN,CLAIRE,,1992-05-05,F,FRA,P,F1234567,FRA,2026-08-31,2026-09-01T08:00:00-04:00
AC1,7,MARTIN,PAUL,,1991-05-05,M,FRA,P,X9999999,FRA,2031-01-01,2026-09-01T08:00:00-04:00
AC1,8,KOWALSKI,PIOTR,,1966-04-04,M,POL,P,PL777777,POL,2031-01-01,2026-09-01T08:00:00-04:00
AC1,9,BROWN,EMMA,,1999-12-12,F,USA,P,US5555555,USA,,2026-09-01T08:00:00-04:00
AC1,10,DUBOIS,MARC,,1988-03-03,M,FRA,P,F7654321,FRA,2029-01-01,2026-09-01T08:00:00-04:00
AC1,11,PEREZ,LUIS,,1983-04-04,M,MEX,P,M1000007,MEX,2030-01-01,2026-09-01T08:00:00-04:00
CSV
"$bin" preclear man.csv --watchlist wl.csv --db s.db --stay CAN=0 --json >out.json 2>err.txt ||
    fail "preclear: $(cat err.txt)"
dec() { jq -r --arg s "$1" '.rows[] | select(.passenger_seq == ($s | tonumber)) | .decision' out.json; }
why() { jq -r --arg s "$1" '.rows[] | select(.passenger_seq == ($s | tonumber)) | .reasons' out.json; }
want() { # SEQ DECISION [REASON-REGEX]
    [ "$(dec "$1")" = "$2" ] || fail "passenger $1: $(dec "$1") ($(why "$1")), want $2"
    if [ -n "${3:-}" ]; then why "$1" >w.txt; assert_contains w.txt "$3"; fi
}
want 1 refer 'overstayed 1 of 1 stays \(up to 32 days'
want 2 cleared
want 3 cleared
want 4 refer 'overstayed 1 of 1 stays.*no recorded exit'
want 5 cleared
want 6 do_not_board 'document expired 2026-08-31'
want 7 do_not_board 'watchlist W2 \(lost_stolen_document\).*document exact'
want 8 refer 'watchlist W1 \(criminal_warrant\)'
want 9 refer 'document expiry not given'
want 10 cleared
want 11 refer 'overstayed 1 of 1 stays \(up to 14 days'
[ "$(jq .passengers out.json)" = 11 ] && [ "$(jq .cleared out.json)" = 4 ] &&
    [ "$(jq .refer out.json)" = 5 ] && [ "$(jq .do_not_board out.json)" = 2 ] ||
    fail "counts: $(jq -c 'del(.rows)' out.json)"
# an entry listed without a date of birth is held to --min-undated alone: a hit
# at the defaults, a name-only referral above its score (--min unchanged)
printf 'watchlist_id,surname,given_names,date_of_birth,sex,citizenship,reason\n%s\n' \
    'W3,OKONKWO-BELLAMY,THADDEUS,,M,NGA,criminal_warrant' >wl3.csv
printf '%s\nAC2,1,OKONKWO-BELLAMY,THADDEUS,,1971-03-04,M,NGA,P,A1234567,NGA,2030-01-01,2026-09-01\n' \
    "$M" >m3.csv
"$bin" preclear m3.csv --watchlist wl3.csv --json >u1.json 2>err.txt || fail "undated: $(cat err.txt)"
"$bin" preclear m3.csv --watchlist wl3.csv --min-undated 150 --json >u2.json 2>err.txt ||
    fail "--min-undated: $(cat err.txt)"
jq -r '.rows[0].decision + " " + .rows[0].reasons' u1.json >w.txt
assert_contains w.txt '^refer watchlist W3 \(criminal_warrant\) score 104'
jq -r '.rows[0].decision + " " + .rows[0].reasons' u2.json >w.txt
assert_contains w.txt '^refer watchlist W3 \(criminal_warrant\) name-only referral, score 104'
"$bin" preclear m3.csv --watchlist wl3.csv --min 150 --min-undated 90 --json >u3.json \
    2>err.txt || fail "--min with --min-undated: $(cat err.txt)"
jq -r '.rows[0].decision + " " + .rows[0].reasons' u3.json >w.txt
assert_contains w.txt '^refer watchlist W3 \(criminal_warrant\) score 104'
# a valid MRZ clears; the same with a wrong check digit is a referral
l1='P<FRADUBOIS<<MARC<<<<<<<<<<<<<<<<<<<<<<<<<<<'
printf '%s,mrz\n' "$M" >mrz.csv
printf 'AC1,1,DUBOIS,MARC,,1988-03-03,M,FRA,P,F7654321,FRA,2029-01-01,2026-09-01,%s|%s\n' \
    "$l1" 'F7654321<9FRA8803034M2901019<<<<<<<<<<<<<<04' >>mrz.csv
printf 'AC1,2,DUBOIS,MARC,,1988-03-03,M,FRA,P,F7654321,FRA,2029-01-01,2026-09-01,%s|%s\n' \
    "$l1" 'F7654321<8FRA8803034M2901019<<<<<<<<<<<<<<04' >>mrz.csv
"$bin" preclear mrz.csv --json >mrz.json 2>err.txt || fail "preclear mrz: $(cat err.txt)"
[ "$(jq -r '.rows[0].decision' mrz.json)" = cleared ] || fail "good MRZ: $(cat mrz.json)"
[ "$(jq -r '.rows[1].decision' mrz.json)" = refer ] || fail "bad MRZ: $(cat mrz.json)"
jq -r '.rows[1].reasons' mrz.json >w.txt
assert_contains w.txt 'MRZ: .*check digit'
# bad input stops with the line
printf '%s\nAC1,1,X,Y,,1990-02-30,M,FRA,P,F1,FRA,2030-01-01,2026-09-01\n' "$M" >bad.csv
rc=0; "$bin" preclear bad.csv >/dev/null 2>err.txt || rc=$?
[ "$rc" = 3 ] || fail "bad date: rc $rc"
assert_contains err.txt 'bad.csv:2: bad date_of_birth'
printf '%s\nAC1,1,X\n' "$M" >short.csv
rc=0; "$bin" preclear short.csv >/dev/null 2>err.txt || rc=$?
[ "$rc" = 3 ] || fail "short row: rc $rc"
assert_contains err.txt 'short.csv:2: 3 fields'
echo "preclear: ok (11 passengers decided as expected, --min-undated, MRZ, bad input)"
