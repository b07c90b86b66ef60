#!/usr/bin/env bash
# Runs every libFuzzer target for a fixed time on a copy of its seed corpus.
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [BUILD_DIR]     (default 30 s, build-fuzz)
# Fails when: no target was built, a fuzz/fuzz_<name>.c has no binary, a target
# has no seed corpus (fuzz/corpus/<name>/ with at least one file), or a target
# finds a crash, leak, timeout or out-of-memory (the reproducer is kept under
# BUILD_DIR/fuzz-findings/<name>/ and named in the output). Prints executions
# and corpus growth per target.
set -uo pipefail
secs=${1:-30}
build=${2:-build-fuzz}
cd "$(dirname "$0")/.."
findings="$build/fuzz-findings"
rm -rf "$findings"; mkdir -p "$findings"
fail=0; ran=0
printf '%-16s %10s %8s %8s  %s\n' target execs seeds corpus result
for src in fuzz/fuzz_*.c; do
    name=$(basename "$src" .c); name=${name#fuzz_}
    bin="$build/fuzz/fuzz_$name"
    seeds="fuzz/corpus/$name"
    if [ ! -x "$bin" ]; then echo "FAIL: $name: no binary $bin (make fuzz)"; fail=1; continue; fi
    nseeds=$(find "$seeds" -type f 2>/dev/null | wc -l)
    if [ "$nseeds" -eq 0 ]; then echo "FAIL: $name: no seed corpus in $seeds"; fail=1; continue; fi
    work="$build/fuzz-work/$name"; rm -rf "$work"; mkdir -p "$work" "$findings/$name"
    cp "$seeds"/* "$work"/
    log="$findings/$name.log"
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$findings/$name/" "$work" >"$log" 2>&1
    rc=$?
    execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')
    ncorp=$(find "$work" -type f | wc -l)
    # libFuzzer also writes slow-unit-* for a unit that took longer than 10 s
    # without reaching -timeout: on a shared machine that is a stall of the
    # machine as often as of the code (one such unit re-ran in 27 ms), so it
    # is named, kept and re-timed alone (its second run, after set-up), not counted as a finding; a real hang
    # is a timeout-* (rc != 0) and fails, and so does a slow unit that is still
    # slow (>= 1 s) when re-run alone.
    nfind=$(find "$findings/$name" -type f ! -name 'slow-unit-*' | wc -l) nslow=0
    for slow in "$findings/$name"/slow-unit-*; do
        [ -e "$slow" ] || continue
        again=$("$bin" "$slow" "$slow" 2>&1 | grep -Eo 'in [0-9]+ ms' | grep -Eo '[0-9]+' | tail -1)
        if [ -z "$again" ] || [ "$again" -ge 1000 ]; then
            echo "  slow unit, slow again alone (${again:-?} ms): $slow"
            nslow=$((nslow + 1))
        else
            echo "  slow unit (not a finding: ${again} ms alone): $slow"
        fi
    done
    nfind=$((nfind + nslow))
    if [ "$rc" -ne 0 ] || [ "$nfind" -gt 0 ]; then
        printf '%-16s %10s %8s %8s  %s\n' "$name" "$execs" "$nseeds" "$ncorp" "FINDING (rc $rc)"
        find "$findings/$name" -type f -exec echo "  reproducer: {}" \;
        grep -E 'ERROR|SUMMARY' "$log" | head -5 | sed 's/^/  /'
        fail=1
    else
        printf '%-16s %10s %8s %8s  %s\n' "$name" "$execs" "$nseeds" "$ncorp" ok
    fi
    ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || { echo "FAIL: no fuzz target ran"; fail=1; }
[ "$fail" -eq 0 ] && echo "fuzz: $ran targets, ${secs} s each, no findings"
exit "$fail"
