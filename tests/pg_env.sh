#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks: its own data
# directory, its own socket directory, a free loopback port, never the
# system-wide service (Debian's package also starts one on 5432; nothing here
# uses it).
#
#   tests/pg_env.sh start DIR [--fast] [--watch PID]
#       initdb + pg_ctl start in DIR/pg (DIR must exist; DIR/pg must not);
#       prints the cluster's URI (postgresql://pm@127.0.0.1:PORT/postgres,
#       superuser pm, trust on loopback only) on stdout. --fast turns fsync
#       off (tests; never for benchmarks). --watch PID stops the cluster when
#       PID exits, so a crashed test leaves no server behind.
#   tests/pg_env.sh stop DIR
#       stops it (fast shutdown) and waits; DIR is left for the caller.
#   tests/pg_env.sh run [--fast] CMD ARGS...
#       start in a fresh temporary directory, export PERIMETER_PG_URI, run
#       CMD, stop, remove the directory; exits with CMD's status.
#
# Exit status: 0 ok; 2 PostgreSQL's server programs are not installed (a
# caller may skip, except under CI); 1 anything else (a failure).
# PM_PG_BINDIR picks the server programs' directory (default: pg_config
# --bindir, else the newest /usr/lib/postgresql/*/bin).
# initdb refuses to run as root: as root the cluster runs as $PM_PG_USER, else
# `postgres` if that account exists, else `nobody` (runuser).
set -euo pipefail

pg_bindir() {
    local d
    if [ -n "${PM_PG_BINDIR:-}" ]; then
        # an explicit choice: that directory or nothing
        [ -x "$PM_PG_BINDIR/initdb" ] && [ -x "$PM_PG_BINDIR/pg_ctl" ] || return 1
        echo "$PM_PG_BINDIR"; return 0
    fi
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    done
    return 1
}

pg_user() {
    if [ "$(id -u)" -ne 0 ]; then return 0; fi
    if [ -n "${PM_PG_USER:-}" ]; then echo "$PM_PG_USER"
    elif id postgres >/dev/null 2>&1; then echo postgres
    else echo nobody; fi
}

# as_user CMD...: runs CMD as the cluster's owner (this user unless root).
as_user() {
    local u; u=$(pg_user)
    if [ -n "$u" ]; then runuser -u "$u" -- "$@"; else "$@"; fi
}

free_port() {
    local p i
    for i in $(seq 1 50); do
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

cmd_start() {
    local dir=$1; shift
    local fast=0 watch=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --fast) fast=1 ;;
            --watch) watch=$2; shift ;;
            *) echo "pg_env: unknown option $1" >&2; return 1 ;;
        esac
        shift
    done
    local bin; bin=$(pg_bindir) || { echo "pg_env: PostgreSQL server programs (initdb, pg_ctl) not found" >&2; return 2; }
    [ -d "$dir" ] || { echo "pg_env: $dir is not a directory" >&2; return 1; }
    dir=$(cd "$dir" && pwd)
    local pg="$dir/pg" u; u=$(pg_user)
    [ ! -e "$pg" ] || { echo "pg_env: $pg exists already" >&2; return 1; }
    mkdir -p "$pg/data" "$pg/sock"
    if [ -n "$u" ]; then
        chown -R "$u" "$pg"
        # the caller's own temporary directory must be traversable by the owner
        runuser -u "$u" -- test -x "$dir" || chmod o+x "$dir"
        runuser -u "$u" -- test -w "$pg/data" || { echo "pg_env: $u cannot reach $pg (make its parents traversable)" >&2; return 1; }
    fi
    if ! as_user "$bin/initdb" -D "$pg/data" -U pm --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync \
            --no-instructions >"$pg/initdb.log" 2>&1; then
        echo "pg_env: initdb failed:" >&2; tail -20 "$pg/initdb.log" >&2; return 1
    fi
    local opts="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg/sock -c max_connections=40 -c shared_buffers=64MB"
    [ "$fast" -eq 0 ] || opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    local port try
    for try in 1 2 3 4 5; do
        port=$(free_port) || { echo "pg_env: no free port" >&2; return 1; }
        if as_user "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
                -o "-p $port $opts" start >"$pg/pg_ctl.log" 2>&1 </dev/null; then
            echo "$port" >"$pg/port"
            if [ -n "$watch" ]; then
                # stops the cluster when the caller (e.g. a test process) is gone
                PM_W_PID=$watch PM_W_DATA="$pg/data" PM_W_CTL="$bin/pg_ctl" PM_W_USER="$u" \
                setsid bash -c 'while kill -0 "$PM_W_PID" 2>/dev/null && [ -e "$PM_W_DATA/postmaster.pid" ]; do sleep 1; done
                    if [ -e "$PM_W_DATA/postmaster.pid" ]; then
                        if [ -n "$PM_W_USER" ]; then runuser -u "$PM_W_USER" -- "$PM_W_CTL" -D "$PM_W_DATA" -m immediate -w stop
                        else "$PM_W_CTL" -D "$PM_W_DATA" -m immediate -w stop; fi
                    fi' >/dev/null 2>&1 </dev/null &
            fi
            echo "postgresql://pm@127.0.0.1:$port/postgres"
            return 0
        fi
        # port taken between the probe and the start: try another
        if ! grep -q "could not bind\|Address already in use" "$pg/server.log" 2>/dev/null; then break; fi
    done
    echo "pg_env: the server did not start:" >&2
    tail -20 "$pg/server.log" "$pg/pg_ctl.log" >&2 2>/dev/null || true
    return 1
}

cmd_stop() {
    local dir=$1
    local bin; bin=$(pg_bindir) || return 2
    [ -e "$dir/pg/data/postmaster.pid" ] || return 0
    as_user "$bin/pg_ctl" -D "$dir/pg/data" -m fast -w -t 60 stop >/dev/null 2>&1 </dev/null
}

case "${1:-}" in
    start) shift; [ $# -ge 1 ] || { echo "usage: pg_env.sh start DIR [--fast] [--watch PID]" >&2; exit 1; }
           cmd_start "$@" ;;
    stop) shift; [ $# -eq 1 ] || { echo "usage: pg_env.sh stop DIR" >&2; exit 1; }
          cmd_stop "$1" ;;
    run) shift
         fast=()
         if [ "${1:-}" = --fast ]; then fast=(--fast); shift; fi
         [ $# -ge 1 ] || { echo "usage: pg_env.sh run [--fast] CMD ARGS..." >&2; exit 1; }
         tmp=$(mktemp -d "${TMPDIR:-/tmp}/pm-pg.XXXXXX")
         trap 'cmd_stop "$tmp" || true; rm -rf "$tmp"' EXIT
         PERIMETER_PG_URI=$(cmd_start "$tmp" "${fast[@]}") || exit $?
         export PERIMETER_PG_URI
         set +e; "$@"; status=$?; set -e
         exit $status ;;
    *) echo "usage: pg_env.sh start DIR [--fast] [--watch PID] | stop DIR | run [--fast] CMD..." >&2
       exit 1 ;;
esac
