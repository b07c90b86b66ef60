#!/usr/bin/env bash
# The sharded gallery loaded from PostgreSQL (issue 17): templates enrolled
# into a throwaway PostgreSQL cluster (and, for comparison, into SQLite) ->
# two `shard serve` shards read their part through the store's query API
# from PostgreSQL -> `shard identify` finds the mate, every finger held
# once. Its own nats-server and PostgreSQL cluster, stopped after.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
P=${PERIMETER_BIN:?PERIMETER_BIN not set}
tmp=$(mktemp -d)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    nats_stop
    pg_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"
pg_start "$tmp"
nats_start "$tmp"
db=$(pg_createdb gallery)

"$P" synth templates --out syn --subjects 80 --fingers 1 --probes 9 --seed 5 >synth.out
"$P" enroll --db "$db" --list syn/enroll.csv >enroll.out 2>enroll.err \
    || fail "enroll into PostgreSQL: $(cat enroll.err)"
assert_contains enroll.out "enrolled 80 finger view"
"$P" enroll --db g.db --list syn/enroll.csv >enroll_sq.out
"$P" gallery stats --db "$db" >stats_pg.out 2>&1 || fail "stats: $(cat stats_pg.out)"
"$P" gallery stats --db g.db >stats_sq.out 2>&1
grep '^fingers' stats_pg.out >f_pg.txt || fail "no counts from PostgreSQL: $(cat stats_pg.out)"
grep '^fingers' stats_sq.out >f_sq.txt || fail "no counts from SQLite: $(cat stats_sq.out)"
assert_contains f_pg.txt 'fingers 80, subjects 80'
cmp -s f_pg.txt f_sq.txt || fail "gallery stats differ: $(cat f_pg.txt) / $(cat f_sq.txt)"

serve() { # serve K/S LOG
    "$P" shard serve --db "$db" --shard "$1" --nats "$NATS_URL" --threads 1 2>"$2" &
    pids+=($!)
    local i
    for i in $(seq 1 100); do
        if grep -q serving "$2"; then return 0; fi
        kill -0 "${pids[-1]}" 2>/dev/null || fail "shard $1 exited: $(cat "$2")"
        sleep 0.1
    done
    fail "shard $1 did not start: $(cat "$2")"
}
serve 0/2 s0.log
serve 1/2 s1.log
n0=$(sed -n 's/.*: \([0-9]*\) fingers.*/\1/p' s0.log)
n1=$(sed -n 's/.*: \([0-9]*\) fingers.*/\1/p' s1.log)
[ $((n0 + n1)) = 80 ] || fail "shards hold $n0 + $n1 fingers, want 80"
[ "$n0" -gt 10 ] && [ "$n1" -gt 10 ] || fail "unbalanced shards: $n0 / $n1"

line=$(awk -F, 'NR > 1 && $3 != "" { print; exit }' syn/probes.csv)
probe=${line%%,*}
mate=${line##*,}
[ -f "$probe" ] || fail "probe $probe missing"
"$P" shard identify --nats "$NATS_URL" --shards 2 --top 3 "$probe" >id.out || fail "identify: $(cat id.out)"
assert_contains id.out "^ 1  subject $mate " "mate first"
assert_contains id.out "2 of 2 shards answered"
echo "shard_postgres: ok"
