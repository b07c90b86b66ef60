#!/usr/bin/env bash
# The gallery's figures on a quiet machine, in one command (issue 9):
#   bench/gallery_quiet.sh BUILD_DIR CACHE_DIR
# 1. the identification calibration, fitted on seed 1 (non-mated searches at
#    10k and 100k fingers) into CACHE_DIR/cal.txt, skipped when that file is
#    already there (delete it after changing the first stage or the matcher);
# 2. seed 2 at 100k fingers: per-core rates (exact, fast, effective), 300
#    single-finger probes (100 mated; FNIR at FPIR 1% / 0.1% with the first
#    stage on, and off = the mate's exact score), measured FPIR;
# 3. seed 2 at 1M fingers: per-core rates, 60 single-finger probes
#    (p50/p95/p99 latency over 60 searches, 2 worker threads), 1 ten-print.
# Template-level simulation (pm_gallery_synth_*). The seed-2 galleries are
# cached as snapshots in CACHE_DIR (s2-100k.snap, s2-1m.snap: ~29 MB and
# ~287 MB; built and written by the first run, loaded by later ones, so the
# synthesis is not redone; the snapshot load is what is timed then). Delete
# them after changing the record layout or the record keys. Prints the load
# average beside every figure block.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR CACHE_DIR" >&2
    exit 2
fi
bin="$1/perimeter"
cache="$2"
[ -x "$bin" ] || { echo "$0: no $bin (build first)" >&2; exit 1; }
mkdir -p "$cache"
start=$(date +%s)
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -s "$cache/cal.txt" ]; then
    rm -f "$cache/cal.tmp"
    "$bin" bench gallery --seed 1 --size 10000 --probes 450 --exhaustive 0 --tenprints 0 \
        --dir "$cache" --nonmated-out "$cache/cal.tmp" > "$cache/fit10k.log"
    "$bin" bench gallery --seed 1 --size 100000 --probes 300 --exhaustive 0 --tenprints 0 \
        --dir "$cache" --nonmated-out "$cache/cal.tmp" > "$cache/fit100k.log"
    mv "$cache/cal.tmp" "$cache/cal.txt"
    echo "calibration data (seed 1) written to $cache/cal.txt after $(( $(date +%s) - start )) s"
fi
"$bin" bench gallery --seed 2 --size 100000 --probes 300 --exhaustive 0 --tenprints 0 \
    --dir "$cache" --calibration "$cache/cal.txt" --cache "$cache/s2-100k.snap"
"$bin" bench gallery --seed 2 --size 1000000 --probes 60 --exhaustive 0 --tenprints 1 --threads 2 \
    --dir "$cache" --calibration "$cache/cal.txt" --cache "$cache/s2-1m.snap"
echo "gallery_quiet: $(( $(date +%s) - start )) s wall; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
