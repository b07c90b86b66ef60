#!/usr/bin/env bash
# The node's limits against the running server (issue 18): request body,
# probe (image) bytes and image dimensions, finger count, header size, request
# rate per partner and per officer, connections per address, and slow-loris
# (a client dribbling its headers is cut by limits.header_timeout_s although
# it is never idle), and a slow body (headers complete, then the body one
# byte at a time: cut by limits.request_timeout_s). After each abuse the node
# still answers. The console's routes (7b) are under the same body, header
# and per-officer rate limits.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.inc"

make_pair
jq '.limits += {max_json_bytes: 4096, max_probe_bytes: 65536, max_header_bytes: 8192,
                connections_per_ip: 4, header_timeout_s: 2, request_timeout_s: 3, timeout_s: 30,
                partner_rate: 1, partner_burst: 5, officer_rate: 1, officer_burst: 5}
    | .partners[0].push = false' pair/CAN/node.json >c.json && mv c.json pair/CAN/node.json
PERIMETER_PASSWORD=correct-horse "$bin" officer add --config pair/CAN/node.json alice >/dev/null
PERIMETER_PASSWORD=correct-horse "$bin" officer add --config pair/CAN/node.json bob >/dev/null
start_node CAN
base=$(url CAN)
ca=pair/CAN/ca/ca.pem
login() { PERIMETER_PASSWORD=correct-horse "$bin" officer login --config pair/CAN/node.json --user "$1"; }
tok=$(login alice)
healthy() {
    code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert $ca "$base/health" || true)
    [ "$code" = 200 ] || fail "node unhealthy after $1: $code"
}
post() { # NAME PATH FILE [TOKEN]: status in $code, body NAME.out
    code=$(curl -sS -o "$1.out" -w '%{http_code}' --cacert $ca -H "Authorization: Bearer ${4:-$tok}" \
        -H 'Content-Type: application/json' --data-binary "@$3" "$base$2" 2>"$1.err" || true)
}

# 1. body over max_json_bytes: 413 before the body is read
python3 -c 'import json; print(json.dumps({"username": "a" * 5000, "password": "x"}))' >big.json
code=$(curl -sS -o big.out -w '%{http_code}' --cacert $ca -H 'Content-Type: application/json' \
    --data-binary @big.json "$base/v1/auth/login" || true)
[ "$code" = 413 ] && [ "$(jq -r .code big.out)" = body_too_large ] || fail "big JSON body: $code $(cat big.out)"
healthy "a big body"

# 2. probe over max_probe_bytes: 413; 3. an image over the decoder's 4096-pixel bound: 422;
# 4. eleven fingers: 400
python3 - <<'PY'
import base64, json, struct, zlib
def png(w, h):
    raw = b"".join(b"\0" + b"\x80" * w for _ in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
def body(data, n=1):
    return {"fingers": [{"format": "png", "data": base64.b64encode(data).decode()}] * n}
json.dump(body(b"\0" * 70000), open("probe_big.json", "w"))
json.dump(body(png(5000, 2)), open("probe_wide.json", "w"))
json.dump(body(png(8, 8), 11), open("probe_eleven.json", "w"))
PY
post pbig /v1/gallery/identify probe_big.json
[ "$code" = 413 ] || fail "probe over max_probe_bytes: $code $(cat pbig.out)"
sleep 0.3
post pwide /v1/gallery/identify probe_wide.json
[ "$code" = 422 ] && [ "$(jq -r .code pwide.out)" = probe_invalid ] || fail "5000-pixel image: $code $(cat pwide.out)"
assert_contains pwide.out 'large|limit|4096' "the refusal of a 5000-pixel-wide image"
sleep 0.3
post p11 /v1/gallery/identify probe_eleven.json
[ "$code" = 400 ] && [ "$(jq -r .field p11.out)" = fingers ] || fail "eleven fingers: $code $(cat p11.out)"
assert_contains p11.out 'more than 10 items'
healthy "oversized probes"

# 5. headers over max_header_bytes (8 KiB): refused (431), the node goes on
sleep 1.1
big=$(head -c 12000 /dev/zero | tr '\0' a)
code=$(curl -sS -o hdr.out -w '%{http_code}' --cacert $ca -H "X-Padding: $big" "$base/health" 2>hdr.err || true)
[ "$code" = 431 ] || fail "12 KB of headers: HTTP $code $(cat hdr.out hdr.err)"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert $ca -H "X-Padding: ${big:0:4000}" "$base/health" || true)
[ "$code" = 200 ] || fail "4 KB of headers refused: $code"

