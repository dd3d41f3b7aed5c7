#!/usr/bin/env bash
# docker publish-final-images / publish-latest, oci backend, against a real
# registry: registry-side retags of the same index, nothing rebuilt or
# uploaded; per-variant images.
. "$(dirname "$0")/../lib/tap.sh"
. "$TOP/tests/servers/registry/lib.sh"

reg_start reg
R=127.0.0.1:$reg_PORT
reg_push_root "$reg_PORT" || { echo "Bail out! cannot push the root image"; exit 1; }
mk_project "$T/p" "$reg_PORT" 'platforms = { "linux/amd64", "linux/arm" },'
cd "$T/p"
sed -i -e 's/images = { "app", "appctl" }/images = { [""] = { "app" }, ["-cluster"] = { "app", "appctl" } }/' \
  -e 's/^  name = "app",/  name = "app", variants = { "", "-cluster" },/' vrun.lua

digest() {
  skopeo_raw "$R/acme/$1" 2>/dev/null | sha256sum | cut -d' ' -f1
}

vr publish PKG_TAG=v1.0.0 EXTRA_DOCKER_TAG_SUFFIX=-rc1
is "$rc" 0 "publish rc1 of the single-node variant"
vr publish PKG_TAG=v1.0.0-cluster EXTRA_DOCKER_TAG_SUFFIX=-rc1
is "$rc" 0 "publish rc1 of the cluster variant"
like "$out" "pushed $R/acme/appctl:v1.0.0-cluster-rc1 " "the cluster variant's own images"
n=$(uploads reg)
w=$(grep -c '^PUT' "$T/reg.access")

vr -n publish-final-images TAG=v1.0.0 EXTRA_DOCKER_TAG_SUFFIX=-rc1
is "$rc" 0 "-n publish-final-images exits 0"
like "$out" "docker: tag $R/acme/app:v1.0.0-cluster-rc1-scratch as $R/acme/app:v1.0.0-cluster-scratch" \
  "-n says what it would tag"
is "$(grep -c '^PUT' "$T/reg.access")" "$w" "-n writes nothing"

vr publish-final-images TAG=v1.0.0 EXTRA_DOCKER_TAG_SUFFIX=-rc1
is "$rc" 0 "publish-final-images exits 0"
is "$(uploads reg)" "$n" "no blob is uploaded: only tags are written"
ok $([ -n "$(digest app:v1.0.0-rc1)" ] && [ "$(digest app:v1.0.0)" = "$(digest app:v1.0.0-rc1)" ]; echo $?) \
  "app:v1.0.0 is byte for byte the -rc1 index"
is "$(digest app:v1.0.0-scratch)" "$(digest app:v1.0.0-rc1-scratch)" "app:v1.0.0-scratch too"
is "$(digest appctl:v1.0.0-cluster)" "$(digest appctl:v1.0.0-cluster-rc1)" \
  "appctl:v1.0.0-cluster from v1.0.0-cluster-rc1"
is "$(digest app:latest)" "$(digest app:v1.0.0)" "latest of app: TAG"
is "$(digest appctl:latest)" "$(digest appctl:v1.0.0-cluster)" \
  "latest of a cluster-only image: TAG-cluster"
like "$out" "docker: tagged $R/acme/app:v1.0.0 as $R/acme/app:latest sha256:[0-9a-f]{64}" \
  "the output names each new tag and its digest"

vr publish-latest TAG=v9.9.9
is "$rc" 2 "publish-latest of a tag that was never pushed fails"
like "$err" "registry $R: GET acme/app/manifests/v9.9.9: HTTP 404" "... naming it"

done_testing
