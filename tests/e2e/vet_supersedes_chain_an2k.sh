#!/usr/bin/env bash
# vet_supersedes_chain.sh through the ANSI/NIST form (`perimeter vet
# --an2k`): each re-ask's 2.900 names the TCN it supersedes and 2.901 the
# chain's first TCN, so USA charges the quota once and CAN keeps one review
# item under the first id, as with the JSON form.
set -euo pipefail
VET_FORM=an2k exec bash "$(dirname "$0")/vet_supersedes_chain.sh"
