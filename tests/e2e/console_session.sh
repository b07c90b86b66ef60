#!/usr/bin/env bash
# The web console's browser sessions on the node (docs/console.md), with curl
# playing the browser: login sets an HttpOnly Secure SameSite=Strict cookie;
# the session route gives the CSRF token; a state-changing request with the
# cookie is refused without that token, with a wrong one, from a foreign
# Origin or a cross-site Sec-Fetch-Site; the console roles are admitted only
# where granted (an auditor may not decide a review, an analyst reads
# history); a cookie never authenticates a partner route; logout ends the
# session; console requests are in the disclosure log as officer_action
# entries with the officer's name; static files carry the CSP and friends.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

make_pair
for r in auditor:auditor analyst:analyst adj:adjudicator boss:administrator; do
    PERIMETER_PASSWORD=correct-horse "$bin" officer add --config pair/CAN/node.json \
        --role "${r#*:}" "${r%%:*}" >add.out || fail "officer add ${r}: $(cat add.out)"
done
assert_contains add.out "(admin)"
rc=0
PERIMETER_PASSWORD=correct-horse "$bin" officer add --config pair/CAN/node.json --role janitor x \
    >bad.out 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unknown role: exit $rc"
start_node CAN
u=$(url CAN)
host=127.0.0.1:$port_can
c() { curl -sS --cacert pair/CAN/ca/ca.pem "$@"; }

# login: the cookie's attributes, no token in the body
code=$(c -o login.json -D login.h -w '%{http_code}' -c jar_aud -H 'Content-Type: application/json' \
    -H "Origin: https://$host" --data '{"username":"auditor","password":"correct-horse"}' \
    "$u/console/api/login")
[ "$code" = 200 ] || fail "login: $code $(cat login.json)"
grep -i '^set-cookie: pm_session=' login.h >cookie.h || fail "no cookie: $(cat login.h)"
for a in HttpOnly Secure SameSite=Strict 'Path=/' Max-Age=; do
    assert_contains cookie.h "$a"
done
assert_not_contains login.json token
[ "$(jq -r .role login.json)" = auditor ] || fail "role: $(cat login.json)"
# a login posted from another site is refused
code=$(c -o x.json -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'Origin: https://evil.example' --data '{"username":"auditor","password":"correct-horse"}' \
    "$u/console/api/login")
[ "$code" = 403 ] || fail "foreign-origin login: $code"

