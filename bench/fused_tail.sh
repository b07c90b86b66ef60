#!/usr/bin/env bash
# The fused ten-print score's impostor tail over several seeds (issue 13,
# docs/gallery.md "Fused score calibration"), in one re-runnable command:
#   bench/fused_tail.sh BUILD_DIR OUT_DIR [PNG]
# 1. Generates the partner galleries of synthetic cohorts (`perimeter synth
#    cohort --known N`: N subjects, ten fingers each) for the fit seeds
#    FIT_SEEDS and the held-out seeds TEST_SEEDS ("seed:subjects" each).
#    When synth cohort stops on an applicant, the partner templates it wrote
#    are enrolled from its enroll.csv (`perimeter enroll --list`): the
#    partner gallery is what is measured, the applicants are not used. (The
#    session-7 figures' seed 7104 stopped at 88 of 100 subjects on a view of
#    2 usable minutiae; since then synth cohort leaves that finger out and
#    goes on, so a re-run fits 100 subjects of 7104.)
# 2. bench_vet_calib with the fit seeds pooled: default, pooled exponential
#    and pooled GPD models, and (3+ fit seeds) the between-cohort fits, also
#    leaving one fit cohort out, against every seed (counts at calibrated
#    20/30/40/50 with exact 95% Poisson intervals), -> OUT/tail.log.
# 3. The tail curves (-10 log10 of the share of impostor comparisons at or
#    above each raw fused score; models and pooled sets) -> OUT/tail.csv and
#    PNG (default OUT/fused_tail.png) through `perimeter plot lines`.
# A cohort already generated in OUT is reused. Prints the load average.
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 BUILD_DIR OUT_DIR [PNG]" >&2
    exit 2
fi
build="$1"
out="$2"
png="${3:-$2/fused_tail.png}"
bin="$build/perimeter"
calib="$build/bench/bench_vet_calib"
# session 12 (the built-in default's fit, docs/gallery.md "Between cohorts");
# sessions 7-10 used FIT_SEEDS="7101:120 7104:100 7105:100" TEST_SEEDS="7102:80 7103:32 7106:60"
fit_seeds=${FIT_SEEDS:-"7101:60 7102:60 7103:60 7104:60 7105:60 7106:60 7107:60 7108:60"}
test_seeds=${TEST_SEEDS:-"7131:60 7132:60 7133:60"}
threads=${THREADS:-2}
[ -x "$bin" ] || { echo "$0: no $bin (build first)" >&2; exit 1; }
[ -x "$calib" ] || { echo "$0: no $calib (build first)" >&2; exit 1; }
mkdir -p "$out"
load() { cut -d' ' -f1-3 /proc/loadavg; }

# generates cohort seed:n if needed; prints its partner snapshot path
cohort() {
    local seed="${1%%:*}" n="${1##*:}" dir="$out/c${1%%:*}"
    if [ ! -s "$dir/partner/gallery.snap" ]; then
        echo "cohort $seed: $n subjects (load $(load))" >&2
        rm -rf "$dir"
        if ! "$bin" synth cohort --out "$dir" --applicants "$n" --known "$n" --bad 0 \
            --distractors 0 --seed "$seed" --threads "$threads" > "$out/gen$seed.log" 2>&1; then
            echo "cohort $seed: synth cohort stopped ($(tail -1 "$out/gen$seed.log")); enrolling the partner templates it wrote" >&2
            (cd "$dir/partner" && "$bin" enroll --db ../partner.db --snapshot gallery.snap \
                --list enroll.csv > ../enroll.log 2>&1) || { cat "$dir/enroll.log" >&2; return 1; }
        fi
    fi
    echo "$dir/partner/gallery.snap"
}

fits=""
for s in $fit_seeds; do
    p=$(cohort "$s")
    fits="${fits:+$fits,}$p"
done
tests=()
for s in $test_seeds; do
    tests+=("$(cohort "$s")")
done
echo "bench_vet_calib: fit $fits; held out ${tests[*]} (load $(load))"
"$calib" "$fits" "${tests[@]}" --curve-out "$out/tail.csv" > "$out/tail.log"
echo "load average after: $(load)" >> "$out/tail.log"
grep -v "^  impostor " "$out/tail.log"
cols=fit_seeds,held_out,default,pooled_exp,pooled_gpd
head -1 "$out/tail.csv" | grep -q cohorts_gpd && cols=$cols,cohorts_gpd
"$bin" plot lines --x raw --y "$cols" \
    --title "fused ten-print impostor tail" --xlabel "raw fused score" \
    --ylabel "-10 log10 share at or above" -o "$png" "$out/tail.csv"
echo "plot: $png"
