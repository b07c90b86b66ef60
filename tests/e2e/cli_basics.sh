#!/usr/bin/env bash
# The binary starts, prints its version and usage, and rejects unknown commands.
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
"$bin" --version | grep -q '^perimeter '
"$bin" --help | grep -q 'commands:'
if "$bin" no-such-command 2>/dev/null; then echo "unknown command accepted"; exit 1; fi
rc=0; "$bin" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || { echo "no-argument exit code $rc, want 2"; exit 1; }
echo "cli_basics: ok"
