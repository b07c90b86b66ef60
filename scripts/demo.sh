#!/usr/bin/env bash
# make demo: two partner nodes on loopback doing real work on generated data.
# (Filled in by the foundation work: generate a week of crossings for two
# countries, import each side's entries, exchange the feeds, print what each knows.)
set -euo pipefail
bin=${1:-build/perimeter}
"$bin" --version
"$bin" --help
