# Sourced by the end-to-end tests (not a test itself: CTest registers tests/e2e/*.sh
# except lib.sh). Conventions every e2e test follows:
#  - a missing shared data set skips (exit 77) on a developer's machine and FAILS
#    when PERIMETER_REQUIRE_DATA=1 or CI=true (.ci/run sets it);
#  - a command that crashes or fails is a failure, never a skip;
#  - never `cmd | grep -q X`: under pipefail grep exits early, cmd dies of SIGPIPE
#    and the pipeline's status lies. Capture output to a file, then test the file.

pm_data_required() {
    [ "${PERIMETER_REQUIRE_DATA:-}" = 1 ] || [ "${CI:-}" = true ]
}

# require_data PATH...: every PATH must exist, else skip (or fail under CI).
require_data() {
    local p
    for p in "$@"; do
        if [ ! -e "$p" ]; then
            if pm_data_required; then
                echo "FAIL: shared data '$p' not found and PERIMETER_REQUIRE_DATA is set" >&2
                exit 1
            fi
            echo "SKIP: shared data '$p' not found (set PERIMETER_DATA)"
            exit 77
        fi
    done
}

# fail MESSAGE: print and exit 1.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# assert_contains FILE REGEX [WHAT] / assert_not_contains FILE REGEX [WHAT]
assert_contains() {
    grep -Eq -- "$2" "$1" || fail "${3:-$1} does not contain /$2/"
}
assert_not_contains() {
    if grep -Eq -- "$2" "$1"; then fail "${3:-$1} contains /$2/"; fi
}
