#!/usr/bin/env bash
# docker tasks, buildx backend: the exact commands of the original
# publish-via-docker / publish-via-docker-latest / -from-rc, recorded by a
# `docker` stub on PATH (no engine runs here); backend auto-detection.
. "$(dirname "$0")/../lib/tap.sh"

mkdir -p "$T/stub" "$T/p"
cat >"$T/stub/docker" <<EOS
#!/bin/sh
# records each call: its arguments, one per line, then ----
{ for a in "\$@"; do printf '%s\n' "\$a"; done; echo ----; } >>"$T/docker.log"
if [ "\$1" = version ]; then
  [ -f "$T/engine" ] && { echo 27.1.0; exit 0; }
  echo "Cannot connect to the Docker daemon" >&2; exit 1
fi
exit 0
EOS
chmod +x "$T/stub/docker"
export PATH="$T/stub:$PATH"

cd "$T/p"
cat >mkbin.sh <<'EOS'
#!/bin/sh
mkdir -p bin
for img in victoria-metrics vmagent vminsert; do
  printf 'bin %s %s\n' "$img" "$2" >"bin/$img-$1-$2-prod"
done
EOS
cat >vrun.lua <<'EOS'
project {
  name = "victoria-metrics", github = "VictoriaMetrics/VictoriaMetrics",
  variants = { "", "-cluster" },
  platforms = { "linux/amd64" }, build = "sh mkbin.sh $(GOOS) $(GOARCH)",
  archives = { { name = "victoria-metrics", binaries = { "victoria-metrics" } } },
  docker = {
    namespace = "victoriametrics", backend = "buildx",
    images = { [""] = { "victoria-metrics", "vmagent" },
               ["-cluster"] = { "vminsert", "vmagent" } },
    labels = {
      ["org.opencontainers.image.documentation"] = "https://docs.victoriametrics.com/",
      ["org.opencontainers.image.vendor"] = "VictoriaMetrics",
    },
  },
}
include "release"
include "docker"
EOS

# one recorded call per line, arguments joined by spaces
calls() {
  awk '/^----$/ { print line; line = ""; next }
       { line = line (line == "" ? "" : " ") $0 }' "$T/docker.log"
}

vr publish PKG_TAG=v1.150.0 EXTRA_DOCKER_TAG_SUFFIX=-rc1
is "$rc" 0 "buildx publish exits 0"
want_labels="--label org.opencontainers.image.source=https://github.com/VictoriaMetrics/VictoriaMetrics --label org.opencontainers.image.documentation=https://docs.victoriametrics.com/ --label org.opencontainers.image.title=victoria-metrics --label org.opencontainers.image.vendor=VictoriaMetrics --label org.opencontainers.image.version=v1.150.0 --label org.opencontainers.image.created=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
c1="buildx build --platform=linux/amd64,linux/arm,linux/arm64,linux/ppc64le,linux/386 --build-arg certs_image=alpine:3.24.1 --build-arg root_image=alpine:3.24.1 --build-arg APP_NAME=victoria-metrics --build-arg BINARY_SUFFIX= $want_labels --tag docker.io/victoriametrics/victoria-metrics:v1.150.0-rc1 --tag quay.io/victoriametrics/victoria-metrics:v1.150.0-rc1 -o type=image --provenance=false --sbom=true -f app/victoria-metrics/multiarch/Dockerfile --push bin"
c2="buildx build --platform=linux/amd64,linux/arm,linux/arm64,linux/ppc64le,linux/386 --build-arg certs_image=alpine:3.24.1 --build-arg root_image=scratch --build-arg APP_NAME=victoria-metrics --build-arg BINARY_SUFFIX= $want_labels --tag docker.io/victoriametrics/victoria-metrics:v1.150.0-rc1-scratch --tag quay.io/victoriametrics/victoria-metrics:v1.150.0-rc1-scratch -o type=image --provenance=false --sbom=true -f app/victoria-metrics/multiarch/Dockerfile --push bin"
is "$(calls | wc -l)" 4 "four buildx builds: 2 images x (root, scratch)"
like "$(calls | sed -n 1p)" "^$c1\$" "the root image: the original's exact command"
like "$(calls | sed -n 2p)" "^$c2\$" "the -scratch image: root_image=scratch, tag -scratch"
like "$(calls | sed -n 3p)" "APP_NAME=vmagent .*--tag quay.io/victoriametrics/vmagent:v1.150.0-rc1 -o" \
  "then the next image"