# 6. rate per partner: a burst of 5, then 429 with Retry-After; a second later it goes again
# (one curl, one kept-alive connection: the 12 requests leave within a few ms)
urls=(); for i in $(seq 1 12); do urls+=(-o /dev/null "$base/v1/partner/hello"); done
curl -sS -D ph_all.txt -w '%{http_code}\n' --cacert $ca --cert pair/USA/node.pem \
    --key pair/USA/node.key -H "$agr" "${urls[@]}" >rates.txt || true
n200=$(grep -c '^200$' rates.txt || true); n429=$(grep -c '^429$' rates.txt || true)
echo "partner: 12 requests at once: $n200 served, $n429 rate-limited"
# burst 5, then one a second: 5 served at once plus one per second the 12 took (slow under ASan)
[ "$n200" -ge 5 ] && [ "$n200" -le 8 ] && [ "$n429" -ge 4 ] || fail "partner rate: $(tr '\n' ' ' <rates.txt)"
assert_contains ph_all.txt '^[Rr]etry-[Aa]fter: 1' "the 429 answers"
sleep 1.2
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert $ca --cert pair/USA/node.pem \
    --key pair/USA/node.key -H "$agr" "$base/v1/partner/hello" || true)
[ "$code" = 200 ] || fail "partner still limited after a second: $code"

# 7. rate per officer: alice is limited, bob is not
sleep 3 # alice spent 3 of her 5 on the probes: let the bucket refill (1 a second)
urls=(); for i in $(seq 1 12); do urls+=(-o /dev/null "$base/v1/feed/status"); done
curl -sS -w '%{http_code}\n' --cacert $ca -H "Authorization: Bearer $tok" \
    "${urls[@]}" >orates.txt || true
n200=$(grep -c '^200$' orates.txt || true); n429=$(grep -c '^429$' orates.txt || true)
echo "officer: 12 requests at once: $n200 served, $n429 rate-limited"
[ "$n200" -ge 5 ] && [ "$n200" -le 8 ] && [ "$n429" -ge 4 ] || fail "officer rate: $(tr '\n' ' ' <orates.txt)"
tokb=$(login bob)
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert $ca -H "Authorization: Bearer $tokb" "$base/v1/feed/status" || true)
[ "$code" = 200 ] || fail "bob limited by alice's rate: $code"

# 7b. the console's routes live under the same limits: a big login body is 413
# before it is read, oversized headers 431, and an officer's console session
# draws on the same per-officer rate as bearer tokens
host=127.0.0.1:$(jq -r .listen.port pair/CAN/node.json)
code=$(curl -sS -o cbig.out -w '%{http_code}' --cacert $ca -H 'Content-Type: application/json' \
    -H "Origin: https://$host" --data-binary @big.json "$base/console/api/login" || true)
[ "$code" = 413 ] && [ "$(jq -r .code cbig.out)" = body_too_large ] || fail "console: big login body: $code $(cat cbig.out)"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert $ca -H "X-Padding: $big" "$base/console/" 2>/dev/null || true)
[ "$code" = 431 ] || fail "console: 12 KB of headers: HTTP $code"
PERIMETER_PASSWORD=correct-horse "$bin" officer add --config pair/CAN/node.json --role vetting_officer carol >/dev/null
code=$(curl -sS -o clog.out -w '%{http_code}' --cacert $ca -c jar_carol -H 'Content-Type: application/json' \
    -H "Origin: https://$host" --data '{"username":"carol","password":"correct-horse"}' \
    "$base/console/api/login" || true)
[ "$code" = 200 ] || fail "console login: $code $(cat clog.out)"
urls=(); for i in $(seq 1 12); do urls+=(-o /dev/null "$base/console/api/cohorts"); done
curl -sS -w '%{http_code}\n' --cacert $ca -b jar_carol "${urls[@]}" >crates.txt || true
n200=$(grep -c '^200$' crates.txt || true); n429=$(grep -c '^429$' crates.txt || true)
echo "console: 12 requests at once: $n200 served, $n429 rate-limited"
[ "$n200" -ge 4 ] && [ "$n200" -le 8 ] && [ "$n429" -ge 4 ] || fail "console rate: $(tr '\n' ' ' <crates.txt)"
healthy "the console's limits"

