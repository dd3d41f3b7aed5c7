#!/usr/bin/env bash
# 51-github-resume.t: uploads that fail part-way are finished by running
# the same command again. Each fault the contract describes (a dropped
# connection, 502/500 leaving a "starter" asset, 422 already_exists, a 504
# for an upload that did land), then 5 trials with faults at random points
# (seeded) and a kill -9 mid-upload: every trial ends with the release
# complete and exact, no duplicate, no "starter" left.
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/5-github.bash"

gh_start
P=$T/p
gh_project "$P"
EXPECTED=$(gh_expected "$P" | python3 -c 'import sys; print(sorted(sys.stdin.read().split()))')

# exact: the release for $TAG holds the expected names once each, all
# uploaded with the local sizes.
exact() {
  q "(sorted(a['name'] for r in rels if r['tag_name'] == '$TAG' for a in r['assets']) == $EXPECTED) and all(a['state'] == 'uploaded' and a['size'] == __import__('os').path.getsize('$P/bin/' + a['name']) for r in rels if r['tag_name'] == '$TAG' for a in r['assets']) and sum(1 for r in rels if r['tag_name'] == '$TAG') == 1"
}

fresh() {
  rm -f "$T/release.json"
  for id in $(q "' '.join(str(r['id']) for r in rels)"); do
    python3 -c 'import sys, urllib.request as u
r = u.Request(sys.argv[1] + "/repos/vrun-test/hello/releases/" + sys.argv[2], method="DELETE",
    headers={"Authorization": "Bearer " + sys.argv[3], "User-Agent": "t",
             "X-GitHub-Api-Version": "2022-11-28", "Accept": "application/vnd.github+json"})
u.urlopen(r).read()' "$API" "$id" "$GH_TOKEN_FAKE"
  done
  vg github-create-release TAG=$TAG
}

# -- each fault, once -------------------------------------------------------
for fault in drop_upload upload_502 upload_500 race_422 upload_504_saved; do
  fresh
  ctl "{\"fault\": \"$fault\", \"count\": 3}"
  vg github-upload-assets TAG=$TAG
  is "$rc" 0 "$fault x3: the upload still completes in one run"
  is "$(exact)" True "$fault x3: the release is exact"
done
fresh
ctl '{"fault": "upload_502", "count": 3}'
vg github-upload-assets TAG=$TAG
like "$out" "github: replacing [^ ]+ \(state starter, 0 bytes; local file [0-9]+ bytes\)" \
  "a starter asset left by a 502 is deleted before the re-send"

# -- a secondary rate limit without Retry-After: wait a minute, go on ------
fresh
ctl '{"fault": "ratelimit", "count": 5, "status": 403, "kind": "secondary", "retry_after": -1, "match": "uploads"}'
vg github-upload-assets TAG=$TAG
is "$rc" 0 "secondary rate limit on 5 uploads: the upload completes"
like "$err" "github: GitHub's secondary rate limit stopped 5 uploads; waiting 60 s before sending them again" \
  "and it waits the minute the contract asks for"
is "$(exact)" True "secondary rate limit: the release is exact"

# -- a size mismatch and a half-done asset are replaced ---------------------
fresh
ID=$(q 'rels[0]["id"]')
first=$(gh_expected "$P" | head -1)
second=$(gh_expected "$P" | sed -n 2p)
ctl "{\"plant_asset\": {\"release_id\": $ID, \"name\": \"$first\", \"state\": \"uploaded\", \"size\": 7}}"
ctl "{\"plant_asset\": {\"release_id\": $ID, \"name\": \"$second\", \"state\": \"open\", \"size\": 0}}"
vg github-upload-assets TAG=$TAG
is "$rc" 0 "assets of the wrong size or state: upload succeeds"
like "$out" "; 0 already there, 2 replaced" "and replaces exactly those two"
is "$(exact)" True "the release is exact"

# -- failing past the retry budget, then finishing on the re-run -------------
fresh
ctl '{"fault": "upload_502", "count": 1000}'
vg github-upload-assets TAG=$TAG
is "$rc" 2 "502 on every upload: the run fails"
like "$err" "64 assets could not be uploaded to $GH_REPO after 5 rounds; run the same command again to finish: [^ ]+ \(HTTP 502\), " \
  "and says to run the same command again"
