#!/usr/bin/env bash
# vet_supersedes.sh through the ANSI/NIST form (`perimeter vet --an2k`):
# the resumed run's re-ask is a search request whose 2.900 names the lost
# TCN, so USA logs the same supersede entry (its R13 charge taken back) and
# CAN keeps the one review item under the lost id, as with the JSON form.
set -euo pipefail
VET_FORM=an2k exec bash "$(dirname "$0")/vet_supersedes.sh"
