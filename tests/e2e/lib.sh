# Sourced by the end-to-end tests (not a test itself: CTest registers tests/e2e/*.sh
# except lib.sh). Conventions every e2e test follows:
#  - a missing shared data set skips (exit 77) on a developer's machine and FAILS
#    when PERIMETER_REQUIRE_DATA=1 or CI=true (.ci/run sets it);
#  - a command that crashes or fails is a failure, never a skip;
#  - never `cmd | grep -q X`: under pipefail grep exits early, cmd dies of SIGPIPE
#    and the pipeline's status lies. Capture output to a file, then test the file.

pm_data_required() {
    [ "${PERIMETER_REQUIRE_DATA:-}" = 1 ] || [ "${CI:-}" = true ]
}

# require_data PATH...: every PATH must exist, else skip (or fail under CI).
require_data() {
    local p
    for p in "$@"; do
        if [ ! -e "$p" ]; then
            if pm_data_required; then
                echo "FAIL: shared data '$p' not found and PERIMETER_REQUIRE_DATA is set" >&2
                exit 1
            fi
            echo "SKIP: shared data '$p' not found (set PERIMETER_DATA)"
            exit 77
        fi
    done
}

# fail MESSAGE: print and exit 1.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# assert_contains FILE REGEX [WHAT] / assert_not_contains FILE REGEX [WHAT]
assert_contains() {
    grep -Eq -- "$2" "$1" || fail "${3:-$1} does not contain /$2/"
}
assert_not_contains() {
    if grep -Eq -- "$2" "$1"; then fail "${3:-$1} contains /$2/"; fi
}

# require_postgres: skip (FAIL under CI, like missing data) when no PostgreSQL
# server binaries are installed; for tests that start their cluster through
# another program (scripts/crash_harness.py --db postgresql).
require_postgres() {
    if [ -z "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ] && ! command -v pg_config >/dev/null; then
        if pm_data_required; then fail "PostgreSQL is not installed and PERIMETER_REQUIRE_DATA is set"; fi
        echo "SKIP: PostgreSQL is not installed"
        exit 77
    fi
}

# pg_start DIR: a throwaway PostgreSQL cluster in DIR/pg (tests/pg_env.sh,
# fsync off, stopped by pg_stop or, if this script dies, when it exits); sets
# PG_URI (postgresql://pm@127.0.0.1:PORT/postgres) and PG_PSQL. PostgreSQL not
# installed: skip (FAIL under CI, like missing data); installed but not
# starting: failure.
pg_start() {
    local rc=0 src=${PERIMETER_SRC:?PERIMETER_SRC not set}
    PG_DIR=$1
    PG_URI=$(bash "$src/tests/pg_env.sh" start "$PG_DIR" --fast --watch $$) || rc=$?
    if [ "$rc" = 2 ]; then
        if pm_data_required; then fail "PostgreSQL is not installed and PERIMETER_REQUIRE_DATA is set"; fi
        echo "SKIP: PostgreSQL is not installed"
        exit 77
    fi
    [ "$rc" = 0 ] || fail "PostgreSQL is installed but did not start"
    PG_PSQL=$(command -v psql || true)
    [ -n "$PG_PSQL" ] || PG_PSQL="$(pg_config --bindir 2>/dev/null)/psql"
    [ -x "$PG_PSQL" ] || fail "psql not found"
}
pg_stop() {
    [ -n "${PG_DIR:-}" ] || return 0
    bash "${PERIMETER_SRC:?}/tests/pg_env.sh" stop "$PG_DIR" || true
}
# pg_scratch: a fresh temporary folder in $tmp, made the current one, with a
# throwaway cluster in it (pg_start); both removed when the script exits.
pg_scratch() {
    tmp=$(mktemp -d)
    trap 'pg_stop; rm -rf "$tmp"' EXIT
    cd "$tmp"
    pg_start "$tmp"
}
# pg_createdb NAME: a database of the cluster; prints its URI.
pg_createdb() {
    "$PG_PSQL" -q -v ON_ERROR_STOP=1 "$PG_URI" -c "CREATE DATABASE $1" >/dev/null ||
        fail "CREATE DATABASE $1"
    echo "${PG_URI%/*}/$1"
}

# nats_start DIR: a throwaway nats-server on 127.0.0.1 (free port, ports file
# and log in DIR; killed by nats_stop); sets NATS_URL. Not installed: skip
# (FAIL under CI); installed but not starting: failure.
# nats_program: sets NATS_PROG to the nats-server program ($PM_NATS_SERVER
# or the usual places); not installed: skip (FAIL under CI).
nats_program() {
    local i
    NATS_PROG=${PM_NATS_SERVER:-}
    if [ -z "$NATS_PROG" ]; then
        for i in /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server; do
            if [ -x "$i" ]; then NATS_PROG=$i; break; fi
        done
    fi
    if [ -z "$NATS_PROG" ] || [ ! -x "$NATS_PROG" ]; then
        if pm_data_required; then fail "nats-server is not installed and PERIMETER_REQUIRE_DATA is set"; fi
        echo "SKIP: nats-server is not installed"
        exit 77
    fi
}
nats_start() {
    local prog i
    nats_program
    prog=$NATS_PROG
    mkdir -p "$1/nats-ports"
    "$prog" -a 127.0.0.1 -p -1 --ports_file_dir "$1/nats-ports" -l "$1/nats.log" &
    NATS_PID=$!
    for i in $(seq 1 100); do
        if [ -s "$1/nats-ports/nats-server_$NATS_PID.ports" ]; then
            NATS_URL=$(sed 's/.*"\(nats:\/\/[^"]*\)".*/\1/' "$1/nats-ports/nats-server_$NATS_PID.ports")
            case "$NATS_URL" in nats://*) return 0 ;; esac
        fi
        kill -0 "$NATS_PID" 2>/dev/null || fail "nats-server exited: $(tail -5 "$1/nats.log")"
        sleep 0.1
    done
    fail "nats-server did not start"
}
nats_stop() {
    [ -n "${NATS_PID:-}" ] || return 0
    kill "$NATS_PID" 2>/dev/null || true
    wait "$NATS_PID" 2>/dev/null || true
}