# the session: who, role, CSRF token, views
code=$(c -o s.json -w '%{http_code}' -b jar_aud "$u/console/api/session")
[ "$code" = 200 ] || fail "session: $code $(cat s.json)"
csrf=$(jq -r .csrf s.json)
[ ${#csrf} = 64 ] || fail "csrf token: $(cat s.json)"
jq -e '.views | index("audit")' s.json >/dev/null || fail "auditor views: $(cat s.json)"
# logged out (no cookie): refused
code=$(c -o x.json -w '%{http_code}' "$u/console/api/session")
[ "$code" = 401 ] || fail "no cookie: $code"

# the auditor may read the review queue, not decide it (wrong role), whatever the CSRF token
code=$(c -o x.json -w '%{http_code}' -b jar_aud "$u/v1/reviews")
[ "$code" = 200 ] || fail "auditor reviews: $code $(cat x.json)"
code=$(c -o x.json -w '%{http_code}' -b jar_aud -H "X-CSRF-Token: $csrf" -H "Origin: https://$host" \
    -H 'Content-Type: application/json' --data '{"decision":"confirm","why":"x"}' \
    "$u/v1/reviews/1/decision")
[ "$code" = 403 ] && assert_contains x.json role_insufficient

# the analyst: history yes, subject access no
c -o la.json -c jar_ana -H 'Content-Type: application/json' -H "Origin: https://$host" \
    --data '{"username":"analyst","password":"correct-horse"}' "$u/console/api/login" >/dev/null
code=$(c -o x.json -w '%{http_code}' -b jar_ana "$u/v1/history?document=AB123456")
[ "$code" != 401 ] && [ "$code" != 403 ] || fail "analyst history: $code $(cat x.json)"
code=$(c -o x.json -w '%{http_code}' -b jar_ana "$u/v1/subject-access?document=AB123456")
[ "$code" = 403 ] || fail "analyst subject access: $code"

# CSRF: the adjudicator's decision with the cookie needs the token and our origin
c -o la.json -c jar_adj -H 'Content-Type: application/json' -H "Origin: https://$host" \
    --data '{"username":"adj","password":"correct-horse"}' "$u/console/api/login" >/dev/null
c -o s2.json -b jar_adj "$u/console/api/session" >/dev/null
csrf2=$(jq -r .csrf s2.json)
post() { c -o x.json -w '%{http_code}' -b jar_adj -H 'Content-Type: application/json' \
    --data '{"decision":"confirm","why":"same person"}' "$@" "$u/v1/reviews/999/decision"; }
code=$(post -H "Origin: https://$host")
[ "$code" = 403 ] && assert_contains x.json csrf_failed
code=$(post -H "Origin: https://$host" -H "X-CSRF-Token: $csrf")  # another session's token
[ "$code" = 403 ] && assert_contains x.json csrf_failed
code=$(post -H 'Origin: https://evil.example' -H "X-CSRF-Token: $csrf2")
[ "$code" = 403 ] && assert_contains x.json cross_site
code=$(post -H 'Sec-Fetch-Site: cross-site' -H "X-CSRF-Token: $csrf2")
[ "$code" = 403 ] && assert_contains x.json cross_site
code=$(post -H "Origin: https://$host" -H 'Sec-Fetch-Site: same-origin' -H "X-CSRF-Token: $csrf2")
[ "$code" = 404 ] || fail "token + origin: past the checks to the handler (no review 999): $code $(cat x.json)"

# a cookie never reaches a partner route: it is mutual TLS only
code=$(c -o x.json -w '%{http_code}' -b jar_adj -H "$agr" "$u/v1/partner/hello")
[ "$code" = 401 ] && assert_contains x.json client_certificate_required
# bearer tokens work as before (CLI), without CSRF
tok=$(officer_token CAN)
code=$(c -o x.json -w '%{http_code}' -H "Authorization: Bearer $tok" "$u/v1/crossings/stats")
[ "$code" = 200 ] || fail "bearer: $code"

# logout ends the session and clears the cookie
code=$(c -o x.json -D lo.h -w '%{http_code}' -b jar_adj -H "Origin: https://$host" \
    -H "X-CSRF-Token: $csrf2" -X POST "$u/console/api/logout")
[ "$code" = 200 ] || fail "logout: $code $(cat x.json)"
assert_contains lo.h "Max-Age=0"
code=$(c -o x.json -w '%{http_code}' -b jar_adj "$u/console/api/session")
[ "$code" = 401 ] || fail "after logout: $code"

# static files: CSP without inline script, nosniff, no framing, revalidated
code=$(c -o index.html -D idx.h -w '%{http_code}' "$u/console/")
[ "$code" = 200 ] || fail "console: $code"
assert_contains idx.h "Content-Security-Policy: default-src 'self'; script-src 'self'"
assert_contains idx.h "frame-ancestors 'none'"
assert_not_contains idx.h "unsafe-inline"
assert_contains idx.h "X-Content-Type-Options: nosniff"
assert_contains idx.h "Referrer-Policy: no-referrer"
assert_contains idx.h "Cache-Control: no-cache"
assert_contains index.html '<script type="module" src="/console/app.js">'
etag=$(sed -n 's/^ETag: *\(.*\)\r$/\1/Ip' idx.h)
[ -n "$etag" ] || fail "no ETag"
code=$(c -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$u/console/")
[ "$code" = 304 ] || fail "revalidation: $code"
code=$(c -o x.json -w '%{http_code}' "$u/console/nope.js")
[ "$code" = 404 ] || fail "unknown asset: $code"

# every console request is in the log with the officer's name
stop_node CAN
"$bin" audit report pair/CAN/audit.log >/dev/null || fail "log does not verify"
grep '"kind":"officer_action"' pair/CAN/audit.log >actions.txt || fail "no officer actions logged"
assert_contains actions.txt 'officer:auditor'
assert_contains actions.txt 'GET /v1/reviews -> 200'
assert_contains actions.txt 'officer:adj'
assert_contains actions.txt 'POST /console/api/logout'
echo "console sessions: ok"
