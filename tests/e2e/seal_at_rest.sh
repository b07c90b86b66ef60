#!/usr/bin/env bash
# Sealing at rest (docs/security.md "A stolen node disk"): a store written
# in clear holds a known template's bytes and a disclosed name that anyone
# with the files can read; `perimeter store reseal` seals them (templates,
# received partner data and the reason it was found irrelevant, review
# evidence and officers' action/reason texts,
# the gallery snapshot) so that the
# same search of every file of the folder finds nothing; the rows still open
# with the key (identify finds the mate, the received payload and evidence
# read back); without the key they are refused, not served; a template blob
# moved to another row is refused; a rotation re-seals under the new key
# with the old one kept for reading, after which the old key alone opens
# nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
P=${PERIMETER_BIN:?}
src=${PERIMETER_SRC:?PERIMETER_SRC not set}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
mkdir data
export PERIMETER_DB="$T/data/g.db"
unset PERIMETER_DATA_KEY PERIMETER_DATA_KEY_OLD
common=(--agreement "$src/docs/agreement-example.json" --log "$T/data/audit.log" --ours CAN --actor node-CAN)
NAME=QWERTZUIOPNAME
ACTION=ASDFGHACTIONTEXT # an officer's proposed action and reason (sealed too)
WHY=YXCVBNREASONTEXT
IRR=PLMOKNIRRELEVANTWHY # an officer's reason for finding received data irrelevant (R7)

"$P" synth templates --out syn --subjects 30 --fingers 1 --probes 3 --seed 5 > synth.out
"$P" enroll --list syn/enroll.csv > enroll.out
assert_contains enroll.out "enrolled 30 finger view"
printf '{"disclosure":{"family_name":"%s","given_name":"ANNA"}}' "$NAME" > answer.json
"$P" received add "${common[@]}" --origin USA --class match_result --purpose REFUGEE_VETTING \
    --txn Q-1 --subject txn:Q-1 --file answer.json > rid
rid=$(cat rid)
"$P" review add "${common[@]}" --txn Q-1 --partner USA --purpose REFUGEE_VETTING \
    --subject txn:Q-1 --score 57.5 --action "refuse the claim $ACTION" --evidence "{\"family_name\":\"$NAME\"}" > revid
revid=$(cat revid)
"$P" review confirm "$revid" "${common[@]}" --officer kim --why "same person $WHY" > confirm.out
printf '{"family_name":"OTHER"}' > other.json
"$P" received add "${common[@]}" --origin USA --class received_biographic --purpose REFUGEE_VETTING \
    --txn Q-3 --subject txn:Q-3 --file other.json > rid_irr
"$P" received irrelevant "$(cat rid_irr)" "${common[@]}" --officer kim --why "namesake $IRR" > irr.out

# the known template: subject 7's stored bytes (native format) and the name
python3 - "$T/data/g.db" > known.hex <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
(blob,) = db.execute("SELECT template FROM gallery_template WHERE subject = 7").fetchone()
print(blob[8:72].hex())
PY
"$P" gallery stats > /dev/null # the snapshot is written
# ... and its packed minutiae in the snapshot (docs/gallery.md layout)
python3 - "$T/data/g.db.gallery" > known_snap.hex <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
n = struct.unpack_from('<Q', d, 32)[0]
subj = struct.unpack_from('<%dQ' % n, d, 96)
i = subj.index(7)
off = 96 + n * 8 + n * 4 + 3 * n + i * 48 * 4
print(d[off:off + 64].hex())
PY
# search every file of the data folder (store, WAL, snapshot, log) for them
# The officer texts are looked for in every file but the disclosure log: the
# entries logged before the key was configured keep them (the log is
# append-only and is never rewritten); entries logged under a key carry no
# officer text (checked below).
search() { # OUT: lines "template FILE" / "name FILE" / "action FILE" / "why FILE" for every hit
    python3 - "$T/data" "$(cat known.hex)" "$(cat known_snap.hex)" "$NAME" "$ACTION" "$WHY" "$IRR" > "$1" <<'PY'
import os, sys
root, tpl, snap = sys.argv[1], bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
name, action, why, irr = (a.encode() for a in sys.argv[4:8])
for f in sorted(os.listdir(root)):
    d = open(os.path.join(root, f), 'rb').read()
    if tpl in d: print("template", f)
    if snap in d: print("packed", f)
    if name in d: print("name", f)
    if f != "audit.log" and action in d: print("action", f)
    if f != "audit.log" and why in d: print("why", f)
    if f != "audit.log" and irr in d: print("irrelevant-why", f)
PY
}
search clear.hits
assert_contains clear.hits "^template g.db" "in clear: the template is not found in the store (the search cannot fail)"
assert_contains clear.hits "^packed g.db.gallery" "in clear: the template is not found in the snapshot"
assert_contains clear.hits "^name g.db" "in clear: the disclosed name is not found in the store"
assert_contains clear.hits "^action g.db" "in clear: the proposed action is not found in the store"
assert_contains clear.hits "^why g.db" "in clear: the officer's reason is not found in the store"
assert_contains clear.hits "^irrelevant-why g.db" "in clear: the irrelevant-why is not found in the store"

