#!/usr/bin/env bash
# Global options (--db, --config, --json) are accepted before the command words
# as well as after them: `perimeter --db X crossings import F`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

"$bin" bench ingest --rows 300 --seed 5 --country CAN --write-csv can.csv >/dev/null

# Before the two command words: the import goes to a.db, not ./perimeter.db.
"$bin" --db a.db crossings import can.csv 2>log || fail "--db before: rc $? $(cat log)"
assert_contains log '300 rows, 300 stored' "import with --db before the command"
[ -s a.db ] || fail "a.db not written"
[ -e perimeter.db ] && fail "--db before the command was ignored (perimeter.db written)"
# --db=FILE form, and after the command as before: the same database.
"$bin" --db=a.db crossings import can.csv 2>log || fail "--db= before: rc $?"
assert_contains log '300 rows, 0 stored, 300 already present' "--db= before the command"
"$bin" crossings import --db a.db can.csv 2>log || fail "--db after: rc $?"
assert_contains log '0 stored, 300 already present' "--db after the command"

# --json and --db both before a one-word command, and mixed before/after.
"$bin" --json --db a.db crossings stats >before.json 2>log || fail "stats before: rc $? $(cat log)"
"$bin" crossings stats --db a.db --json >after.json 2>log || fail "stats after: rc $?"
"$bin" --db a.db crossings stats --json >mixed.json 2>log || fail "stats mixed: rc $?"
assert_contains before.json '^\{' "stats with --json before the command"
assert_contains before.json '300' "stats with --json before the command"
cmp -s before.json after.json || fail "--json/--db before and after differ: $(cat before.json) vs $(cat after.json)"
cmp -s before.json mixed.json || fail "mixed placement differs"

# A command with its own positional word (report KIND) keeps it: the globals
# go to the end of its arguments, not between the command and KIND.
"$bin" link --db a.db >/dev/null 2>log || fail "link: rc $? $(cat log)"
"$bin" --db a.db --json report reconcile --all >rb.json 2>log || fail "report, globals before: rc $? $(cat log)"
"$bin" report reconcile --all --db a.db --json >ra.json 2>log || fail "report, globals after: rc $?"
assert_contains rb.json '"exits"' "report reconcile with globals before"
cmp -s rb.json ra.json || fail "report: globals before and after differ"
# an argument after `--` stays after it; the globals go before it
"$bin" --db a.db crossings import -- can.csv 2>log || fail "import with --: rc $? $(cat log)"
assert_contains log '300 rows, 0 stored, 300 already present' "import with globals before and --"

# A bad command after global options names the command, not the option.
rc=0; "$bin" --db a.db nosuch 2>log || rc=$?
[ "$rc" = 2 ] || fail "unknown command: rc $rc, want 2"
assert_contains log "unknown command 'nosuch'"
assert_not_contains log "unknown command '--db'"
# Global options and no command: a clear error.
rc=0; "$bin" --db a.db 2>log || rc=$?
[ "$rc" = 2 ] || fail "no command: rc $rc, want 2"
assert_contains log "no command"
# --config before a command is moved to its arguments: the command itself answers
# (no command takes --config yet), never "unknown command '--config'".
rc=0; "$bin" --config x.json crossings stats --db a.db >/dev/null 2>log || rc=$?
assert_not_contains log "unknown command"
echo "ok"
