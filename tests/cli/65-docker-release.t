#!/usr/bin/env bash
# publish-release with the docker tasks included: each variant's checkout
# publishes its own images (tagged TAG<variant>) through the real
# `publish`, which replaces tasks/release.lua's placeholder.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/servers/registry/lib.sh"
export HOME="$T/home" GIT_CONFIG_NOSYSTEM=1 TZ=UTC
mkdir -p "$HOME"
unset SOURCE_DATE_EPOCH PKG_TAG TAG EXTRA_DOCKER_TAG_SUFFIX
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com
export GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.com

reg_start reg
R=127.0.0.1:$reg_PORT
reg_push_root "$reg_PORT" || { echo "Bail out! cannot push the root image"; exit 1; }

git init -q -b master "$T/p"
cd "$T/p" || exit 1
cat >build.sh <<'EOS'
#!/bin/sh
mkdir -p bin
for b in app appctl; do
  printf '%s %s %s\n' "$(cat flavour)" "$b" "$1/$2" >"bin/$b-$1-$2-prod"
done
EOS
cat >vrun.lua <<EOS
project {
  name = "app", variants = { "", "-cluster" },
  branches = { [""] = "master", ["-cluster"] = "cluster" },
  platforms = { "linux/amd64" }, build = "sh build.sh \$(GOOS) \$(GOARCH)",
  archives = { { name = "app", binaries = { "app" } } },
  docker = {
    registries = { "$R" }, namespace = "acme", scratch = false,
    images = { [""] = { "app" }, ["-cluster"] = { "appctl" } },
    platforms = { "linux/amd64", "linux/arm64" },
    root_image = "$R/library/alpine:3.20",
  },
}
include "release"
include "docker"
EOS
printf 'bin/\n' >.gitignore
echo single >flavour
git add -A && git commit -qm single && git tag v1.0.0
git checkout -qb cluster
echo cluster >flavour
git commit -qam cluster && git tag v1.0.0-cluster
git checkout -q master

vr publish-release TAG=v1.0.0 SOURCE_DATE_EPOCH=1700000000
is "$rc" 0 "publish-release exits 0"
like "$out" "docker: pushed $R/acme/app:v1.0.0 \(2 platforms\)" "the single-node image"
like "$out" "docker: pushed $R/acme/appctl:v1.0.0-cluster \(2 platforms\)" \
  "the cluster image, tagged TAG-cluster"
unlike "$out" "nothing to publish yet" "the placeholder publish is replaced"
is "$(git rev-parse --abbrev-ref HEAD)" master "the checkout is restored"

cfg() {
  skopeo inspect --config --raw --tls-verify=false --override-arch arm64 \
    "docker://$R/acme/$1" | python3 -c '
import json, sys; c = json.load(sys.stdin)
print(c["architecture"], c["config"]["Labels"]["org.opencontainers.image.version"])'
}
is "$(cfg appctl:v1.0.0-cluster)" "arm64 v1.0.0-cluster" \
  "the cluster image's label names its own tag"
mkdir -p "$T/expected/bin"
printf 'cluster appctl linux/arm64\n' >"$T/expected/bin/appctl-linux-arm64-prod"
like "$(layout_of "$R/acme/appctl:v1.0.0-cluster" appctl)" \
  "linux/arm64 layers=2 .* \+ appctl-prod:755:0/0:1700000000:same " \
  "... and holds the cluster branch's binary"
skopeo_raw "$R/acme/app:v1.0.0-cluster" >/dev/null 2>&1
is "$?" 1 "images of one variant are not pushed under another's tag"

done_testing
