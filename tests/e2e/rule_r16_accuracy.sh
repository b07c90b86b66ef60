#!/usr/bin/env bash
# R16 accuracy at source, on two real nodes: a record in CAN's store that no
# longer validates (an MRZ check digit changed, a date of birth after the
# crossing) is not sent to USA by the feed; the refusal naming R16 and the
# record is in CAN's disclosure log, and every valid entry arrives.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
make_pair
"$bin" bench ingest --rows 200 --seed 5 --country CAN --write-jsonl can.jsonl >/dev/null
"$bin" crossings import --db pair/CAN/perimeter.db can.jsonl >imp.out || fail "import: $(cat imp.out)"
python3 - pair/CAN/perimeter.db >bad.txt <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rid, mrz = db.execute("SELECT record_id, mrz FROM crossing WHERE direction = 1 AND mrz IS NOT NULL "
                      "ORDER BY id LIMIT 1").fetchone()
lines = mrz.split("|")
l2 = lines[1]
d = l2[9]  # check digit of the document number (ICAO 9303 TD3 line 2)
l2 = l2[:9] + str((int(d) + 1) % 10 if d.isdigit() else 0) + l2[10:]
db.execute("UPDATE crossing SET mrz = ? WHERE record_id = ?", ("|".join([lines[0], l2]), rid))
rid2 = db.execute("SELECT record_id FROM crossing WHERE direction = 1 AND mrz IS NULL "
                  "ORDER BY id LIMIT 1").fetchone()[0]
db.execute("UPDATE crossing SET dob = 20990101 WHERE record_id = ?", (rid2,))
db.commit()
print(rid); print(rid2)
PY
bad1=$(sed -n 1p bad.txt); bad2=$(sed -n 2p bad.txt)
[ -n "$bad1" ] && [ -n "$bad2" ] || fail "could not damage two records"
entries=$(jq -s 'map(select(.direction == "entry")) | length' can.jsonl)
start_node USA
start_node CAN
arrived() { [ "$(crossing_stat USA partner_exits)" = $((entries - 2)) ]; }
wait_until 30 arrived || fail "USA has $(crossing_stat USA partner_exits) exits, want $((entries - 2))"
sleep 1 # one more feed interval: nothing else may arrive
[ "$(crossing_stat USA partner_exits)" = $((entries - 2)) ] || fail "a damaged record arrived"
for r in "$bad1" "$bad2"; do
    n=$(sqlite3 pair/USA/perimeter.db "SELECT count(*) FROM crossing WHERE record_id = '$r'")
    [ "$n" = 0 ] || fail "$r reached USA"
    grep "\"records\":\[\"$r\"\]" pair/CAN/audit.log >r.log || fail "no log entry for $r"
    assert_contains r.log '"kind":"refusal".*"purpose":"BORDER-EXIT".*"rule":"R16"'
done
assert_contains CAN.log "record $bad1 not sent: .*fails validation at source"
report CAN
[ "$(jq '.by_kind.disclosure' report_CAN.json)" -ge 1 ] || fail "no feed disclosure logged"
echo "R16: 2 damaged records held back and logged; $((entries - 2)) entries arrived"
