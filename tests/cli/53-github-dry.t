#!/usr/bin/env bash
# 53-github-dry.t: under -n the GitHub tasks send no request at all (the
# peer counts every request) and print their plan: method, URL, file and
# size of each asset. The id file is not written.
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/5-github.bash"

gh_start
P=$T/p
gh_project "$P" '""'

vg -n github-create-release TAG=$TAG
is "$rc" 0 "-n github-create-release: exit 0"
like "$out" "github: would GET $API/repos/$GH_REPO/releases\?per_page=1 to check the token's scopes" \
  "-n: plans the token check"
like "$out" "github: would POST $API/repos/$GH_REPO/releases: \{\"tag_name\":\"$TAG\",\"name\":\"$TAG\",.*\"draft\":true" \
  "-n: plans the create with its body"
test ! -e "$T/release.json"; ok $? "-n: the id file is not written"

vg -n github-upload-assets TAG=$TAG
is "$rc" 0 "-n github-upload-assets: exit 0"
f=hello-linux-amd64-$TAG.tar.gz
size=$(stat -c %s "$P/bin/$f")
like "$out" "github: would POST [^ ]+/releases/0/assets\?name=$f  bin/$f \($size bytes, application/x-gzip\)" \
  "-n: plans each upload with URL, file, size and type"
is "$(printf '%s\n' "$out" | grep -c 'would POST .*assets?name=')" 32 \
  "-n: one line per asset of the release set"

for t in github-verify-release github-release-notes github-publish \
         github-delete-release; do
  vg -n $t TAG=$TAG
  is "$rc" 0 "-n $t: exit 0"
done
like "$out" "github: would GET $API/repos/$GH_REPO/releases\?per_page=100 \(every page\) to find release $TAG" \
  "-n github-delete-release: plans the lookup"

# with an id file from an earlier real run, the plan names that release
vg github-create-release TAG=$TAG
ID=$(q 'rels[0]["id"]')
before=$(q 's["requests"]')
vg -n github-upload-assets TAG=$TAG
like "$out" "would POST http://127.0.0.1:[0-9]+/repos/$GH_REPO/releases/$ID/assets\?name=$f" \
  "-n with an id file: the plan uses the release's upload host"
vg -n github-publish TAG=$TAG
like "$out" "github: would PATCH $API/repos/$GH_REPO/releases/$ID: \{\"draft\":false\}" \
  "-n github-publish: plans the PATCH"
vg -n github-delete-release
like "$out" "github: would DELETE $API/repos/$GH_REPO/releases/$ID" \
  "-n github-delete-release: plans the DELETE"
test -e "$T/release.json"; ok $? "-n github-delete-release keeps the id file"
is "$(q 's["requests"]')" "$before" "-n: no request reached the peer at all"
is "$(q 'len(rels)')" 1 "-n: nothing changed remotely"

# a webhook-like secret that ends up in a plan is masked too
export ANNOUNCE_WEBHOOK=https://hooks.example.invalid/services/FAKE0000/FAKE1111
printf '\n## [v7.0.0](x)\n\nping %s\n' "$ANNOUNCE_WEBHOOK" >>"$P/docs/CHANGELOG.md"
rm -f "$T/release.json"
vg -n -v github-create-release TAG=v7.0.0
is "$rc" 0 "-n -v github-create-release with a secret in the notes: exit 0"
like "$out" 'would POST .*"body":"ping \*\*\*"' "the webhook in the planned body is masked"

unset GITHUB_TOKEN
vg -n github-create-release TAG=$TAG
is "$rc" 0 "-n without a token: still plans"
like "$err" "GITHUB_TOKEN is not set; a real run would stop here" "but warns"

unlike "$(gh_all_out)" "$GH_TOKEN_FAKE" "the token never appears in any -n output"
unlike "$(gh_all_out)" "FAKE0000" "nor does the webhook"
is "$(q 's["violations"]')" "[]" "the peer saw no contract violation"
done_testing
