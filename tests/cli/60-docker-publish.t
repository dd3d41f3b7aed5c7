#!/usr/bin/env bash
# docker publish, oci backend, against a real registry (no auth): images
# checked with skopeo, reproducible digests, no blob uploaded twice.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/servers/registry/lib.sh"

reg_start reg
R=127.0.0.1:$reg_PORT
reg_push_root "$reg_PORT" || { echo "Bail out! cannot push the root image"; exit 1; }
mk_project "$T/p" "$reg_PORT"
mk_expected "$T/p"
cd "$T/p"

# -n: says what it would push, sends nothing that changes the registry
before=$(wc -l <"$T/reg.access")
vr -n publish PKG_TAG=v1.2.3
is "$rc" 0 "-n publish exits 0"
like "$out" "docker: push $R/acme/app:v1.2.3 \(5 platforms, on $R/library/alpine:3.20\)" \
  "-n names the image, platforms and root"
like "$out" "docker: push $R/acme/appctl:v1.2.3-scratch \(5 platforms, on scratch\)" \
  "-n names the scratch image"
like "$out" "docker:   linux/arm: bin/appctl-linux-arm-prod \(not built yet\) as /appctl-prod" \
  "-n names each platform's binary and its place in the image"
like "$out" "docker:   all: $T/ca.crt as /etc/ssl/certs/ca-certificates.crt" \
  "-n names the CA bundle of the scratch image"
is "$(sed -n "$((before + 1)),\$p" "$T/reg.access" | grep -vc '^GET\|^HEAD')" 0 \
  "-n sends no write request"
is "$(ls bin 2>/dev/null | wc -l)" 0 "-n builds no binary"

mkdir "$T/tmp"
TMPDIR=$T/tmp vr publish PKG_TAG=v1.2.3 SOURCE_DATE_EPOCH=1700000000
is "$rc" 0 "publish exits 0"
is "$(find "$T/tmp" -mindepth 1 | wc -l)" 0 "the layer files are removed at the end"
like "$out" "docker: pushed $R/acme/app:v1.2.3 \(5 platforms\) sha256:[0-9a-f]{64}" \
  "publish reports the index digest"
is "$(ls bin | wc -l)" 0 "the per-platform binaries are removed afterwards"

idx=$(skopeo_raw "$R/acme/app:v1.2.3")
is "$(printf '%s' "$idx" | python3 -c '
import json, sys
x = json.load(sys.stdin)
print(x["mediaType"])
for m in x["manifests"]:
    p = m["platform"]
    print(p["os"], p["architecture"], p.get("variant", "-"))')" \
"application/vnd.oci.image.index.v1+json
linux amd64 -
linux arm v7
linux arm64 -
linux ppc64le -
linux 386 -" "the index lists every platform, in order"

is "$(layout_of "$R/acme/app:v1.2.3" app)" \
"linux/amd64 layers=2 bin/sh:644:0/0:0:differs etc/os-release:644:0/0:0:root=linux/amd64 + app-prod:755:0/0:1700000000:same | entry=/app-prod cmd=- ports=8428/tcp title=app version=v1.2.3
linux/arm/v7 layers=2 bin/sh:644:0/0:0:differs etc/os-release:644:0/0:0:root=linux/arm/v7 + app-prod:755:0/0:1700000000:same | entry=/app-prod cmd=- ports=8428/tcp title=app version=v1.2.3
linux/arm64 layers=2 bin/sh:644:0/0:0:differs etc/os-release:644:0/0:0:root=linux/arm64/v8 + app-prod:755:0/0:1700000000:same | entry=/app-prod cmd=- ports=8428/tcp title=app version=v1.2.3
linux/ppc64le layers=2 bin/sh:644:0/0:0:differs etc/os-release:644:0/0:0:root=linux/ppc64le + app-prod:755:0/0:1700000000:same | entry=/app-prod cmd=- ports=8428/tcp title=app version=v1.2.3
linux/386 layers=2 bin/sh:644:0/0:0:differs etc/os-release:644:0/0:0:root=linux/386 + app-prod:755:0/0:1700000000:same | entry=/app-prod cmd=- ports=8428/tcp title=app version=v1.2.3" \
  "each platform: the root's layer for that platform + the byte-identical binary"

is "$(layout_of "$R/acme/appctl:v1.2.3-scratch" appctl | head -2)" \
"linux/amd64 layers=2 etc:755:0/0:1700000000:dir etc/ssl:755:0/0:1700000000:dir etc/ssl/certs:755:0/0:1700000000:dir etc/ssl/certs/ca-certificates.crt:644:0/0:1700000000:ca + appctl-prod:755:0/0:1700000000:same | entry=/appctl-prod cmd=- ports=- title=appctl version=v1.2.3
linux/arm/v7 layers=2 etc:755:0/0:1700000000:dir etc/ssl:755:0/0:1700000000:dir etc/ssl/certs:755:0/0:1700000000:dir etc/ssl/certs/ca-certificates.crt:644:0/0:1700000000:ca + appctl-prod:755:0/0:1700000000:same | entry=/appctl-prod cmd=- ports=- title=appctl version=v1.2.3" \
  "-scratch: a CA certificates layer + the binary, no root layers"

cfg=$(skopeo inspect --config --raw --tls-verify=false --override-arch ppc64le \
  "docker://$R/acme/app:v1.2.3")
