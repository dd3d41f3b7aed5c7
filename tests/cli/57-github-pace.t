#!/usr/bin/env bash
# 57-github-pace.t: uploads are writes, so GITHUB_PACE_MS spaces their
# starts (GitHub asks for >= 1 s between mutating requests) while up to
# GITHUB_UPLOAD_CONCURRENCY are in flight. Checks lower bounds only: a
# sleep can make the gap longer, never shorter.
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/5-github.bash"

gh_start
P=$T/p
gh_project "$P" '""'
N=$(gh_expected "$P" | wc -l)

vg github-create-release TAG=$TAG
is "$rc" 0 "a draft to upload to"
vg github-upload-assets TAG=$TAG GITHUB_PACE_MS=150
is "$rc" 0 "the paced upload succeeds"
is "$(q "len([e for e in L if e['server'] == 'uploads' and e['method'] == 'POST'])")" \
  "$N" "every asset was sent once"
gap=$(q "(lambda t: min(b - a for a, b in zip(t, t[1:])))(sorted(e['t'] for e in L if e['server'] == 'uploads' and e['method'] == 'POST'))")
ok "$(python3 -c "import sys; sys.exit(0 if $gap >= 0.14 else 1)"; echo $?)" \
  "upload starts are at least GITHUB_PACE_MS apart (smallest gap ${gap}s)"
done_testing
