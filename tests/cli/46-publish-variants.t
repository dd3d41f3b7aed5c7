#!/usr/bin/env bash
# publish-release reads each tag's own project {} after checking it out,
# as the original's sub-make read each tag's Makefile: a cluster branch
# that packs other archives for fewer platforms gets exactly those.
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/../lib/tap.sh"
cd "$T" || exit 1
export HOME="$T/home" GIT_CONFIG_NOSYSTEM=1 TZ=UTC
mkdir -p "$HOME"
unset SOURCE_DATE_EPOCH PKG_TAG TAG
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
printf 'leak:libpcre2-8.so\n' > "$T/lsan.supp"
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com
export GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.com

git init -q -b master p && cd p || exit 1
cat > build.sh <<'SH'
#!/bin/sh
mkdir -p bin
echo "app $1 $2" > "bin/app-$1-$2-prod"
[ ! -f tools.txt ] || echo "tool $1 $2" > "bin/tool-$1-$2-prod"
SH
cat > vrun.lua <<'LUA'
project {
  name = "app",
  variants = { "", "-cluster" },
  branches = { [""] = "master", ["-cluster"] = "cluster" },
  platforms = { "linux/amd64", "linux/arm64" },
  build = "sh ./build.sh $(GOOS) $(GOARCH)",
  archives = { { name = "app", binaries = { "app" } },
               { name = "tools", binaries = { "tool" } } },
}
include "release"
LUA
printf 'bin/\n' > .gitignore
echo tool > tools.txt
git add . && git commit -qm master && git tag -a v1.0.0 -m v1.0.0
git checkout -qb cluster
sed -i -e 's|"linux/amd64", "linux/arm64"|"linux/amd64"|' \
  -e 's|{ name = "tools", binaries = { "tool" } } |{ name = "cluster", binaries = { "app" } } |' vrun.lua
git rm -q tools.txt && git commit -qam cluster && git tag -a v1.0.0-cluster -m v1.0.0-cluster
git checkout -q master

vr publish-release TAG=v1.0.0
is "$rc" 0 "publish-release: exit 0"
is "$(cd bin && ls | tr '\n' ' ')" \
"app-linux-amd64-v1.0.0-cluster.tar.gz app-linux-amd64-v1.0.0-cluster_checksums.txt app-linux-amd64-v1.0.0.tar.gz app-linux-amd64-v1.0.0_checksums.txt app-linux-arm64-v1.0.0.tar.gz app-linux-arm64-v1.0.0_checksums.txt cluster-linux-amd64-v1.0.0-cluster.tar.gz cluster-linux-amd64-v1.0.0-cluster_checksums.txt tools-linux-amd64-v1.0.0.tar.gz tools-linux-amd64-v1.0.0_checksums.txt tools-linux-arm64-v1.0.0.tar.gz tools-linux-arm64-v1.0.0_checksums.txt " \
  "each variant packs the archives and platforms of its own tag"
is "$(git symbolic-ref HEAD)" "refs/heads/master" "back on master"
vr --help release
is "$rc" 0 "the starting project is in force again afterwards"
done_testing
