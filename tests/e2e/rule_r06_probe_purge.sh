#!/usr/bin/env bash
# R6 non-match purge, on two real nodes: after a biometric query that ends
# in "no match", no byte sequence of the probe (raw, base64, or the minutiae
# as the store would hold them) is left in any file of the answering node
# (store, its WAL, the disclosure log, checkpoints); the log holds the
# probe's SHA-256 under probe_destroyed, and the node still runs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"
start_pair
make_prints 2
enrol USA 4 prints/DB1_B/101_1.png png '{"surname":"Lind","citizenship":"SWE"}'
[ "$code" = 200 ] || fail "enrol: $code $(cat enrol.out)"

probe=prints/DB1_B/102_2.iso
pq n biometric "$(probe_body $probe iso19794-2 ASYLUM r6-none)"
[ "$code" = 200 ] && [ "$(jq -r .result n.out)" = no_match ] || fail "no-match: $code $(cat n.out)"
h=$(sha256sum $probe | cut -d' ' -f1)
grep '"txn":"r6-none"' pair/USA/audit.log >none.log
assert_contains none.log '"kind":"probe_destroyed".*"probe_sha256":"'"$h"'".*"rule":"R6"'
# no trace: look for the probe's bytes in every file the node keeps
cat >trace.py <<'PY'
import base64, os, sys
probe = open(sys.argv[1], "rb").read()
body = probe[28:]  # the minutiae: ISO header and finger view header skipped
needles = [probe, base64.b64encode(probe), body[:48], base64.b64encode(body)[:64]]
hit = False
for root, _, files in os.walk(sys.argv[2]):
    for f in files:
        data = open(os.path.join(root, f), "rb").read()
        for n in needles:
            if n and n in data:
                print("probe bytes in", os.path.join(root, f)); hit = True
sys.exit(1 if hit else 0)
PY
python3 trace.py "$probe" pair/USA >trace.out || fail "a trace of the probe: $(cat trace.out)"
# the search can fire: a folder holding the probe's minutiae inside other bytes
mkdir -p control && { head -c 100 /dev/urandom; tail -c +29 "$probe"; } >control/blob
if python3 trace.py "$probe" control >control.out; then fail "the trace search cannot fire"; fi
# through CAN's node (officer path): both logs hold the same probe hash, neither the probe
"$bin" extract prints/DB1_B/102_2.png -o p2.ansi --format ansi || fail "extract"
oq fwd --purpose ASYLUM --probe p2.ansi --format ansi378 --transaction-id r6-fwd
[ "$qrc" = 0 ] && [ "$(jq -r .result fwd.out)" = no_match ] || fail "forwarded: $(cat fwd.out fwd.err)"
h2=$(sha256sum p2.ansi | cut -d' ' -f1)
grep '"txn":"r6-fwd"' pair/CAN/audit.log >can.log
assert_contains can.log '"kind":"query".*"probe_sha256":"'"$h2"'"'
grep '"txn":"r6-fwd"' pair/USA/audit.log >usa.log
assert_contains usa.log '"kind":"probe_destroyed".*"probe_sha256":"'"$h2"'"'
python3 trace.py p2.ansi pair/CAN >trace2.out || fail "a trace of the probe at CAN: $(cat trace2.out)"
python3 trace.py p2.ansi pair/USA >trace3.out || fail "a trace of the probe at USA: $(cat trace3.out)"
curl -sS -o /dev/null --cacert pair/USA/ca/ca.pem "$(url USA)/health" || fail "USA died"
echo "R6: no byte of the probe left in pair/USA; its hash logged as probe_destroyed"
