#!/usr/bin/env bash
# docs/openapi.json describes exactly the routes the server has: the same
# (method, path) pairs, and each route's security matches its class (public:
# none, officer: bearerAuth, partner: partnerTLS mutual TLS).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bin=${PERIMETER_BIN:?PERIMETER_BIN not set}
src=${PERIMETER_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
spec=$src/docs/openapi.json
[ "$(jq -r .openapi "$spec")" = 3.1.0 ] || fail "not OpenAPI 3.1"
"$bin" node routes --json >"$tmp/routes.json"
jq -r '.[] | "\(.method) \(.path) \(.auth)"' "$tmp/routes.json" | sort >"$tmp/server.txt"
jq -r '.paths | to_entries[] | .key as $p | .value | to_entries[]
       | "\(.key | ascii_upcase) \($p) \(
           if (.value.security | length) == 0 then "public"
           elif .value.security[0] | has("bearerAuth") then "officer"
           elif .value.security[0] | has("partnerTLS") then "partner"
           else "unknown" end)"' "$spec" | sort >"$tmp/spec.txt"
[ -s "$tmp/server.txt" ] || fail "the server lists no routes"
if ! diff -u "$tmp/spec.txt" "$tmp/server.txt" >"$tmp/diff.txt"; then
    cat "$tmp/diff.txt"
    fail "docs/openapi.json and the server's route table differ (- spec, + server)"
fi
# every $ref resolves
jq -r '.. | objects | select(has("$ref")) | ."$ref"' "$spec" | sort -u >"$tmp/refs.txt"
while read -r ref; do
    path=$(echo "${ref#\#/}" | jq -R 'split("/")')
    jq -e --argjson p "$path" 'getpath($p) != null' "$spec" >/dev/null || fail "dangling \$ref $ref"
done <"$tmp/refs.txt"
echo "openapi: $(wc -l <"$tmp/server.txt") routes match"
