#!/usr/bin/env bash
# Entry/exit answers against the truth on generated data (docs/link.md,
# "Entry/exit answers"): generate, import as CAN (the USA file is the
# partner's), link, then `perimeter eval entry-exit`.
# usage: scripts/entry_exit_eval.sh SEED NOISE [PEOPLE] [DAYS] [WORKDIR]
set -euo pipefail
seed=${1:?seed}; noise=${2:?noise}; people=${3:-20000}; days=${4:-200}
work=${5:-$(mktemp -d)}
bin=${PERIMETER_BIN:-build/perimeter}
mkdir -p "$work"
"$bin" synth crossings --people "$people" --days "$days" --seed "$seed" --noise "$noise" \
    --split "$work/d" --truth "$work/t.csv" --people-out "$work/p.csv" >/dev/null 2>&1
rm -f "$work/c.db"
"$bin" crossings import --db "$work/c.db" "$work/d/CAN.csv" 2>/dev/null
"$bin" crossings import --db "$work/c.db" --from-partner USA "$work/d/USA.csv" 2>/dev/null
"$bin" link --db "$work/c.db" >/dev/null
# the period is 2026-01-05 + days; as of the day after its last day
asof=$(date -u -d "2026-01-05 + $days days" +%F)
"$bin" eval entry-exit --db "$work/c.db" --truth "$work/t.csv" --people "$work/p.csv" \
    --country CAN --as-of "$asof" --stay CAN=0 "${@:6}"
