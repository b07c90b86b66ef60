#!/bin/sh
# Instruction counts (valgrind callgrind) of the 1:1 comparison: runs
# `perimeter bench match DIR --rounds 1` under callgrind collecting only inside
# pm_match_compare (extraction and preparation are not counted) and prints the
# total, the instructions per comparison and the top functions (self cost).
# Instruction counts do not depend on the machine's load, so two binaries can
# be compared on a busy machine; they do not see cache misses or branch
# mispredictions, so a time measurement must go beside them.
# usage: bench/match_callgrind.sh PERIMETER_BINARY DIR [OUT.callgrind]
set -eu
bin=${1:?usage: match_callgrind.sh PERIMETER_BINARY DIR [OUT]}
dir=${2:?usage: match_callgrind.sh PERIMETER_BINARY DIR [OUT]}
out=${3:-$(mktemp /tmp/match_callgrind.XXXXXX)}
log=$out.log
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=pm_match_compare \
    "$bin" bench match "$dir" --rounds 1 >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
# bench match --rounds 1 times every ordered pair twice (shipped options, rigid)
pairs=$(sed -n 's/.* over 1 rounds of \([0-9]*\) .*/\1/p' "$log")
total=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$log")
[ -n "$pairs" ] && [ -n "$total" ] || { echo "match_callgrind: unexpected output in $log" >&2; exit 1; }
echo "callgrind $bin on $dir: $total instructions in pm_match_compare over $((2 * pairs)) comparisons"
echo "  per comparison: $((total / (2 * pairs)))"
callgrind_annotate "$out" 2>/dev/null | grep -E '^ *[0-9,]+ \( *[0-9.]+%\) ' | grep -v 'PROGRAM TOTALS' | head -12
echo "  (profile: $out)"
