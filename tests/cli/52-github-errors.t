#!/usr/bin/env bash
# 52-github-errors.t: every error a user must understand, word for word:
# no token, missing scopes, 401/403/404, the workflow-file 404, rate
# limits (waited out, and exhausted), 500 on create, an immutable
# release, a stale id file, published releases; and the token never shows.
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/5-github.bash"

gh_start --read-only-repo vrun-test/readonly
P=$T/p
gh_project "$P" '""'

# -- no token ---------------------------------------------------------------
unset GITHUB_TOKEN
vg github-create-release TAG=$TAG
is "$rc" 2 "no token: exit 2"
like "$err" "GITHUB_TOKEN is not set: it must hold a GitHub token with the read:org, repo, write:packages scopes for $GH_REPO \(create one at https://github.com/settings/tokens\)" \
  "no token: says what to set and where to get one"
is "$(q 'len(L)')" 0 "no token: no request sent"
export GITHUB_TOKEN=$GH_TOKEN_FAKE

# -- bad token (401) -----------------------------------------------------
vg github-create-release TAG=$TAG GITHUB_TOKEN=ghp_FAKEwrongTokenForTests
is "$rc" 2 "bad token: exit 2"
like "$err" "GitHub refused the token while checking the token in $GH_REPO \(401 Bad credentials\): GITHUB_TOKEN is wrong, expired or revoked" \
  "bad token: 401 explained"
unlike "$out$err" "ghp_FAKEwrong" "bad token: the wrong token is not printed either"

# -- missing scopes ------------------------------------------------------
kill "${_tap_pids[@]}" 2>/dev/null; wait 2>/dev/null; _tap_pids=()
gh_start --scopes "repo, gist"
vg github-token-check
is "$rc" 2 "missing scopes: exit 2"
like "$err" "the GITHUB_TOKEN lacks the scopes read:org, write:packages \(it has: repo, gist\); releasing to $GH_REPO needs read:org, repo, write:packages" \
  "missing scopes: named"
kill "${_tap_pids[@]}" 2>/dev/null; wait 2>/dev/null; _tap_pids=()
gh_start --scopes "repo, admin:org, write:packages"
vg github-token-check
is "$rc" 0 "admin:org covers read:org"
kill "${_tap_pids[@]}" 2>/dev/null; wait 2>/dev/null; _tap_pids=()
gh_start --scopes none --read-only-repo vrun-test/readonly
vg github-token-check
is "$rc" 0 "a token whose scopes GitHub does not report (fine-grained) passes"

# -- 404: unknown repository ---------------------------------------------
vg github-create-release TAG=$TAG GITHUB_REPO=vrun-test/nope
is "$rc" 2 "unknown repo: exit 2"
like "$err" "GitHub answered 404 Not Found while checking the token: vrun-test/nope does not exist or the token may lack access to it \(GitHub says 404, not 403, for private repositories\)" \
  "unknown repo: 404 names the repo and the access hint"

# -- 403: read-only access -------------------------------------------------
vg github-create-release TAG=$TAG GITHUB_REPO=vrun-test/readonly
is "$rc" 2 "read-only repo: exit 2"
like "$err" "GitHub answered 403 Forbidden while creating release $TAG in vrun-test/readonly \(Resource not accessible by personal access token\): the token may lack access to vrun-test/readonly" \
  "read-only repo: 403 names the repo and the access hint"

# -- the workflow-file 404 ---------------------------------------------------
ctl '{"fault": "workflow_404", "count": 1}'
vg github-create-release TAG=$TAG
is "$rc" 2 "workflow file: exit 2"
like "$err" "GitHub answered 404 while creating release $TAG in $GH_REPO although the repository is readable: the tag's commit probably adds or changes files under .github/workflows/ and the token may not modify workflows" \
  "workflow file: explained"
is "$(q 'len(rels)')" 0 "workflow file: nothing created"

# -- 500 on create: retried after checking nothing was made -----------------
ctl '{"fault": "create_500", "count": 1}'
before=$(q 'len(L)')
vg github-create-release TAG=$TAG
is "$rc" 0 "500 on create: recovered"
is "$(q 'len(rels)')" 1 "500 on create: exactly one release"
is "$(q "sum(1 for e in L[$before:] if e['method'] == 'POST')")" 2 \
  "500 on create: POST sent twice, after checking nothing was made"
vg github-delete-release
is "$rc" 0 "cleanup: draft deleted"
like "$out" "Deleted release with id=" "github-delete-release says what it deleted"
test ! -e "$T/release.json"; ok $? "and removes the id file"

ctl '{"fault": "create_500_saved", "count": 1}'
vg github-create-release TAG=$TAG
is "$rc" 0 "500 after saving: recovered"
is "$(q 'len(rels)')" 1 "500 after saving: the saved draft is used, no duplicate"
ctl '{"fault": "create_500", "count": 9}'
vg github-create-release TAG=v9.9.9
is "$rc" 2 "500 on every create: exit 2"
like "$err" "GitHub answered 500 while creating release v9.9.9 in $GH_REPO: Server Error" \
  "500 on every create: explained"
ctl '{"fault": "create_500", "count": 0}'

# -- stale id file ----------------------------------------------------------
vg github-upload-assets TAG=$TAG
is "$rc" 0 "upload to the draft"
ID=$(q 'rels[0]["id"]')
python3 -c 'import sys, urllib.request as u
r = u.Request(sys.argv[1] + "/repos/vrun-test/hello/releases/" + sys.argv[2], method="DELETE",
    headers={"Authorization": "Bearer " + sys.argv[3], "User-Agent": "t",
             "X-GitHub-Api-Version": "2022-11-28", "Accept": "application/vnd.github+json"})
