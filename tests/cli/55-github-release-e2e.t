#!/usr/bin/env bash
# 55-github-release-e2e.t: the runbook end to end on a real git project:
# `vrun release` (tasks/release.lua) packs bin/, then the GitHub tasks
# create, upload, verify and publish exactly what it made, and nothing
# else lying in bin/.
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/5-github.bash"
cd "$T" || exit 1
export HOME="$T/home" GIT_CONFIG_NOSYSTEM=1 TZ=UTC
mkdir -p "$HOME"
unset SOURCE_DATE_EPOCH PKG_TAG TAG
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
printf 'leak:libpcre2-8.so\n' >"$T/lsan.supp"
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com
export GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.com

gh_start
P=$T/p
git init -q -b master "$P"
cd "$P" || exit 1
cat >build.sh <<'EOF'
#!/bin/sh
set -e
os=$1 arch=$2 ext=
[ "$os" = windows ] && ext=.exe
mkdir -p bin
for b in hello hcat; do
  head -c 20000 /dev/urandom >"bin/$b-$os-$arch-prod$ext"
done
EOF
cat >vrun.lua <<EOF
project {
  name = "hello",
  github = "$GH_REPO",
  changelog = "docs/NOTES.md",
  platforms = { "linux/amd64", "linux/arm64", "darwin/arm64",
                "windows/amd64" },
  build = "sh ./build.sh \$(GOOS) \$(GOARCH)",
  archives = {
    { name = "hello", binaries = { "hello" } },
    { name = "hutils", binaries = { "hcat" } },
  },
}
include "release"
include "github"
EOF
mkdir -p docs
printf '# Changelog\n\n## [v1.0.0](https://x)\n\n* first\n' >docs/NOTES.md
printf 'bin/\n' >.gitignore
git add . && git commit -qm first && git tag -a v1.0.0 -m v1.0.0

cd "$T" || exit 1
vg release
is "$rc" 0 "vrun release packs bin/"
made=$(cd "$P/bin" && ls | sort | tr '\n' ' ')
like "$made" "hello-windows-amd64-v1.0.0.zip .*hutils-linux-arm64-v1.0.0_checksums.txt" \
  "bin/ holds the archives and checksums"
# leftovers of an older release and a stray file must not be sent
printf 'old' >"$P/bin/hello-linux-amd64-v0.9.0.tar.gz"
printf 'x' >"$P/bin/stray.zip"

TAG=v1.0.0
vg github-create-release github-upload-assets TAG=$TAG
is "$rc" 0 "create + upload in one run"
is "$(q 'sorted(a["name"] for a in rels[0]["assets"])')" \
  "$(printf '%s\n' $made | python3 -c 'import sys; print(sorted(sys.stdin.read().split()))')" \
  "the release holds exactly what vrun release made"
is "$(q "all(a['digest'] == 'sha256:' + __import__('hashlib').sha256(open('$P/bin/' + a['name'], 'rb').read()).hexdigest() for a in rels[0]['assets'])")" \
  True "byte for byte"
vg github-release-notes github-publish TAG=$TAG
is "$rc" 0 "notes + publish"
is "$(q 'rels[0]["draft"], rels[0]["body"]')" "(False, '* first')" \
  "published with the notes of project { changelog = }"
unlike "$(gh_all_out)" "$GH_TOKEN_FAKE" "the token never appears"
is "$(q 's["violations"]')" "[]" "the peer saw no contract violation"
done_testing
