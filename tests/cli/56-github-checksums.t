#!/usr/bin/env bash
# 56-github-checksums.t: without a project {} block the release set is
# read from bin/*-<TAG><variant>_checksums.txt and the archive each one
# names on its first line; nothing else in bin/ is sent.
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/5-github.bash"

gh_start
P=$T/p
gh_project "$P"
echo 'include "github"' >"$P/vrun.lua"
export GITHUB_REPO=$GH_REPO

vg github-create-release github-upload-assets TAG=$TAG
is "$rc" 0 "without project {}: create + upload"
is "$(q 'sorted(a["name"] for a in rels[0]["assets"])')" \
  "$(gh_expected "$P" | grep -v -- -cluster | python3 -c 'import sys; print(sorted(sys.stdin.read().split()))')" \
  "only TAG's checksum files and their archives (no variant asked for)"

vg github-upload-assets TAG=$TAG GITHUB_VARIANTS=-cluster
is "$rc" 0 "GITHUB_VARIANTS=-cluster adds the -cluster files"
is "$(q 'sorted(a["name"] for a in rels[0]["assets"])')" \
  "$(gh_expected "$P" | python3 -c 'import sys; print(sorted(sys.stdin.read().split()))')" \
  "the release holds the whole set, nothing stale"
vg github-verify-release TAG=$TAG GITHUB_VARIANTS=-cluster
is "$rc" 0 "and it verifies"

# a checksum file that names no archive of its own is refused
printf '%064d  something-else.tar.gz\n' 0 >"$P/bin/bad-linux-amd64-${TAG}_checksums.txt"
vg github-upload-assets TAG=$TAG
is "$rc" 2 "a checksum file naming another archive: exit 2"
like "$err" "bin/bad-linux-amd64-${TAG}_checksums.txt does not start with the sha256 of bad-linux-amd64-$TAG.tar.gz or bad-linux-amd64-$TAG.zip" \
  "and it names the file"
rm "$P/bin/bad-linux-amd64-${TAG}_checksums.txt"

# a checksum file whose archive is gone
mv "$P/bin/hello-linux-arm-$TAG.tar.gz" "$T/"
vg github-upload-assets TAG=$TAG
is "$rc" 2 "a missing archive: exit 2"
like "$err" "1 file of release $TAG is missing in bin/: hello-linux-arm-$TAG.tar.gz \(run 'vrun release TAG=$TAG' first\)" \
  "and it names the file"

# no release files at all
vg github-upload-assets TAG=v0.0.1
is "$rc" 2 "no files for the tag: exit 2"
like "$err" "no release files for v0.0.1 in bin/ \(run 'vrun release TAG=v0.0.1' first\)" \
  "and it says so"
is "$(q 's["violations"]')" "[]" "the peer saw no contract violation"
done_testing
