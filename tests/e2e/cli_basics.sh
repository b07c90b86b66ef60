#!/usr/bin/env bash
# The binary starts, prints its version and usage, and rejects unknown commands.
set -euo pipefail
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --version >"$tmp/out.txt"
grep -q '^perimeter ' "$tmp/out.txt"
"$bin" --help >"$tmp/out.txt"
grep -q 'commands:' "$tmp/out.txt"
if "$bin" no-such-command 2>/dev/null; then echo "unknown command accepted"; exit 1; fi
rc=0; "$bin" 2>/dev/null || rc=$?
[ "$rc" = 2 ] || { echo "no-argument exit code $rc, want 2"; exit 1; }
echo "cli_basics: ok"
