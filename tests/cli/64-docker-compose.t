#!/usr/bin/env bash
# docker bump-compose (runbook step 10): image versions in compose files
# change, nothing else does (comments, quotes, layout, other images).
. "$(dirname "$0")/../lib/tap.sh"

mkdir -p "$T/p/deployment/docker" "$T/p/other"
cd "$T/p"
cp "$TOP"/tests/servers/registry/compose/*.yml deployment/docker/
cp deployment/docker/docker-compose.yml other/compose.yml
cat >vrun.lua <<'EOS'
project {
  name = "victoria-metrics", variants = { "", "-cluster" },
  platforms = { "linux/amd64" }, build = "true",
  archives = { { name = "victoria-metrics", binaries = { "victoria-metrics" } } },
  docker = {
    namespace = "victoriametrics",
    images = { [""] = { "victoria-metrics", "vmagent", "vmalert", "vmauth" },
               ["-cluster"] = { "vminsert", "vmselect", "vmstorage" } },
  },
}
include "release"
include "docker"
EOS
cp -r deployment/docker "$T/orig"

vr -n bump-compose TAG=v1.117.0
is "$rc" 0 "-n bump-compose exits 0"
diff -r "$T/orig" deployment/docker >/dev/null
is "$?" 0 "-n changes no file"
like "$out" "--- deployment/docker/docker-compose.yml" "-n shows a diff header"
like "$out" "@@ -22 \+22 @@
-    image: \"victoriametrics/victoria-metrics:v1.116.0\"   # pinned
\+    image: \"victoriametrics/victoria-metrics:v1.117.0\"   # pinned" \
  "-n shows each changed line, before and after"

vr bump-compose TAG=v1.117.0
is "$rc" 0 "bump-compose exits 0"
is "$(diff "$T/orig/docker-compose.yml" deployment/docker/docker-compose.yml)" \
"6c6
<     image: victoriametrics/vmagent:v1.116.0
---
>     image: victoriametrics/vmagent:v1.117.0
22c22
<     image: \"victoriametrics/victoria-metrics:v1.116.0\"   # pinned
---
>     image: \"victoriametrics/victoria-metrics:v1.117.0\"   # pinned
43c43
<     image: 'victoriametrics/vmalert:v1.116.0'
---
>     image: 'victoriametrics/vmalert:v1.117.0'" \
  "single-node file: only the three service image tags change (quotes and comment kept)"
is "$(diff "$T/orig/docker-compose-cluster.yml" deployment/docker/docker-compose-cluster.yml | grep '^>')" \
">     image: victoriametrics/vmagent:v1.117.0
>     image: victoriametrics/vmstorage:v1.117.0-cluster
>     image: &storage victoriametrics/vmstorage:v1.117.0-cluster
>     image: docker.io/victoriametrics/vminsert:v1.117.0-cluster
>     image: quay.io/victoriametrics/vmselect:v1.117.0-cluster
>   vmselect-2: {image: victoriametrics/vmselect:v1.117.0-cluster, restart: always}
>     image: victoriametrics/vmauth:v1.117.0" \
  "cluster file: -cluster suffixes, anchors, registries and flow style kept"
grep -q 'image=victoriametrics/vmalert:v1.116.0' deployment/docker/docker-compose.yml
is "$?" 0 "a flag that mentions an image is not a service image: unchanged"
grep -q '      image: victoriametrics/vmauth:v1.116.0' deployment/docker/docker-compose-cluster.yml
is "$?" 0 "a label named image is unchanged"
grep -q 'vmanomaly:v1.24.1' deployment/docker/docker-compose.yml &&
  grep -q 'grafana/grafana:12.0.2' deployment/docker/docker-compose.yml
is "$?" 0 "images of other projects (and vmanomaly's own versions) are unchanged"
is "$(cmp other/compose.yml "$T/orig/docker-compose.yml" && echo same)" same \
  "files outside the configured paths are untouched"

vr bump-compose TAG=v1.117.0
is "$rc" 0 "a second run exits 0"
like "$out" "bump-compose: every image is already at v1.117.0" "... and changes nothing"

sed -i 's|^  docker = {|  docker = { compose_files = { "other/compose.yml" },|' vrun.lua
vr bump-compose TAG=v1.118.0-rc1
is "$rc" 0 "configured compose_files"
like "$(grep 'vmagent:' other/compose.yml)" "vmagent:v1.118.0-rc1$" "... are bumped"

vr bump-compose
is "$rc" 2 "bump-compose without TAG fails"
vr bump-compose TAG=latest
is "$rc" 2 "bump-compose with TAG=latest fails"

printf 'services:\n  a:\n    image: [unclosed\n' >other/compose.yml
vr bump-compose TAG=v1.119.0
is "$rc" 2 "a broken compose file fails"
like "$err" "other/compose.yml:[0-9]+: " "... naming the file and line"

done_testing
