#!/usr/bin/env bash
# Runs CTest in a build folder, then prints how many tests were skipped and why.
# With PERIMETER_REQUIRE_DATA=1 (or CI=true) a skipped test is a failure: CI has
# the shared data, so a skip there means a check silently did not run.
# usage: scripts/ctest.sh BUILD_DIR JOBS [extra ctest args...]
set -uo pipefail
build=$1; jobs=$2; shift 2
log="$build/ctest-last.log"
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# ctest lists each skipped test twice (progress line and summary); count the summary.
summary=$(sed -n '/The following tests did not run:/,/^$/p' "$log" | grep -c '(Skipped)' || true)
echo "== tests skipped: ${summary}"
if [ "$summary" -gt 0 ]; then
    sed -n '/The following tests did not run:/,/^$/p' "$log"
    if [ "${PERIMETER_REQUIRE_DATA:-}" = 1 ] || [ "${CI:-}" = true ]; then
        echo "== FAIL: ${summary} test(s) skipped while PERIMETER_REQUIRE_DATA/CI is set" >&2
        [ "$rc" -ne 0 ] || rc=1
    fi
fi
exit "$rc"