is "$(ls bin | grep -vc vminsert)" 0 \
  "the pushed images' per-platform binaries are removed afterwards"

: >"$T/docker.log"
vr publish PKG_TAG=v1.150.0-cluster
is "$rc" 0 "publish of the cluster variant exits 0"
is "$(calls | grep -o 'APP_NAME=[a-z-]*' | tr '\n' ' ')" \
  "APP_NAME=vminsert APP_NAME=vminsert APP_NAME=vmagent APP_NAME=vmagent " \
  "PKG_TAG's variant picks its images"
like "$(calls | sed -n 1p)" "--label org.opencontainers.image.version=v1.150.0-cluster .*--tag docker.io/victoriametrics/vminsert:v1.150.0-cluster --tag" \
  "... tagged PKG_TAG"

: >"$T/docker.log"
vr publish PKG_TAG=v1.150.0-cluster RACE=-race EXTRA_DOCKER_TAG_SUFFIX=-rc2
like "$(calls | sed -n 1p)" "--tag docker.io/victoriametrics/vminsert:v1.150.0-cluster-race-rc2 --tag" \
  "RACE goes between PKG_TAG and EXTRA_DOCKER_TAG_SUFFIX, as in the original"

: >"$T/docker.log"
vr -n publish PKG_TAG=v1.150.0
is "$rc" 0 "-n publish exits 0"
is "$(cat "$T/docker.log")" "" "-n runs no docker command"
like "$out" "docker buildx build --platform=linux/amd64,linux/arm,linux/arm64,linux/ppc64le,linux/386 --build-arg certs_image=alpine:3.24.1" \
  "-n prints the buildx command"

: >"$T/docker.log"
vr publish-latest TAG=v1.150.0
is "$rc" 0 "publish-latest exits 0"
is "$(calls)" "buildx imagetools create --tag docker.io/victoriametrics/victoria-metrics:latest docker.io/victoriametrics/victoria-metrics:v1.150.0
buildx imagetools create --tag quay.io/victoriametrics/victoria-metrics:latest quay.io/victoriametrics/victoria-metrics:v1.150.0
buildx imagetools create --tag docker.io/victoriametrics/vmagent:latest docker.io/victoriametrics/vmagent:v1.150.0
buildx imagetools create --tag quay.io/victoriametrics/vmagent:latest quay.io/victoriametrics/vmagent:v1.150.0
buildx imagetools create --tag docker.io/victoriametrics/vminsert:latest docker.io/victoriametrics/vminsert:v1.150.0-cluster
buildx imagetools create --tag quay.io/victoriametrics/vminsert:latest quay.io/victoriametrics/vminsert:v1.150.0-cluster" \
  "latest: single-node images from TAG, cluster-only ones from TAG-cluster"

: >"$T/docker.log"
vr publish-final-images TAG=v1.150.0 EXTRA_DOCKER_TAG_SUFFIX=-rc1
is "$rc" 0 "publish-final-images exits 0"
is "$(calls | head -4)" "buildx imagetools create --tag docker.io/victoriametrics/victoria-metrics:v1.150.0 docker.io/victoriametrics/victoria-metrics:v1.150.0-rc1
buildx imagetools create --tag quay.io/victoriametrics/victoria-metrics:v1.150.0 quay.io/victoriametrics/victoria-metrics:v1.150.0-rc1
buildx imagetools create --tag docker.io/victoriametrics/victoria-metrics:v1.150.0-scratch docker.io/victoriametrics/victoria-metrics:v1.150.0-rc1-scratch
buildx imagetools create --tag quay.io/victoriametrics/victoria-metrics:v1.150.0-scratch quay.io/victoriametrics/victoria-metrics:v1.150.0-rc1-scratch" \
  "final images: the -rc1 index under the final tag, and -scratch"
like "$(calls | tr '\n' '|')" "--tag docker.io/victoriametrics/vminsert:v1.150.0-cluster docker.io/victoriametrics/vminsert:v1.150.0-cluster-rc1\|" \
  "cluster images: TAG-cluster from TAG-cluster-rc1"
