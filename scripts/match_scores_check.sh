#!/bin/sh
# Checks that two perimeter binaries give bit-identical 1:1 scores: every
# score (17 digits, and the raw score) of the FVC protocol on every DB of DIR
# (`eval fvc --dump-scores`), with the shipped matcher options and with the
# rigid matcher (options off). Exit status 0 when all are identical.
# usage: scripts/match_scores_check.sh OLD_BINARY NEW_BINARY [DIR]
set -eu
old=${1:?usage: match_scores_check.sh OLD NEW [DIR]}
new=${2:?usage: match_scores_check.sh OLD NEW [DIR]}
dir=${3:-${PERIMETER_DATA:-../shared/data}/fvc2002}
tmp=$(mktemp -d /tmp/match_scores.XXXXXX)
status=0
for mode in shipped rigid; do
    opts=""
    [ "$mode" = rigid ] && opts="--local-sigma 0 --quality-weight 0"
    for which in old new; do
        eval bin=\$$which
        # shellcheck disable=SC2086
        "$bin" eval fvc "$dir" $opts --dump-scores "$tmp/$mode.$which.tsv" >"$tmp/$mode.$which.log" 2>&1 ||
            { echo "$which binary failed ($mode), see $tmp/$mode.$which.log" >&2; exit 1; }
    done
    n=$(wc -l <"$tmp/$mode.new.tsv")
    if cmp -s "$tmp/$mode.old.tsv" "$tmp/$mode.new.tsv"; then
        echo "$mode: $n scores identical"
    else
        d=$(diff "$tmp/$mode.old.tsv" "$tmp/$mode.new.tsv" | grep -c '^>' || true)
        echo "$mode: $d of $n score lines differ ($tmp/$mode.*.tsv)"
        status=1
    fi
done
[ $status -ne 0 ] || rm -rf "$tmp"
exit $status