u.urlopen(r).read()' "$API" "$ID" "$GH_TOKEN_FAKE"
vg github-upload-assets TAG=$TAG
is "$rc" 2 "stale id file: exit 2"
like "$err" "the release id file $T/release.json names release $ID \($TAG\) of $GH_REPO, which no longer exists: remove the file and run 'vrun github-create-release TAG=$TAG' again" \
  "stale id file: explained with the fix"
rm -f "$T/release.json"

# -- rate limits ------------------------------------------------------------
vg github-create-release TAG=$TAG
ID=$(q 'rels[0]["id"]')
ctl '{"fault": "ratelimit", "count": 2, "status": 403, "reset_in": 30}'
before=$(q 'len(L)')
vg github-verify-release TAG=$TAG
like "$err" "does not match" "primary rate limit: waited out, then the run goes on"
is "$(q "sum(1 for e in L[$before:] if e['status'] == 403)")" 2 \
  "primary rate limit: two 403s were answered"
ctl '{"fault": "ratelimit", "count": 1, "status": 429, "kind": "secondary", "retry_after": 20}'
vg github-token-check
is "$rc" 0 "secondary rate limit (429, Retry-After): waited out"
ctl '{"fault": "ratelimit", "count": 50, "status": 403, "reset": 4102444800}'
VRUN_HTTP_MAX_WAIT=5 vg github-token-check
is "$rc" 2 "rate limit exhausted: exit 2"
like "$err" "GitHub API rate limit exhausted while checking the token in $GH_REPO \(5000 requests per hour used up\); it resets at 2100-01-01 00:00:00 UTC" \
  "rate limit exhausted: says when it resets"
ctl '{"fault": "ratelimit", "count": 0}'

# -- published releases ----------------------------------------------------
vg github-upload-assets TAG=$TAG
vg github-publish TAG=$TAG
is "$rc" 0 "publish"
vg github-create-release TAG=$TAG
is "$rc" 2 "create over a published release: exit 2"
like "$err" "release $TAG of $GH_REPO is already published \(id $ID, https://github.com/$GH_REPO/releases/tag/$TAG\); github-create-release makes drafts only" \
  "create over a published release: explained"
vg github-delete-release
is "$rc" 2 "delete of a published release: refused"
like "$err" "release $TAG \(id $ID\) of $GH_REPO is published: github-delete-release deletes drafts only \(FORCE=1 deletes it anyway\)" \
  "delete of a published release: explained"
is "$(q 'len(rels)')" 1 "the published release is still there"
vg github-delete-release FORCE=1
is "$rc" 0 "FORCE=1 deletes a published release"
is "$(q 'len(rels)')" 0 "and it is gone"

# -- immutable release ---------------------------------------------------------
ctl '{"immutable_repo": true}'
vg github-create-release TAG=$TAG
vg github-upload-assets TAG=$TAG
vg github-publish TAG=$TAG
is "$rc" 0 "publish in a repo with immutable releases"
is "$(q 'rels[0]["immutable"]')" True "the release is immutable"
ctl "{\"plant_asset\": {\"release_id\": $(q 'rels[0]["id"]'), \"name\": \"x.txt\", \"state\": \"starter\"}}" 2>/dev/null
vg github-upload-assets TAG=$TAG
is "$rc" 2 "upload to an immutable release: exit 2"
like "$err" "release $TAG of $GH_REPO is published and immutable: its assets can no longer change" \
  "upload to an immutable release: explained"

# -- the id file of another tag is never what gets deleted ------------------
ctl '{"immutable_repo": false}'
vg github-create-release TAG=v4.0.0
n=$(q 'len(rels)')
vg github-delete-release TAG=v5.0.0
is "$rc" 2 "delete TAG=v5.0.0 with an id file for v4.0.0: refused"
like "$err" "no release v5.0.0 in $GH_REPO" "it looked v5.0.0 up instead"
is "$(q 'len(rels)')" "$n" "and v4.0.0's draft is still there"

# -- a token with a line break (pasted badly) --------------------------------
vg github-token-check GITHUB_TOKEN="ghp_FAKEpasted
badly00000"
is "$rc" 2 "a token with a line break: exit 2"
like "$err" "GITHUB_TOKEN contains whitespace: copy the token again without spaces or line breaks" \
  "a token with a line break: explained"
unlike "$err" "FAKEpasted" "and not printed"

# -- changelog --------------------------------------------------------------
TAG=v3.0.0
gh_project "$P" '""'
ctl '{"immutable_repo": false}'
rm -f "$T/release.json"
vg github-create-release TAG=$TAG CHANGELOG=docs/NOPE.md
is "$rc" 0 "a missing changelog is only a warning for create"
like "$err" "warning: github: cannot read the changelog docs/NOPE.md" "and it warns"
vg github-release-notes TAG=$TAG CHANGELOG=docs/NOPE.md
is "$rc" 2 "a missing changelog is an error for release-notes"
sed -i "s/^## \[$TAG\]/## [v3.0.0-not]/" "$P/docs/CHANGELOG.md"
vg github-release-notes TAG=$TAG
is "$rc" 2 "a missing section is an error for release-notes"
like "$err" "docs/CHANGELOG.md: no '## \[$TAG\]\(...\)' section \(there is a '## tip' section: rename it to '## \[$TAG\]\(...\)' when releasing\)" \
  "and names the file, the section and the tip hint"

unlike "$(gh_all_out)" "$GH_TOKEN_FAKE" "the token never appears in vrun's output"
unlike "$(cat "$T/gh.jsonl" "$T/gh.log")" "$GH_TOKEN_FAKE" \
  "nor in anything the peer received or logged"
is "$(q 's["violations"]')" "[]" "the peer saw no contract violation"
done_testing
