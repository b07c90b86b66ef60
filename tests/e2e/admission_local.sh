#!/usr/bin/env bash
# Admission data (class, authorised stay end) on our own entries is imported
# and kept, but the partner feed (crossings export) never carries it, and
# what a partner file carries of it is not stored.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

hdr=record_id,reporting_country,direction,timestamp,port_code,mode,surname,given_names,middle_names,date_of_birth,citizenship,sex,document_type,document_number,document_issuer,admission_class,stay_until
cat > can.csv <<CSV
$hdr
e1,CAN,entry,2026-03-01T10:00:00-05:00,0901,land,Lee,Ann,,1980-05-06,USA,F,P,D1,USA,visitor,2026-05-30
e2,CAN,entry,2026-03-02T10:00:00-05:00,0901,land,Roy,Bo,,1970-01-02,FRA,M,P,F2,FRA,student,2027-01-31
e3,CAN,entry,2026-03-03T10:00:00-05:00,0901,land,Tan,Cy,,1990-07-08,CAN,M,P,C3,CAN,citizen,
e4,CAN,exit,2026-03-04T10:00:00-05:00,0901,land,Tan,Cy,,1990-07-08,CAN,M,P,C3,CAN,,
CSV
"$bin" crossings import --db can.db can.csv 2>log || fail "import rc $?: $(cat log)"
assert_contains log '4 rows, 4 stored'

# the partner feed (JSON Lines): every entry, no admission data
"$bin" crossings export --db can.db --since 0 -o feed.jsonl 2>log || fail "export rc $?: $(cat log)"
assert_contains log 'exported 3 entries'
assert_contains feed.jsonl '"record_id":"e2"' "feed"
for w in admission stay_until visitor student '"citizen"' 2026-05-30 2027-01-31; do
    assert_not_contains feed.jsonl "$w" "feed.jsonl"
done
# (the CSV writer is checked in tests/test_admission.c)

# a partner file carrying admission data: the rows are stored, the admission
# data is not (it is never exchanged)
cat > partner.csv <<CSV
$hdr
u1,USA,entry,2026-03-05T10:00:00-05:00,0901,land,Lee,Ann,,1980-05-06,USA,F,P,D1,USA,visitor,2026-05-30
u2,USA,entry,2026-03-06T10:00:00-05:00,0901,land,Kim,Di,,1985-02-03,USA,F,P,D9,USA,,
CSV
"$bin" crossings import --db can.db --from-partner USA partner.csv 2>log || fail "partner import rc $?: $(cat log)"
assert_contains log '2 rows, 2 stored'
sqlite3 can.db "SELECT record_id, coalesce(admission_class,'-'), coalesce(stay_until,'-') FROM crossing ORDER BY record_id" >rows.txt
assert_contains rows.txt '^u1\|-\|-$' "partner row u1"
assert_contains rows.txt '^u2\|-\|-$' "partner row u2"
assert_contains rows.txt '^e1\|visitor\|20260530$' "own row e1"
assert_contains rows.txt '^e3\|citizen\|-$' "own row e3"

# invalid admission data on our own rows: row errors with the field
cat > bad.csv <<CSV
$hdr
x1,CAN,entry,2026-03-01T10:00:00-05:00,0901,land,Lee,Ann,,1980-05-06,USA,F,P,D1,USA,tourist,2026-05-30
x2,CAN,exit,2026-03-01T10:00:00-05:00,0901,land,Lee,Ann,,1980-05-06,USA,F,P,D1,USA,visitor,2026-05-30
CSV
rc=0; "$bin" crossings import --db can.db bad.csv 2>log || rc=$?
[ "$rc" = 1 ] || fail "bad admission rows: rc $rc"
assert_contains log 'line 2: admission_class: '
assert_contains log 'line 3: admission_class: admission data belongs on an entry'
echo ok
