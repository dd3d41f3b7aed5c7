#!/usr/bin/env bash
# run.sh: what `make bench` runs: every bench/*.sh except this one.
# SPDX-License-Identifier: MIT
set -u
cd "$(dirname "$0")"
: "${VRUN:?set VRUN to the vrun binary (make bench does)}"
export VRUN
rc=0
for b in *.sh; do
  [ "$b" = run.sh ] && continue
  printf '\n==== bench/%s\n' "$b"
  bash "./$b" || { echo "bench/$b failed"; rc=1; }
done
exit $rc
