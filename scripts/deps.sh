#!/usr/bin/env bash
# Installs the Debian 12 packages Perimeter needs, only those missing.
# Run as root (or with sudo available). Safe to run repeatedly.
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build pkg-config clang
  libsqlite3-dev sqlite3 libjansson-dev libcmocka-dev
  libpng-dev libtiff-dev libjpeg62-turbo-dev libopenjp2-7-dev
  libsodium-dev libmicrohttpd-dev libgnutls28-dev libutf8proc-dev
  python3 jq libclang-rt-14-dev
  libcurl4-gnutls-dev curl
  libpq-dev postgresql
  libnats-dev nats-server
  libicu-dev
  chromium
)
# The console's browser tests (tests/browser) run on node with npm's
# playwright-core; a node from elsewhere is kept.
command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
browser_deps() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
  if [ ! -d "$dir/node_modules/playwright-core" ]; then
    echo "deps: npm ci in tests/browser (playwright-core)" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
if [ ${#missing[@]} -eq 0 ]; then
  browser_deps
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
browser_deps
