#!/usr/bin/env bash
# 50-github-flow.t: the whole GitHub release flow against the local peer:
# create -> upload (64 assets) -> verify -> notes -> publish; request
# headers as the contract says; stale files not sent; an idempotent
# re-run; drafts found past page 1.
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/5-github.bash"

gh_start
P=$T/p
gh_project "$P"
N=$(gh_expected "$P" | wc -l)
is "$N" 64 "the release set has 64 files"

# -- create ---------------------------------------------------------------
vg github-create-release TAG=$TAG
is "$rc" 0 "github-create-release succeeds"
like "$out" "Created release $TAG with id=[0-9]+" "says which release it made"
is "$(q 'len(rels)')" 1 "one release exists"
is "$(q 'rels[0]["draft"], rels[0]["name"], rels[0]["tag_name"]')" \
  "(True, '$TAG', '$TAG')" "it is a draft named $TAG"
like "$(q 'rels[0]["body"]')" "FEATURE: hello says hello" \
  "its body is the CHANGELOG section"
unlike "$(q 'rels[0]["body"]')" "not released yet|old notes" \
  "and nothing of the other sections"
ID=$(q 'rels[0]["id"]')
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/release.json")" \
  "$ID" "the id file holds the release id"
is "$(q "[e['body'] for e in L if e['method'] == 'POST'][0] == {'tag_name': '$TAG', 'name': '$TAG', 'body': rels[0]['body'], 'draft': True, 'prerelease': False, 'generate_release_notes': False}")" \
  True "the create body has exactly the contract's fields"

# a second create reuses the draft
vg github-create-release TAG=$TAG
is "$rc" 0 "a second github-create-release succeeds"
like "$out" "Reusing draft release $TAG with id=$ID" "and reuses the draft"
is "$(q 'len(rels)')" 1 "still one release"

# -- upload ---------------------------------------------------------------
vg github-upload-assets TAG=$TAG
is "$rc" 0 "github-upload-assets succeeds"
like "$out" "Uploaded 64 assets \([0-9]+ bytes\) to release $TAG \(id $ID\); 0 already there, 0 replaced" \
  "reports 64 uploads"
is "$(q 'sorted(a["name"] for a in rels[0]["assets"])' )" \
  "$(gh_expected "$P" | python3 -c 'import sys; print(sorted(sys.stdin.read().split()))')" \
  "the release holds exactly the release set"
is "$(q 'sorted(set(a["state"] for a in rels[0]["assets"]))')" "['uploaded']" \
  "every asset is uploaded"
sizes_ok=$(cd "$P/bin" && q "all(a['size'] == __import__('os').path.getsize('$P/bin/' + a['name']) for a in rels[0]['assets'])")
is "$sizes_ok" True "every size equals the local file's"
digests_ok=$(q "all(a['digest'] == 'sha256:' + __import__('hashlib').sha256(open('$P/bin/' + a['name'], 'rb').read()).hexdigest() for a in rels[0]['assets'])")
is "$digests_ok" True "every digest equals the local SHA-256"
is "$(q 'sum(1 for e in L if e["server"] == "uploads")')" 64 \
  "64 upload requests, no more"
is "$(q 'sorted(set((e["asset"].rsplit(".", 1)[-1] if e["asset"].endswith(".zip") else e["asset"].split("_")[-1] if e["asset"].endswith(".txt") else "tgz", e["content_type"]) for e in L if e["server"] == "uploads"))')" \
  "[('checksums.txt', 'text/plain'), ('tgz', 'application/x-gzip'), ('zip', 'application/zip')]" \
  "each kind of file has the original's Content-Type"
is "$(q 'all(e["content_length"] == str(e["body_len"]) and e["transfer_encoding"] is None for e in L if e["server"] == "uploads")')" \
  True "uploads carry an exact Content-Length, never chunked"
is "$(q '[e["asset"] for e in L if e["server"] == "uploads"][0].endswith(".zip"), [e["asset"] for e in L if e["server"] == "uploads"][-1].endswith("_checksums.txt")')" \
  "(True, True)" "zips go first, checksums last (the original's order)"
is "$(q 'any("v1.2.2" in e["query"] or "rc1" in e["query"] or "notes" in e["query"] for e in L)')" \
  False "stale files in bin/ are never sent"
is "$(q 'sorted(set((e["ua"], e["accept"], e["api_version"], e["auth"]) for e in L))')" \
  "[('vrun/0.1.0', 'application/vnd.github+json', '2022-11-28', 'bearer-ok')]" \
  "every request: User-Agent vrun/<version>, Accept, API version, Bearer"
is "$(q 's["violations"]')" "[]" "the peer saw no contract violation"

# -- re-run: idempotent --------------------------------------------------
before=$(q 'len(L)')
vg github-upload-assets TAG=$TAG
is "$rc" 0 "a second github-upload-assets succeeds"
like "$out" "Uploaded 0 assets \(0 bytes\) to release $TAG \(id $ID\); 64 already there, 0 replaced" \
  "and skips all 64"
is "$(q "sum(1 for e in L[$before:] if e['method'] != 'GET')")" 0 \
  "without any write request"

