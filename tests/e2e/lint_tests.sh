#!/usr/bin/env bash
# The test suite's own rules, checked so the mistakes that once let tests pass
# without testing anything cannot come back (issue 19):
#  - no `cmd | grep -q X` in e2e scripts (SIGPIPE under pipefail: a check that
#    never fires, or fires falsely); capture the output to a file, then grep it;
#  - no `exit 77` outside lib.sh: a skip goes through require_data, which fails
#    under CI, and a crash is never a skip;
#  - every cmocka suite returns PM_RUN_TESTS (skips reach CTest as Skipped) and
#    calls skip() only through PM_REQUIRE_DATA;
#  - every fuzz target has a seed corpus;
#  - the library never reads the environment: no getenv under src/ outside
#    src/cli/ (issue 11: environment belongs to the CLI).
set -euo pipefail
src=${PERIMETER_SRC:?PERIMETER_SRC not set}
source "$src/tests/e2e/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
problems=0
report() { echo "lint: $*" >&2; problems=$((problems + 1)); }

for f in "$src"/tests/e2e/*.sh; do
    case "$(basename "$f")" in lib.sh|lint_tests.sh) continue ;; esac
    grep -nE '\|[[:space:]]*grep[[:space:]]+(-[a-zA-Z]*q|--quiet)' "$f" | grep -vE '^[0-9]+:[[:space:]]*#' >"$tmp/hits" || true
    [ -s "$tmp/hits" ] && report "$(basename "$f"): pipes into grep -q: $(head -1 "$tmp/hits")"
    grep -nE 'exit[[:space:]]+77' "$f" | grep -vE '^[0-9]+:[[:space:]]*#' >"$tmp/hits" || true
    [ -s "$tmp/hits" ] && report "$(basename "$f"): skips with exit 77 instead of require_data: $(head -1 "$tmp/hits")"
done
for f in "$src"/tests/test_*.c; do
    grep -q 'PM_RUN_TESTS(' "$f" || report "$(basename "$f"): main does not return PM_RUN_TESTS(...)"
    grep -nE '^[^/]*[^_a-z]skip\(\)' "$f" >"$tmp/hits" || true
    [ -s "$tmp/hits" ] && report "$(basename "$f"): calls skip() directly: $(head -1 "$tmp/hits")"
done
for f in "$src"/fuzz/fuzz_*.c; do
    name=$(basename "$f" .c); name=${name#fuzz_}
    n=$(find "$src/fuzz/corpus/$name" -type f 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] || report "fuzz target $name has no seeds in fuzz/corpus/$name"
done
grep -rnE '(^|[^_a-zA-Z0-9])(secure_)?getenv[[:space:]]*\(' "$src/src" --include='*.c' --include='*.h' |
    grep -v "^$src/src/cli/" >"$tmp/hits" || true
[ -s "$tmp/hits" ] && report "the library reads the environment (only src/cli/ may call getenv): $(head -1 "$tmp/hits")"
[ "$problems" -eq 0 ] || fail "$problems problem(s) in the test suite's own rules"
echo "lint_tests: ok"
