#!/usr/bin/env bash
# The gallery's quiet-machine figures in one command (issue 9):
#   bench/gallery_quiet.sh CACHE_DIR [PERIMETER_BINARY]
# CACHE_DIR (created if missing) keeps the seed-1 identification calibration
# (cal.txt, fitted once from non-mated searches at 10k and 100k) and the
# bench's temporary snapshots. Then, on seed 2 (template-level simulation,
# pm_gallery_synth_*): 100k fingers (records/s per core exact and effective,
# latency, FNIR at FPIR 1% / 0.1% with the first stage on and off) and 1M
# fingers (30 single-finger probes: p50/p95/p99). The load average is printed
# before each run and by the bench itself.
# PM_QUIET_SCALE=D divides every gallery size by D (a smoke
# run of the script; the figures are then not the issue's).
# Note: the bench synthesises its gallery on every run (no cached 1M
# snapshot yet), so the wall time includes building it.
set -euo pipefail
cache=${1:?usage: bench/gallery_quiet.sh CACHE_DIR [PERIMETER_BINARY]}
bin=${2:-build/perimeter}
scale=${PM_QUIET_SCALE:-1}
[ -x "$bin" ] || { echo "gallery_quiet: $bin is not an executable (build first)" >&2; exit 2; }
mkdir -p "$cache"
n() { echo $(( $1 / scale > 10 ? $1 / scale : 10 )); }
p() { echo "$1"; }
loadavg() { echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs): $*"; }
start=$(date +%s)
cal="$cache/cal-s$scale.txt"
if [ ! -s "$cal" ]; then
    loadavg "fitting the calibration on seed 1 (once; cached in $cal)"
    rm -f "$cal.tmp"
    "$bin" bench gallery --seed 1 --size "$(n 10000)" --probes "$(p 450)" --exhaustive 0 \
        --tenprints 0 --dir "$cache" --nonmated-out "$cal.tmp" >/dev/null
    "$bin" bench gallery --seed 1 --size "$(n 100000)" --probes "$(p 300)" --exhaustive 0 \
        --tenprints 0 --dir "$cache" --nonmated-out "$cal.tmp" >/dev/null
    mv "$cal.tmp" "$cal"
fi
loadavg "100k fingers, seed 2"
"$bin" bench gallery --seed 2 --size "$(n 100000)" --probes "$(p 300)" --exhaustive 2 \
    --tenprints 2 --dir "$cache" --calibration "$cal"
loadavg "1M fingers, seed 2, 30 single-finger probes"
"$bin" bench gallery --seed 2 --size "$(n 1000000)" --probes "$(p 30)" --exhaustive 0 \
    --tenprints 1 --dir "$cache" --calibration "$cal"
loadavg "done in $(( $(date +%s) - start )) s wall"