# -- verify, notes, publish ------------------------------------------------
vg github-verify-release TAG=$TAG
is "$rc" 0 "github-verify-release succeeds"
like "$out" "GitHub release $TAG has 64 assets, all uploaded and matching bin/" \
  "and says so"
vg -v github-verify-release TAG=$TAG
like "$out" "github: GET $API/repos/$GH_REPO/releases/$ID/assets\?per_page=100" \
  "-v shows each request (and the scan below covers it)"

ctl "{\"plant_asset\": {\"release_id\": $ID, \"name\": \"zzz-extra.txt\", \"size\": 3}}"
vg github-publish TAG=$TAG
is "$rc" 2 "github-publish refuses when the release has an extra asset"
like "$err" "zzz-extra.txt: not part of this release set" "names the extra asset"
like "$err" "refusing to publish: GitHub release $TAG \(id $ID\) of $GH_REPO does not match bin/: 1 problem" \
  "and says why it refuses"
is "$(q 'rels[0]["draft"]')" True "the release is still a draft"
XID=$(q '[a["id"] for a in rels[0]["assets"] if a["name"] == "zzz-extra.txt"][0]')
python3 -c 'import sys, urllib.request as u
r = u.Request(sys.argv[1] + "/repos/vrun-test/hello/releases/assets/" + sys.argv[2], method="DELETE",
    headers={"Authorization": "Bearer " + sys.argv[3], "User-Agent": "t",
             "X-GitHub-Api-Version": "2022-11-28", "Accept": "application/vnd.github+json"})
u.urlopen(r).read()' "$API" "$XID" "$GH_TOKEN_FAKE"

# notes: replace the body by hand, then set it from the changelog
python3 -c 'import sys, json, urllib.request as u
r = u.Request(sys.argv[1] + "/repos/vrun-test/hello/releases/" + sys.argv[2], method="PATCH",
    data=json.dumps({"body": "edited by hand"}).encode(),
    headers={"Authorization": "Bearer " + sys.argv[3], "User-Agent": "t",
             "X-GitHub-Api-Version": "2022-11-28", "Accept": "application/vnd.github+json"})
u.urlopen(r).read()' "$API" "$ID" "$GH_TOKEN_FAKE"
vg github-release-notes TAG=$TAG
is "$rc" 0 "github-release-notes succeeds"
is "$(q 'rels[0]["body"]')" "$(printf 'Released at 2026-11-26\n\n* FEATURE: hello says hello.\n* BUGFIX: no more typos.')" \
  "the body is exactly the CHANGELOG section"

vg github-publish TAG=$TAG
is "$rc" 0 "github-publish succeeds"
like "$out" "Published release $TAG: https://github.com/$GH_REPO/releases/tag/$TAG" \
  "and names the release page"
is "$(q 'rels[0]["draft"], rels[0]["published_at"] is not None')" "(False, True)" \
  "the release is published"
is "$(q '[e["body"] for e in L if e["method"] == "PATCH"][-1]')" "{'draft': False}" \
  "publishing sends only draft=false"

# -- drafts are found past the first page ----------------------------------
rm -f "$T/release.json"
TAG=v2.0.0
rm -rf "$T/q"; P=$T/q; gh_project "$P" '""'
vg github-create-release TAG=$TAG
is "$rc" 0 "a draft for $TAG is created"
ctl '{"seed": {"releases": 230}}'
rm -f "$T/release.json"
before=$(q 'len(L)')
vg github-upload-assets TAG=$TAG
is "$rc" 0 "github-upload-assets finds the draft without the id file"
is "$(q "sum(1 for e in L[$before:] if e['method'] == 'GET' and e['path'].endswith('/releases') and e['query'] != 'per_page=1')")" 3 \
  "by following the Link header over 3 pages of 100"
is "$(q "[a['name'] for r in rels if r['tag_name'] == '$TAG' for a in r['assets']].__len__()")" 32 \
  "and uploads to it"

# the peer itself keeps to the contract the client relies on
peer_get() {
  python3 -c 'import sys, json, urllib.request as u, urllib.error as ue
r = u.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2],
    "User-Agent": "t", "X-GitHub-Api-Version": "2022-11-28",
    "Accept": "application/vnd.github+json"})
try:
    resp = u.urlopen(r)
    body = json.load(resp)
    print(resp.status, len(body) if isinstance(body, list) else "obj",
          "next" if "rel=\"next\"" in (resp.headers.get("Link") or "") else "-")
except ue.HTTPError as e:
    print(e.code)' "$1" "$GH_TOKEN_FAKE"
}
is "$(peer_get "$API/repos/$GH_REPO/releases/tags/$TAG")" 404 \
  "peer: get-by-tag does not show the draft"
is "$(peer_get "$API/repos/$GH_REPO/releases")" "200 30 next" \
  "peer: 30 releases per page by default, with a Link to the next"

unlike "$(gh_all_out)" "$GH_TOKEN_FAKE" "the token never appears in vrun's output"
unlike "$(cat "$T/gh.jsonl")" "$GH_TOKEN_FAKE" "nor in what vrun sent besides the Authorization header"
done_testing
