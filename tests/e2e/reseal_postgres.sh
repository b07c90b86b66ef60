#!/usr/bin/env bash
# ctest-label: heavy
# `perimeter store reseal` on a PostgreSQL store (a throwaway cluster): a
# disclosed name and an officer's reason written in clear are found in the
# cluster's table files (base/) before reseal, and in none of them after it
# (reseal runs VACUUM FULL on the resealed tables, then a CHECKPOINT); the
# sealed rows still open with the key. The WAL (pg_wal/) is not searched:
# its segments of the rewrite window hold clear bytes until PostgreSQL
# recycles them (docs/security.md).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
P=${PERIMETER_BIN:?}
src=${PERIMETER_SRC:?PERIMETER_SRC not set}
pg_scratch
T=$tmp
db=$(pg_createdb reseal)
export PERIMETER_DB="$db"
unset PERIMETER_DATA_KEY PERIMETER_DATA_KEY_OLD
common=(--agreement "$src/docs/agreement-example.json" --log "$T/audit.log" --ours CAN --actor node-CAN)
NAME=QWERTZPGNAMEKNOWN
WHY=YXCVBPGREASONKNOWN

printf '{"disclosure":{"family_name":"%s"}}' "$NAME" > answer.json
"$P" received add "${common[@]}" --origin USA --class match_result --purpose REFUGEE_VETTING \
    --txn Q-1 --subject txn:Q-1 --file answer.json > rid
"$P" review add "${common[@]}" --txn Q-1 --partner USA --purpose REFUGEE_VETTING \
    --subject txn:Q-1 --score 57.5 --action "refuse" --evidence "{\"family_name\":\"$NAME\"}" > revid
"$P" review confirm "$(cat revid)" "${common[@]}" --officer kim --why "same person $WHY" > confirm.out

search() { # OUT: "name FILE" / "why FILE" for every hit under the cluster's base/
    "$PG_PSQL" -q -v ON_ERROR_STOP=1 "$PG_URI" -c CHECKPOINT > /dev/null
    python3 - "$PG_DIR" "$NAME" "$WHY" > "$1" <<'PY'
import os, sys
root, name, why = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
base = [os.path.join(d, f) for d, _, fs in os.walk(root) if "/base" in d for f in fs]
for p in sorted(base):
    try:
        d = open(p, 'rb').read()
    except OSError:
        continue
    if name in d: print("name", p)
    if why in d: print("why", p)
PY
}
search clear.hits
assert_contains clear.hits "^name " "in clear: the disclosed name is not in the cluster's files (the search cannot fail)"
assert_contains clear.hits "^why " "in clear: the officer's reason is not in the cluster's files"

"$P" store keygen "$T/k.key" > /dev/null
export PERIMETER_DATA_KEY="$T/k.key"
"$P" store reseal > reseal.out 2> reseal.err || fail "reseal: $(cat reseal.err)"
assert_contains reseal.out "partner data .*: 2 rows, 2 sealed"
assert_contains reseal.out "VACUUM FULL of gallery_template, jobs_received and jobs_review done"
search sealed.hits
[ ! -s sealed.hits ] || fail "after reseal, found in the cluster's files: $(cat sealed.hits)"
"$P" review show "$(cat revid)" > show.out
assert_contains show.out "$NAME" "the sealed evidence does not open"
assert_contains show.out "$WHY" "the sealed reason does not open"
echo "reseal_postgres: ok"