ctl '{"fault": "upload_502", "count": 0}'
vg github-upload-assets TAG=$TAG
is "$rc" 0 "the same command again finishes"
is "$(exact)" True "the release is exact, no duplicate, no starter left"

# -- Ctrl-C mid-upload: vrun stops promptly; the same command finishes -----
# (from here the peer answers each upload 15 ms late, so that a signal
# sent after the 5th upload lands while more are on their way)
ctl '{"upload_delay_ms": 15}'
fresh
base=$(grep -c '"uploads"' "$T/gh.jsonl")
(cd "$P" && exec "$VRUN" github-upload-assets TAG=$TAG GITHUB_UPLOAD_CONCURRENCY=1 \
   >"$T/int.out" 2>&1 </dev/null) &
bg=$!
for i in $(seq 1 200); do
  [ "$(grep -c '"uploads"' "$T/gh.jsonl")" -ge $((base + 5)) ] && break
  sleep 0.02
done
kill -INT "$bg"
for i in $(seq 1 100); do kill -0 "$bg" 2>/dev/null || break; sleep 0.05; done
kill -0 "$bg" 2>/dev/null
ok $((! $?)) "SIGINT mid-upload: vrun exits within 5 s"
wait "$bg"; irc=$?
kill -9 "$bg" 2>/dev/null
cat "$T/int.out" >>"$T/all.out"
isnt_zero=$([ "$irc" -ne 0 ] && echo yes || echo "no ($irc)")
is "$isnt_zero" yes "SIGINT mid-upload: a failure exit status"
like "$(cat "$T/int.out")" "interrupted while uploading [^ ]+ to $GH_REPO; run the same command again to finish" \
  "SIGINT mid-upload: says how to finish" || diag "rc=$irc" "$(cat "$T/int.out")"
vg github-upload-assets TAG=$TAG
is "$rc" 0 "after SIGINT, the same command finishes"
is "$(exact)" True "after SIGINT, the release is exact"

# -- 5 trials: random faults at random points (seeded), plus kill -9 ---------
RANDOM=20261126
for trial in 1 2 3 4 5; do
  fresh
  runs=0
  # a kill -9 somewhere in the first run
  ctl "{\"fault\": \"drop_upload\", \"count\": $((RANDOM % 4))}"
  ctl "{\"fault\": \"upload_502\", \"count\": $((RANDOM % 4))}"
  ctl "{\"fault\": \"race_422\", \"count\": $((RANDOM % 3))}"
  ctl "{\"fault\": \"upload_500\", \"count\": $((RANDOM % 3))}"
  ctl "{\"fault\": \"upload_504_saved\", \"count\": $((RANDOM % 3))}"
  base=$(grep -c '"uploads"' "$T/gh.jsonl")
  (cd "$P" && exec "$VRUN" github-upload-assets TAG=$TAG GITHUB_UPLOAD_CONCURRENCY=2 \
     >"$T/bg.out" 2>&1 </dev/null) &
  bg=$!
  # wait until some uploads happened (bounded), then kill at a random one
  stop=$((2 + RANDOM % 40))
  for i in $(seq 1 200); do
    n=$(grep -c '"uploads"' "$T/gh.jsonl")
    [ "$n" -ge $((base + stop)) ] && break
    kill -0 "$bg" 2>/dev/null || break
    sleep 0.02
  done
  killed=$(kill -9 "$bg" 2>/dev/null && echo "killed at upload $((n - base))" || echo "finished before the kill")
  wait "$bg" 2>/dev/null
  cat "$T/bg.out" >>"$T/all.out"
  rc=1
  while [ "$rc" -ne 0 ] && [ "$runs" -lt 6 ]; do
    runs=$((runs + 1))
    vg github-upload-assets TAG=$TAG
  done
  is "$rc" 0 "trial $trial: $killed, done after $runs re-run(s)"
  is "$(exact)" True "trial $trial: the release is complete and exact"
  vg github-verify-release TAG=$TAG
  is "$rc" 0 "trial $trial: github-verify-release agrees"
done

unlike "$(gh_all_out)" "$GH_TOKEN_FAKE" "the token never appears in vrun's output"
is "$(q 's["violations"]')" "[]" "the peer saw no contract violation"
done_testing