# seal everything in place
rc=0
"$P" store reseal > nokey.out 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "reseal without a key: exit $rc, want 3"
assert_contains nokey.out "no data key"
"$P" store keygen "$T/k1.key" > kg.out
[ "$(stat -c %a "$T/k1.key")" = 600 ] || fail "key file not 0600"
rc=0
"$P" store keygen "$T/k1.key" > kg2.out 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "a key file was overwritten"
export PERIMETER_DATA_KEY="$T/k1.key"
"$P" store reseal --batch 7 > reseal.out
assert_contains reseal.out "templates: 30 rows, 30 sealed, 0 re-sealed"
assert_contains reseal.out "partner data .*: 3 rows, 3 sealed"
assert_contains reseal.out "snapshot .* rewritten sealed"
search sealed.hits
[ ! -s sealed.hits ] || fail "after reseal, found in clear: $(cat sealed.hits)"
# a second run has nothing left to do (resumable: it only takes what is not under the key)
"$P" store reseal > reseal2.out
assert_contains reseal2.out "templates: 30 rows, 0 sealed, 0 re-sealed"
assert_contains reseal2.out "partner data .*: 3 rows, 0 sealed, 0 re-sealed"

# the rows open with the key
line=$(sed -n 2p syn/probes.csv)
probe=${line%%,*} mate=${line##*,}
"$P" identify --json --top 3 "$probe" > id.json
[ "$(jq -r '.candidates[0].subject' id.json)" = "$mate" ] || fail "after reseal: identify lost the mate"
rm -f data/g.db.gallery
"$P" identify --json --top 3 "$probe" > id2.json
[ "$(jq -r '.candidates[0].subject' id2.json)" = "$mate" ] || fail "rebuilt from the sealed store: identify lost the mate"
search sealed2.hits
[ ! -s sealed2.hits ] || fail "the rebuilt snapshot is in clear: $(cat sealed2.hits)"
# the agreement's consent covers GBR for this purpose: the payload read back is the one received
"$P" transfer received "$rid" "${common[@]}" --to GBR --purpose REFUGEE_VETTING --out sent.json 2> tr.err
cmp -s sent.json answer.json || fail "the sealed received payload does not read back as received"
"$P" review show "$revid" > show.out
assert_contains show.out "$NAME" "review evidence does not open"
assert_contains show.out "$ACTION" "the sealed action does not open"
assert_contains show.out "$WHY" "the sealed reason does not open"
"$P" received list --irrelevant --json > irr_list.json 2> irr_list.err || "$P" received list --irrelevant > irr_list.json
assert_contains irr_list.json "$IRR" "the sealed irrelevant-why does not open"
# found irrelevant under the key: the reason is sealed at once and the log
# entry names the item without it
"$P" received add "${common[@]}" --origin USA --class received_biographic --purpose REFUGEE_VETTING \
    --txn Q-4 --subject txn:Q-4 --file other.json > rid_irr2
"$P" received irrelevant "$(cat rid_irr2)" "${common[@]}" --officer kim --why "namesake ${IRR}2" > irr2.out
"$P" received list --irrelevant --json > irr_list2.json 2> irr_list2.err || "$P" received list --irrelevant > irr_list2.json
assert_contains irr_list2.json "${IRR}2" "an irrelevant-why sealed under the key does not open"
# a review queued and decided under the key: sealed at once, and the log
# names the item without the officer's text
"$P" review add "${common[@]}" --txn Q-2 --partner USA --purpose REFUGEE_VETTING \
    --subject txn:Q-2 --score 51 --action "hold ${ACTION}2" --evidence "{}" > revid2
"$P" review reject "$(cat revid2)" "${common[@]}" --officer kim --why "not him ${WHY}2" > reject.out
"$P" review show "$(cat revid2)" > show3.out
assert_contains show3.out "${WHY}2" "a reason sealed under the key does not open"
python3 - "$T/data" "${ACTION}2" "${WHY}2" "${IRR}2" > fresh_text.out <<'PY'
import os, sys
for f in sorted(os.listdir(sys.argv[1])):
    d = open(os.path.join(sys.argv[1], f), 'rb').read()
    for t in sys.argv[2:]:
        if t.encode() in d: print("found", t, "in", f)
PY
[ ! -s fresh_text.out ] || fail "officer text written under the key is in clear: $(cat fresh_text.out)"
# enrolment with the key writes sealed rows at once
"$P" enroll --subject 9001 --position 1 syn/g/3_1.pmt > enroll2.out
python3 - "$T/data/g.db" "$T/data/g.db-wal" > fresh.out <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
(blob,) = db.execute("SELECT template FROM gallery_template WHERE subject = 9001").fetchone()
print("sealed" if blob[:4] == b"PMX1" else "clear")
PY
assert_contains fresh.out "^sealed$" "a new enrolment under a data key is stored in clear"

# without the key: refused clearly, nothing served
rm -f data/g.db.gallery
rc=0
env -u PERIMETER_DATA_KEY "$P" identify --json "$probe" > nok.json 2> nok.err || rc=$?
[ "$rc" != 0 ] || fail "identify without the key succeeded"
assert_contains nok.err "no data key is configured"
rc=0
env -u PERIMETER_DATA_KEY "$P" review show "$revid" > nok2.out 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "review show without the key succeeded"

# a blob moved to another row does not open there
python3 - "$T/data/g.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
(a,) = db.execute("SELECT template FROM gallery_template WHERE subject = 7").fetchone()
db.execute("UPDATE gallery_template SET template = ? WHERE subject = 8", (a,))
db.commit()
PY
rc=0
"$P" gallery rebuild > swap.out 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a swapped template blob was accepted"
assert_contains swap.out "subject 8 .*fails authentication"
python3 - "$T/data/g.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM gallery_template WHERE subject = 8")
db.commit()
PY

# rotation: a new key, the old one kept for reading while re-sealing
"$P" store keygen "$T/k2.key" > /dev/null
export PERIMETER_DATA_KEY="$T/k2.key" PERIMETER_DATA_KEY_OLD="$T/k1.key"
"$P" store reseal > rot.out
assert_contains rot.out "templates: 30 rows, 0 sealed, 30 re-sealed"
assert_contains rot.out "partner data .*: 5 rows, 0 sealed, 5 re-sealed" # + the review item and the received record added under the key
unset PERIMETER_DATA_KEY_OLD
"$P" identify --json --top 3 "$probe" > id3.json
[ "$(jq -r '.candidates[0].subject' id3.json)" = "$mate" ] || fail "after rotation: identify lost the mate"
"$P" review show "$revid" > show2.out
assert_contains show2.out "$NAME"
rm -f data/g.db.gallery
rc=0
PERIMETER_DATA_KEY="$T/k1.key" "$P" gallery rebuild > old.out 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "the old key alone still opens the rotated store"
assert_contains old.out "not loaded"
search rot.hits
[ ! -s rot.hits ] || fail "after rotation, found in clear: $(cat rot.hits)"
echo "seal_at_rest: ok"
