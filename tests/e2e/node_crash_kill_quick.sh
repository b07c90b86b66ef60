#!/usr/bin/env bash
# Quick variant of node_crash_kill.sh for every test run: 4 SIGKILLs instead
# of 50 (same harness, same checks).
set -euo pipefail
PM_CRASH_KILLS=4 PM_CRASH_ROWS=2000 PM_CRASH_FINGERS=2 PM_CRASH_REVIEWS=30 exec bash "$(dirname "$0")/node_crash_kill.sh"
