#!/usr/bin/env bash
# The sharded gallery from the command line, on a nats-server of its own:
# synth templates -> enroll -> two `shard serve` shards (+ a replica of shard
# 0) -> `shard identify` finds the mate; a replica killed: its twin answers;
# both copies of shard 0 killed: a partial answer naming shard 0 (exit 1);
# shard 1 hung (SIGSTOP): cut off at the deadline, never a hang.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
P=${PERIMETER_BIN:?PERIMETER_BIN not set}
tmp=$(mktemp -d)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -9 "$p" 2>/dev/null || true; done
    nats_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"
nats_start "$tmp"

"$P" synth templates --out syn --subjects 80 --fingers 1 --probes 9 --seed 5 >synth.out
"$P" enroll --db g.db --list syn/enroll.csv >enroll.out
assert_contains enroll.out "enrolled 80 finger view"

serve() { # serve K/S LOG
    "$P" shard serve --db g.db --shard "$1" --nats "$NATS_URL" --threads 1 2>"$2" &
    pids+=($!)
    local i
    for i in $(seq 1 100); do
        if grep -q serving "$2"; then return 0; fi
        kill -0 "${pids[-1]}" 2>/dev/null || fail "shard $1 exited: $(cat "$2")"
        sleep 0.1
    done
    fail "shard $1 did not start: $(cat "$2")"
}
serve 0/2 s0a.log; s0a=${pids[-1]}
serve 0/2 s0b.log; s0b=${pids[-1]}
serve 1/2 s1.log; s1=${pids[-1]}
# the two shards together hold every finger once
n0=$(sed -n 's/.*: \([0-9]*\) fingers.*/\1/p' s0a.log)
n1=$(sed -n 's/.*: \([0-9]*\) fingers.*/\1/p' s1.log)
[ $((n0 + n1)) = 80 ] || fail "shards hold $n0 + $n1 fingers, want 80"
[ "$n0" -gt 10 ] && [ "$n1" -gt 10 ] || fail "unbalanced shards: $n0 / $n1"

# a mated probe (probes.csv: path,position,mate)
line=$(awk -F, 'NR > 1 && $3 != "" { print; exit }' syn/probes.csv)
probe=${line%%,*}
mate=${line##*,}
[ -f "$probe" ] || fail "probe $probe missing"
"$P" shard identify --nats "$NATS_URL" --shards 2 --top 3 "$probe" >id1.out || fail "identify: $(cat id1.out)"
assert_contains id1.out "^ 1  subject $mate " "mate first"
assert_contains id1.out "2 of 2 shards answered"
"$P" shard identify --nats "$NATS_URL" --shards 2 --json "$probe" >id1.json
assert_contains id1.json '"partial":false'

# a replica of shard 0 dies: its twin answers, the answer stays whole
kill -9 "$s0a"
for i in 1 2 3; do
    "$P" shard identify --nats "$NATS_URL" --shards 2 "$probe" >id2.out || fail "after one replica died: $(cat id2.out)"
    assert_contains id2.out "2 of 2 shards answered"
done

# both copies of shard 0 gone: partial, shard 0 named, exit 1
kill -9 "$s0b"
rc=0; "$P" shard identify --nats "$NATS_URL" --shards 2 --deadline 500 "$probe" >id3.out || rc=$?
[ "$rc" = 1 ] || fail "partial answer: exit $rc, want 1"
assert_contains id3.out "1 of 2 shards answered .*PARTIAL, missing: 0$"

# shard 1 hung (stopped, not dead): cut off at the deadline
kill -STOP "$s1"
start=$(date +%s%N)
rc=0; timeout 20 "$P" shard identify --nats "$NATS_URL" --shards 2 --deadline 700 --json "$probe" >id4.json || rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
kill -CONT "$s1"
[ "$rc" = 1 ] || fail "hung shard: exit $rc, want 1"
assert_contains id4.json '"replied":0,"partial":true,"missing":\[0,1\]'
[ "$ms" -ge 650 ] && [ "$ms" -lt 10000 ] || fail "hung shard cut off after $ms ms (deadline 700)"
# shard 1 resumed answers again; SIGTERM ends a shard cleanly
"$P" shard identify --nats "$NATS_URL" --shards 2 --deadline 3000 "$probe" >id5.out || true
assert_contains id5.out "1 of 2 shards answered"
kill -TERM "$s1"
wait "$s1" || fail "shard 1 did not exit cleanly on SIGTERM"
assert_contains s1.log "SIGTERM after [0-9]+ requests"
echo "shard_cli: ok"