# 8. connections per address (4) and 9. slow-loris, with raw TLS sockets
port=$(jq -r .listen.port pair/CAN/node.json)
python3 - "$port" "$ca" >sock.txt 2>&1 <<'PY' || fail "sockets: $(cat sock.txt)"
import socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return ctx.wrap_socket(s, server_hostname="127.0.0.1")
def get(s):
    s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return s.recv(4096).split(b"\r\n")[0]
# connections per address: four are held, a fifth gets a clean 503
# too_many_connections with Retry-After and is then closed (not a failed handshake)
held = [conn() for _ in range(4)]
fifth = conn()
fifth.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
fifth.settimeout(5)
resp = b""
while True:
    d = fifth.recv(4096)
    if not d: break
    resp += d
if not resp.startswith(b"HTTP/1.1 503") or b"too_many_connections" not in resp or b"Retry-After: 1" not in resp:
    print("FAIL fifth connection:", resp[:300]); sys.exit(1)
print("fifth connection refused: 503 too_many_connections, closed")
fifth.close()
for s in held: s.close()
time.sleep(0.3)
s = conn(); line = get(s); s.close()
if b"200" not in line: print("FAIL after closing:", line); sys.exit(1)
# slow-loris: one header byte every 0.3 s, never idle for the 30 s idle timeout
s = conn(); t0 = time.time()
s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
cut = None
while time.time() - t0 < 8:
    try:
        s.sendall(b"X")
        s.settimeout(0.3)
        try:
            if s.recv(4096) == b"":
                cut = time.time() - t0; break
        except socket.timeout:
            pass
    except (OSError, ssl.SSLError):
        cut = time.time() - t0; break
if cut is None: print("FAIL slow-loris connection still open after 8 s"); sys.exit(1)
if cut < 1.5: print("FAIL cut too early: %.1f s" % cut); sys.exit(1)
print("slow-loris cut after %.1f s" % cut)
# a slow but honest client that completes its headers within the limit is served
s = conn(); s.sendall(b"GET /health HTTP/1.1\r\n"); time.sleep(1.0)
s.sendall(b"Host: 127.0.0.1\r\n\r\n"); s.settimeout(5); line = s.recv(4096).split(b"\r\n")[0]; s.close()
if b"200" not in line: print("FAIL honest slow client:", line); sys.exit(1)
# slow body: complete headers, then one body byte every 0.3 s (never idle):
# cut by request_timeout_s (3 s) although the headers were in time
body = b'{"username":"nobody","password":"not-the-password"}'
s = conn(); t0 = time.time()
s.sendall(b"POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body))
cut = None
for i in range(len(body) - 1):
    if time.time() - t0 > 9: break
    try:
        s.sendall(body[i:i + 1])
        s.settimeout(0.3)
        try:
            if s.recv(4096) == b"":
                cut = time.time() - t0; break
        except socket.timeout:
            pass
    except (OSError, ssl.SSLError):
        cut = time.time() - t0; break
if cut is None: print("FAIL slow body still open after %.1f s" % (time.time() - t0)); sys.exit(1)
if cut < 2.5: print("FAIL slow body cut too early: %.1f s" % cut); sys.exit(1)
print("slow body cut after %.1f s" % cut)
# a body that arrives within the limit is answered
s = conn(); s.sendall(b"POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body[:10]); time.sleep(1.0)
s.sendall(body[10:]); s.settimeout(10); line = s.recv(4096).split(b"\r\n")[0]; s.close()
if b"401" not in line: print("FAIL honest slow body:", line); sys.exit(1)
print("ok")
PY
cat sock.txt
assert_contains sock.txt '^slow-loris cut after'
assert_contains sock.txt '^slow body cut after'
curl -sS -o m.txt --cacert $ca "$base/metrics"
assert_contains sock.txt '^fifth connection refused: 503'
ref=$(awk '/^perimeter_connections_refused_total/ {print $2}' m.txt)
[ "${ref:-0}" -ge 1 ] || fail "perimeter_connections_refused_total = ${ref:-none}"
cut=$(awk '/^perimeter_connections_cut_total/ {print $2}' m.txt)
[ "${cut:-0}" -ge 1 ] || fail "perimeter_connections_cut_total = ${cut:-none}"
lim=$(awk '/^perimeter_rate_limited_total/ {print $2}' m.txt)
[ "${lim:-0}" -ge 8 ] || fail "perimeter_rate_limited_total = ${lim:-none}"
healthy "the socket abuse"
stop_node CAN
[ "$node_rc" = 0 ] || fail "exit $node_rc"
echo "node_hard_limits: ok"