is "$(calls | tail -1)" "buildx imagetools create --tag quay.io/victoriametrics/vminsert:latest quay.io/victoriametrics/vminsert:v1.150.0-cluster" \
  "then publish-latest"
is "$(calls | wc -l)" 22 "16 promotions + 6 latest tags"

vr publish-final-images TAG=v1.150.0
is "$rc" 2 "publish-final-images without EXTRA_DOCKER_TAG_SUFFIX fails"
vr publish-latest TAG=1.150
is "$rc" 2 "publish-latest with a TAG that is not a release version fails"
like "$err" "TAG=1.150 is not a release version" "... saying so"

# a build that leaves a binary out stops before anything is pushed
sed -i 's/for img in victoria-metrics vmagent vminsert/for img in victoria-metrics vminsert/' mkbin.sh
: >"$T/docker.log"
vr publish PKG_TAG=v1.150.0
is "$rc" 2 "a missing binary fails the publish"
like "$err" "the build did not make bin/vmagent-linux-amd64-prod, bin/vmagent-linux-arm-prod," \
  "... naming the missing files"
is "$(cat "$T/docker.log")" "" "... before any docker command"
sed -i 's/for img in victoria-metrics vminsert/for img in victoria-metrics vmagent vminsert/' mkbin.sh

# backend auto: buildx when an engine answers, else the daemonless one
sed -i 's/backend = "buildx"/backend = "auto"/' vrun.lua
: >"$T/docker.log"
touch "$T/engine"
vr -n publish PKG_TAG=v1.150.0
like "$out" "docker: backend buildx \(a Docker engine answers\)" "auto: engine -> buildx"
is "$(calls | head -1)" "version --format {{.Server.Version}}" "... asked with docker version (even under -n)"
rm "$T/engine"
vr -n publish PKG_TAG=v1.150.0
like "$out" "docker: backend oci \(no Docker engine\)" "auto: no engine -> oci"
like "$out" "docker: push docker.io/victoriametrics/victoria-metrics:v1.150.0 \(5 platforms, on alpine:3.24.1\)" \
  "... which would push the same names"
vr -n publish PKG_TAG=v1.150.0 DOCKER_BACKEND=podman
is "$rc" 2 "an unknown backend fails"
like "$err" "docker backend 'podman' is not auto, buildx or oci" "... saying so"

# project.docker is checked field by field
sed -i 's/namespace = "victoriametrics",/namespace = "victoriametrics", registires = {},/' vrun.lua
vr -n publish PKG_TAG=v1.150.0
is "$rc" 2 "an unknown project.docker field fails"
like "$err" "project.docker: unknown field 'registires'" "... naming it"
sed -i 's/registires = {},/scratch = "yes",/' vrun.lua
vr -n publish PKG_TAG=v1.150.0
like "$err" "project.docker.scratch must be a boolean" "a field of the wrong type fails"
mkdir "$T/q" && cd "$T/q"
cat >vrun.lua <<'EOS'
project { name = "x", platforms = { "linux/amd64" }, build = "true",
          archives = { { name = "x", binaries = { "x" } } },
          docker = "docker.io" }
include "docker"
EOS
vr -n publish PKG_TAG=v1.150.0
like "$err" "project: 'docker' must be a table" "project {} checks that docker is a table"

# image names read as Docker reads them
mkdir "$T/r" && cd "$T/r"
cat >vrun.lua <<'EOS'
task "refs" { modules = { "docker" }, run = function()
  local docker = require "docker"
  for _, n in ipairs { "alpine:3.20", "victoriametrics/vmagent:v1",
                       "quay.io/victoriametrics/vmagent:v1-scratch",
                       "localhost:5000/a/b", "127.0.0.1:5000/x",
                       "ghcr.io/o/r@sha256:" .. string.rep("a", 64) } do
    print(table.concat({ docker.ref(n) }, " "))
  end
  print(pcall(docker.ref, "Upper/Case:1"))
end }
EOS
vr refs
is "$out" "docker.io library/alpine 3.20
docker.io victoriametrics/vmagent v1
quay.io victoriametrics/vmagent v1-scratch
localhost:5000 a/b
127.0.0.1:5000 x
ghcr.io o/r
false	docker: invalid image reference 'Upper/Case:1'" \
  "image references: Docker's defaults, registries, ports, digests"

done_testing
