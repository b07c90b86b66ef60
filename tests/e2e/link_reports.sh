#!/usr/bin/env bash
# Reports on a small hand-checked scenario: a reconciled trip (names spelled
# differently and an OCR confusion in the exit record), an overstay under a
# per-class stay, a presence-day count across the edge of a 5-year window,
# a removal-order departure, the review queue and watchlist screening.
set -euo pipefail
bin=$(realpath "${PERIMETER_BIN:?PERIMETER_BIN not set}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
hdr=record_id,reporting_country,direction,timestamp,port_code,mode,surname,given_names,middle_names,date_of_birth,citizenship,sex,document_type,document_number,document_issuer
cat > can.csv <<CSV
$hdr
C1,CAN,entry,2026-01-10T09:00:00-05:00,0427,land,MUELLER,JOHANN,PETER,1971-05-14,USA,M,P,A1234567,USA
C2,CAN,entry,2025-06-01T10:00:00-05:00,0427,land,GARCIA LOPEZ,MARIA,,1988-03-02,MEX,F,P,G00112233,MEX
C3,CAN,entry,2021-02-25T13:00:00-05:00,0427,land,NOWAK,ANNA,,1980-09-09,POL,F,P,EP1111111,POL
C4,CAN,entry,2023-07-01T13:00:00-05:00,0427,land,NOWAK,ANNA,,1980-09-09,POL,F,P,EP1111111,POL
C5,CAN,entry,2026-02-20T13:00:00-05:00,0427,land,NOWAK,ANNA,,1980-09-09,POL,F,P,EP1111111,POL
C6,CAN,entry,2024-05-01T13:00:00-05:00,0427,land,Хрущёв,Олег,,1975-11-30,UKR,M,P,FA998877,UKR
C7,CAN,entry,2025-11-01T13:00:00-05:00,0427,land,SMITH,ALICE,,1990-07-15,GBR,F,P,GB5551234,GBR
CSV
# the partner's entries are our exits
cat > usa.csv <<CSV
$hdr
U1,USA,entry,2026-01-20T16:30:00-05:00,3004,land,MÜLLER,JOHANN,,1971-05-14,USA,M,P,AI234567,USA
U2,USA,entry,2021-03-05T18:00:00-05:00,3004,land,NOWAK,ANNA,,1980-09-09,POL,F,P,EP1111111,POL
U3,USA,entry,2023-07-10T18:00:00-05:00,3004,land,NOWAK,ANNA,,1980-09-09,POL,F,P,EP1111111,POL
U4,USA,entry,2025-12-10T18:00:00-05:00,3004,land,KHRUSHCHEV,OLEG,,1975-11-30,UKR,M,P,FA998877,UKR
U5,USA,entry,2026-01-02T18:00:00-05:00,3004,land,PETERSEN,LARS,,1966-02-02,DNK,M,P,DK0000001,DNK
CSV
db="$tmp/p.db"
"$bin" crossings import --db "$db" can.csv >/dev/null 2>&1
"$bin" crossings import --db "$db" --from-partner USA usa.csv >/dev/null 2>&1
"$bin" link --db "$db" --json > link.json
jq -e '.records == 12 and .travellers == 6' link.json >/dev/null || { cat link.json; exit 1; }

# 1. the trip C1 -> U1 is reconciled despite MÜLLER/MUELLER, a dropped middle
#    name and the OCR confusion 1/I in the document number
"$bin" report history --db "$db" --record CAN:C1 --csv > hist.csv
[ "$(tail -n +2 hist.csv | wc -l)" = 2 ] || { cat hist.csv; exit 1; }
grep -q ',U1,' hist.csv || { cat hist.csv; exit 1; }
c1=$(awk -F, '$7=="C1"{print $2}' hist.csv)
[ "$(awk -F, '$7=="U1"{print $13}' hist.csv)" = "$c1" ] || { echo "U1 not reconciled with C1"; cat hist.csv; exit 1; }
# exits: U1, U2, U3, U4 reconciled; U5 (no entry) is the work queue
"$bin" report reconcile --db "$db" --json > rec.json
jq -e '.exits == 5 and .reconciled == 4 and .unreconciled == 1 and (.rows | length) == 1' rec.json >/dev/null || { cat rec.json; exit 1; }

# 2. overstay: C2 (MEX, 180 days) entered 2025-06-01, stay ended 2025-11-28,
#    93 days over on 2026-03-01; C7 (GBR, default 180) is still within its stay;
#    C5 (POL, 90 days) entered 2026-02-20: within. Citizens exempt (USA=0).
"$bin" report overstays --db "$db" --as-of 2026-03-01 --stay MEX=180 --stay POL=90 --stay USA=0 --csv > over.csv
[ "$(tail -n +2 over.csv | wc -l)" = 1 ] || { cat over.csv; exit 1; }
grep -q '^[0-9]*,[0-9]*,2025-06-01T10:00:00-05:00,MEX,180,2025-11-28T10:00:00-05:00,93,GARCIA LOPEZ' over.csv || { cat over.csv; exit 1; }
# the day before C2's stay ends it is not over; the Ukrainian traveller, who
# left only on 2025-12-10, was then 395 days past his 180 (2024-10-28)
"$bin" report overstays --db "$db" --as-of 2025-11-27 --stay MEX=180 --csv > over0.csv
[ "$(tail -n +2 over0.csv | wc -l)" = 1 ] || { cat over0.csv; exit 1; }
grep -q ',UKR,180,2024-10-28T13:00:00-05:00,395,' over0.csv || { cat over0.csv; exit 1; }

# 3. presence across the window edge: window 2021-03-01 .. 2026-02-28;
#    2021-02-25..03-05 gives 5 days inside, 2023-07-01..07-10 10 days,
#    the open stay from 2026-02-20 9 days: 24 days.
"$bin" report history --db "$db" --record CAN:C3 --csv > h3.csv
t3=$(awk -F, 'NR==2{print $1}' h3.csv)
"$bin" report presence --db "$db" --traveller "$t3" --as-of 2026-02-28 --json > pres.json
jq -e '.rows[0].days_present == 24 and .rows[0].window_from == "2021-03-01" and .rows[0].meets == "no"' pres.json >/dev/null || { cat pres.json; exit 1; }
# a day later the window starts 2021-03-02: one day fewer at the start, one more at the end
"$bin" report presence --db "$db" --traveller "$t3" --as-of 2026-03-01 --json > pres2.json
jq -e '.rows[0].days_present == 24' pres2.json >/dev/null || { cat pres2.json; exit 1; }
"$bin" report presence --db "$db" --traveller "$t3" --as-of 2026-02-28 --years 5 --required 20 --csv >"$tmp/out.txt"
grep -q ',24,20,yes,' "$tmp/out.txt" || exit 1

# 4. removal orders: Khrushchev (Cyrillic on entry, Latin on exit) departed
cat > orders.csv <<CSV
order_id,surname,given_names,date_of_birth,document_number,order_date
RO-1,KHRUSHCHEV,OLEG,1975-11-30,,2025-01-15
RO-2,GARCIA LOPEZ,MARIA,1988-03-02,G00112233,2025-09-01
RO-3,NOBODY,NEVER,1999-09-09,,2025-09-01
CSV
"$bin" report removals --db "$db" --orders orders.csv --csv > rem.csv
grep -q '^RO-1,departed,[0-9]*,2025-12-10T18:00:00-05:00,' rem.csv || { cat rem.csv; exit 1; }
grep -q '^RO-2,no departure recorded,' rem.csv || { cat rem.csv; exit 1; }
grep -q '^RO-3,no match,' rem.csv || { cat rem.csv; exit 1; }

# 5. screening the stored crossings against a watchlist with an alias
cat > wl.csv <<CSV
watchlist_id,surname,given_names,aliases,date_of_birth,sex,citizenship,reason
W1,GARCIA,MARIA,"GARCIA LOPEZ, MARIA",1988-03-02,F,MEX,removal_order
W2,SMITH,ALICE,,1955-01-20,F,GBR,warrant
CSV
"$bin" screen --db "$db" --watchlist wl.csv --json > scr.json
jq -e '.records_with_hits == 1 and .rows[0].watchlist_id == "W1"' scr.json >/dev/null || { cat scr.json; exit 1; }

# 6. incremental: new crossings arrive, the next run keeps the traveller ids,
#    links them on top, logs no merge twice; an uncertain pair goes to review
t1=$(awk -F, 'NR==2{print $1}' hist.csv)
cat > more.csv <<CSV
$hdr
C8,CAN,entry,2026-02-10T09:00:00-05:00,0427,land,MUELLER,JOHANN PETER,,1971-05-14,USA,M,P,A1234567,USA
C9,CAN,entry,2026-02-11T09:00:00-05:00,0427,land,IVANOV,PETR,,1975-01-01,RUS,M,P,700000001,RUS
C10,CAN,entry,2026-02-12T09:00:00-05:00,0427,land,IVANOV,PETR,,1975-09-14,RUS,M,P,711111112,RUS
CSV
"$bin" crossings import --db "$db" more.csv >/dev/null 2>&1
"$bin" link --db "$db" --json > link2.json
jq -e '.records == 15 and .travellers == 8 and .review_pairs == 1' link2.json >/dev/null || { cat link2.json; exit 1; }
"$bin" report history --db "$db" --record CAN:C8 --csv > h8.csv
[ "$(awk -F, 'NR==2{print $1}' h8.csv)" = "$t1" ] || { echo "traveller id changed"; cat hist.csv h8.csv; exit 1; }
[ "$(tail -n +2 h8.csv | wc -l)" = 3 ] || { cat h8.csv; exit 1; }
"$bin" review --db "$db" --json > rev.json
jq -e 'length == 1 and .[0].record.record_id == "C10" and .[0].candidate.record_id == "C9" and (.[0].evidence | test("dob=partial"))' rev.json >/dev/null || { cat rev.json; exit 1; }
rid=$(jq -r '.[0].id' rev.json)
"$bin" review --db "$db" --accept "$rid" >/dev/null
rc=0; "$bin" review --db "$db" --accept "$rid" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || { echo "second decision: exit $rc"; exit 1; }
"$bin" report history --db "$db" --record CAN:C10 --csv > h10.csv
[ "$(tail -n +2 h10.csv | wc -l)" = 2 ] || { cat h10.csv; exit 1; }
# the decision survives a relink
"$bin" link --db "$db" >/dev/null 2>&1
"$bin" report history --db "$db" --record CAN:C9 --csv > h9.csv
[ "$(tail -n +2 h9.csv | wc -l)" = 2 ] || { cat h9.csv; exit 1; }
"$bin" review --db "$db" --status accepted --json | jq -e 'length == 1' >/dev/null || exit 1

# usage errors
rc=0; "$bin" report overstays --db "$db" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || { echo "overstays without --as-of: exit $rc"; exit 1; }
rc=0; "$bin" report overstays --db "$db" --as-of 2026-02-30 >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || { echo "bad --as-of: exit $rc"; exit 1; }
echo "link_reports: ok"
