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
# Server-side arrival times: a busy machine can delay one request's log
# entry and shrink one gap, never the whole span, whose last start cannot
# come before (N-1) * GITHUB_PACE_MS. So check the span, and the median gap.
span=$(q "(lambda t: t[-1] - t[0])(sorted(e['t'] for e in L if e['server'] == 'uploads' and e['method'] == 'POST'))")
med=$(q "(lambda t: sorted(b - a for a, b in zip(t, t[1:]))[len(t) // 2])(sorted(e['t'] for e in L if e['server'] == 'uploads' and e['method'] == 'POST'))")
ok "$(python3 -c "import sys; sys.exit(0 if $span >= ($N - 1) * 0.15 - 0.5 else 1)"; echo $?)" \
  "$N upload starts span at least (N-1) x GITHUB_PACE_MS (${span}s)"
ok "$(python3 -c "import sys; sys.exit(0 if $med >= 0.1 else 1)"; echo $?)" \
  "the median gap between starts is about GITHUB_PACE_MS (${med}s)"
done_testing