is "$(printf '%s' "$cfg" | python3 -c '
import json, sys
c = json.load(sys.stdin)
l = c["config"]["Labels"]
print(c["os"], c["architecture"], c["created"], c["config"]["Env"][0])
print(l["org.opencontainers.image.source"], l["org.opencontainers.image.created"])')" \
"linux ppc64le 2023-11-14T22:13:20Z PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
https://github.com/acme/app 2023-11-14T22:13:20Z" \
  "config: platform, created from SOURCE_DATE_EPOCH, root Env kept, labels"

# re-publishing the same binaries: same digests, no blob uploaded again
n1=$(uploads reg)
d1=$(printf '%s' "$idx" | sha256sum | cut -d' ' -f1)
vr publish PKG_TAG=v1.2.3 SOURCE_DATE_EPOCH=1700000000
is "$rc" 0 "re-publish exits 0"
is "$(uploads reg)" "$n1" "re-publish uploads no blob"
like "$out" "docker: app: 0 blobs uploaded \(0 bytes\), 15 already there, 0 mounted" \
  "re-publish finds every blob already there"
is "$(skopeo_raw "$R/acme/app:v1.2.3" | sha256sum | cut -d' ' -f1)" "$d1" \
  "re-publish gives the same index digest"

# another tag suffix: only manifests are new
vr publish PKG_TAG=v1.2.3 EXTRA_DOCKER_TAG_SUFFIX=-rc1 SOURCE_DATE_EPOCH=1700000000
is "$rc" 0 "publish with EXTRA_DOCKER_TAG_SUFFIX exits 0"
is "$(uploads reg)" "$n1" "a new tag of the same binaries uploads no blob"
is "$(skopeo_raw "$R/acme/appctl:v1.2.3-rc1-scratch" | sha256sum | cut -d' ' -f1)" \
   "$(skopeo_raw "$R/acme/appctl:v1.2.3-scratch" | sha256sum | cut -d' ' -f1)" \
   "<tag><suffix>-scratch exists with the same digest"

# a changed binary: only its layer, config and manifests change
printf '[ "$2" != 386 ] || sed -i s/ELF/FLE/ bin/app-linux-386-prod\n' \
  >>"$T/p/mkbin.sh"
vr publish PKG_TAG=v1.2.3 EXTRA_DOCKER_TAG_SUFFIX=-rc2 \
  SOURCE_DATE_EPOCH=1700000000
is "$rc" 0 "publish of a changed binary exits 0"
like "$out" "docker: app: 2 blobs uploaded \([0-9]+ bytes\), 13 already there" \
  "a changed binary uploads its layer and config only"

# a root image without one of the platforms
mk_project "$T/p2" "$reg_PORT" 'platforms = { "linux/amd64", "linux/riscv64" },'
cd "$T/p2"
vr publish PKG_TAG=v1.2.3
is "$rc" 2 "a platform the root image lacks fails"
like "$err" "root image $R/library/alpine:3.20 has no linux/riscv64 image" \
  "... naming the platform"

# the root image in Docker schema 2: the result keeps Docker media types
reg_start reg2
reg_push_root "$reg2_PORT" --docker
mk_project "$T/p3" "$reg2_PORT" 'scratch = false, platforms = { "linux/arm64" },'
cd "$T/p3"
vr publish PKG_TAG=v2.0.0
is "$rc" 0 "publish on a Docker schema 2 root exits 0"
is "$(skopeo_raw "127.0.0.1:$reg2_PORT/acme/app:v2.0.0" | python3 -c '
import json, sys; print(json.load(sys.stdin)["mediaType"])')" \
  "application/vnd.docker.distribution.manifest.list.v2+json" \
  "... and pushes a Docker manifest list"
vr publish PKG_TAG=v2.0.0
skopeo_raw "127.0.0.1:$reg2_PORT/acme/app:v2.0.0-scratch" >/dev/null 2>&1
is "$?" 1 "scratch = false pushes no -scratch tag"
unlike "$out$err" "tok-FAKE|ci-pass" "no secret in the output"

# two registries in one call; the root image lives on only one of them:
# its layer is fetched and uploaded to the other (the first has it already)
mk_project "$T/p4" "$reg_PORT" "registries = { \"127.0.0.1:$reg2_PORT\", \"$R\" },
    scratch = false, platforms = { \"linux/386\" },"
cd "$T/p4"
n2=$(uploads reg2)
vr publish PKG_TAG=v3.0.0 SOURCE_DATE_EPOCH=1700000000
is "$rc" 0 "publish to two registries exits 0"
like "$out" "docker: app: 4 blobs uploaded \([0-9]+ bytes\), 2 already there, 0 mounted" \
  "new registry: root layer, binary layer, config; old one: the new config"
is "$(skopeo_raw "127.0.0.1:$reg2_PORT/acme/app:v3.0.0" | sha256sum)" \
   "$(skopeo_raw "$R/acme/app:v3.0.0" | sha256sum)" \
  "both registries hold the same index"
is "$(layout_of "127.0.0.1:$reg2_PORT/acme/app:v3.0.0" app | cut -d'|' -f1)" \
  "linux/386 layers=2 bin/sh:644:0/0:0:differs etc/os-release:644:0/0:0:root=linux/386 + app-prod:755:0/0:1700000000:same " \
  "the copied image is complete: root layer and binary"

done_testing
