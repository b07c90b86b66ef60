#!/usr/bin/env bash
# ctest-label: heavy (about 30 s: it waits out a 20 s login lock)
# Login limits that hold (issue 18): after limits.login_failures wrong
# passwords a name is locked; further attempts, even with the right password
# and even a burst of them, are answered 429 with Retry-After WITHOUT a
# password check (counted: perimeter_login_checks_total does not move), the
# lock survives a restart (store table login_lock), each refusal is in the
# disclosure log, and after the wait the right password succeeds and resets
# the count. Also the node's data key at start: without one it says data at
# rest is in clear; a key file readable by others stops it; a good one is
# announced.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

make_pair
jq '.limits += {login_failures: 3, login_failures_ip: 100, login_lock_s: 20, officer_rate: 100,
                officer_burst: 100} | .partners[0].push = false' pair/CAN/node.json >c.json &&
    mv c.json pair/CAN/node.json
PERIMETER_PASSWORD=correct-horse "$bin" officer add --config pair/CAN/node.json alice >/dev/null
start_node CAN
assert_contains CAN.log "no data_key configured: .* stored in clear" "the node's start log"
base=$(url CAN)
ca=pair/CAN/ca/ca.pem
checks() {
    curl -sS -o m.txt --cacert $ca "$base/metrics"
    sed -n 's/^perimeter_login_checks_total //p' m.txt
}
login() { # PASSWORD NAME: status in $code, headers NAME.h
    printf '{"username":"alice","password":"%s"}' "$1" >"$2.json"
    code=$(curl -sS -D "$2.h" -o "$2.out" -w '%{http_code}' --cacert $ca \
        -H 'Content-Type: application/json' --data-binary "@$2.json" "$base/v1/auth/login" || true)
}
c0=$(checks)
for i in 1 2 3; do
    login wrong "bad$i"
    [ "$code" = 401 ] || fail "wrong password $i: $code $(cat bad$i.out)"
done
[ "$(checks)" = $((c0 + 3)) ] || fail "3 wrong passwords: $(($(checks) - c0)) checks"
# locked: the right password is refused, fast, without a check
login correct-horse locked
[ "$code" = 429 ] && [ "$(jq -r .code locked.out)" = login_locked ] || fail "locked login: $code $(cat locked.out)"
ra=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/Ip' locked.h | tr -d '\r')
[ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 20 ] || fail "Retry-After '$ra'"
# a burst of 12 at once: all refused, none checked (the lock is 20 s, not
# shorter: at load 20 the three Argon2id checks and 12 TLS handshakes took
# longer than an 8 s lock, which then expired mid-burst)
bp=()
for i in $(seq 1 12); do login wrong "burst$i" & bp+=($!); done
for p in "${bp[@]}"; do wait "$p"; done
for i in $(seq 1 12); do
    [ "$(jq -r .code burst$i.out)" = login_locked ] || fail "burst attempt $i: $(cat burst$i.out)"
done
[ "$(checks)" = $((c0 + 3)) ] || fail "locked attempts ran Argon2id: $(($(checks) - c0)) checks"
assert_contains m.txt '^perimeter_login_locked_total 13$'
# the lock survives a restart
stop_node CAN
start_node CAN
c1=$(checks)
login correct-horse after_restart
[ "$code" = 429 ] || fail "after a restart the lock was lifted: $code $(cat after_restart.out)"
[ "$(checks)" = "$c1" ] || fail "after a restart a locked login ran Argon2id"
assert_contains pair/CAN/audit.log 'login:alice.*refused 429, locked for [0-9]+ s after 3 failed attempts'
assert_contains pair/CAN/audit.log 'login:alice.*failed login; locked for 20 s'
# after the wait the right password succeeds, and the count starts again
ra=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/Ip' after_restart.h | tr -d '\r')
sleep $((ra + 1))
login correct-horse ok
[ "$code" = 200 ] && [ -n "$(jq -r .token ok.out)" ] || fail "after the wait: $code $(cat ok.out)"
login wrong again1
[ "$code" = 401 ] || fail "after a success the count was not reset: $code"
login correct-horse ok2
[ "$code" = 200 ] || fail "one failure after a success locked the name: $code"
stop_node CAN

# the data key at start
"$bin" store keygen pair/CAN/data.key >/dev/null
chmod 644 pair/CAN/data.key
jq '. + {data_key: {file: "data.key"}}' pair/CAN/node.json >c.json && mv c.json pair/CAN/node.json
rc=0
"$bin" serve --config pair/CAN/node.json >serve.out 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a node started with a data key readable by others"
assert_contains serve.out "data_key.*chmod 600"
chmod 600 pair/CAN/data.key
: >CAN.log
start_node CAN
assert_contains CAN.log "data at rest sealed under the data key"
login correct-horse sealed_ok
[ "$code" = 200 ] || fail "login with a data key: $code"
echo "node_login_limit: ok"
