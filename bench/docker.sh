#!/usr/bin/env bash
# bench/docker.sh: vrun's daemonless image publishing against skopeo.
# SPDX-License-Identifier: MIT
#
#   VRUN=./vrun bench/docker.sh        (make bench runs it)
#
# Two local docker-registry instances (Debian's), a small multi-platform
# root image on the first. An image set of IMAGES (default 8) images x 5
# platforms, each binary ~BIN_MIB (default 30) MiB sliced from this
# machine's Go binaries (docker-registry, skopeo), so they compress like
# real ones.
#  1. `vrun publish` (oci backend: build every layer, push) to registry A.
#     The project's `build` hard-links the prepared binaries into bin/, so
#     what is timed is the image work, not a compiler.
#  2. `skopeo copy --all` of the same 8 images from registry A to B: no
#     build at all, only the transfer. Target: (1) <= 1.5x (2).
#  3. `vrun publish` again, unchanged: target 0 layer bytes sent (counted
#     in the registry's access log: no blob upload request at all).
# Best of RUNS (default 1; each run pushes to fresh registries).
set -eu
: "${VRUN:?set VRUN to the vrun binary}"
RUNS=${RUNS:-1}
IMAGES=${IMAGES:-8}
BIN_MIB=${BIN_MIB:-30}
TOP=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/vrun-bench-docker.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
MIB=$((1024 * 1024))
PLATS="linux/amd64 linux/arm linux/arm64 linux/ppc64le linux/386"

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# registry NAME: start docker-registry with an access log; sets PORT.
registry() {
  local name=$1 i
  mkdir -p "$W/$name"
  PORT=$(free_port)
  cat > "$W/$name/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $W/$name/data
http:
  addr: 127.0.0.1:$PORT
  secret: bench-secret-FAKE
EOF
  docker-registry serve "$W/$name/config.yml" > "$W/$name/access.log" 2>&1 &
  pids+=($!)
  for i in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/v2/" > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: docker-registry $name did not start" >&2
  exit 1
}

blob_uploads() {
  grep -c '"PUT /v2/[^ ]*/blobs/uploads/' "$1" || true
}

# Binary data: Go binaries of this machine, concatenated.
src="$W/src.bin"
cat /usr/bin/docker-registry /usr/bin/skopeo > "$src"
srcmib=$(( $(stat -c %s "$src") / MIB ))
mkdir -p "$W/data"
images=""
n=0
for i in $(seq 1 "$IMAGES"); do
  img="app$i"
  images="$images \"$img\","
  for p in $PLATS; do
    n=$((n + 1))
    # a different slice (and a trailer) for every binary
    { dd if="$src" bs=$MIB skip=$((n % (srcmib - BIN_MIB + 1))) \
        count="$BIN_MIB" status=none
      printf '%s %s\n' "$img" "$p"; } > "$W/data/$img-${p%/*}-${p#*/}-prod"
  done
done
total=$(du -sm "$W/data" | cut -f1)
python3 "$TOP/tests/servers/registry/make_root_oci.py" "$W/root" 3.20

best_vrun=""
best_skopeo=""
for run in $(seq 1 "$RUNS"); do
  registry "a$run"; A=$PORT
  registry "b$run"; B=$PORT
  skopeo copy -q --all --dest-tls-verify=false "oci:$W/root:3.20" \
    "docker://127.0.0.1:$A/library/alpine:3.20"
  mkdir -p "$W/proj$run"
  cat > "$W/proj$run/vrun.lua" <<EOF
project {
  name = "app", platforms = { "linux/amd64" },
  build = "mkdir -p bin && cp -fl $W/data/*-\$(GOOS)-\$(GOARCH)-prod bin/",
  archives = { { name = "app", binaries = { "app1" } } },
  docker = {
    registries = { "127.0.0.1:$A" }, namespace = "bench",
    images = { $images }, backend = "oci", scratch = false,
    root_image = "127.0.0.1:$A/library/alpine:3.20",
  },
}
include "release"
include "docker"
EOF
  cd "$W/proj$run"
  t0=$(now)
  # -v for the timing lines; its warnings (the task override) go aside
  "$VRUN" -v publish PKG_TAG=v1.0.0 > "$W/vrun$run.out" 2> "$W/vrun$run.err" ||
    { cat "$W/vrun$run.err" >&2; exit 1; }
  t1=$(now)
  tv=$(sub "$t0" "$t1")
  up1=$(blob_uploads "$W/a$run/access.log")
  # where the time went: pushing, and waiting for layers to be built
  push=$(sed -n 's/.* layers pushed in \([0-9.]*\) s.*/\1/p' \
         "$W/vrun$run.out" | awk '{ s += $1 } END { printf "%.2f", s }')
  build=$(sed -n 's/.*, \([0-9.]*\) s of it waiting.*/\1/p' \
          "$W/vrun$run.out" | awk '{ s += $1 } END { printf "%.2f", s }')

  t0=$(now)
  for i in $(seq 1 "$IMAGES"); do
    skopeo copy -q --all --src-tls-verify=false --dest-tls-verify=false \
      "docker://127.0.0.1:$A/bench/app$i:v1.0.0" \
      "docker://127.0.0.1:$B/bench/app$i:v1.0.0"
  done
  t1=$(now)
  ts=$(sub "$t0" "$t1")

  "$VRUN" publish PKG_TAG=v1.0.0 > "$W/vrun$run.again"
  up2=$(blob_uploads "$W/a$run/access.log")
  again=$((up2 - up1))
  bytes=$(grep -o '([0-9]* bytes)' "$W/vrun$run.again" |
          tr -dc '0-9\n' | awk '{ s += $1 } END { print s + 0 }')
  echo "run $run: vrun publish ${tv}s (push ${push}s, ${build}s of it" \
       "waiting for layers;" \
       "$up1 blob uploads), skopeo copy ${ts}s; re-publish: $again blob" \
       "uploads, $bytes bytes"
  if [ -z "$best_vrun" ] || awk -v a="$tv" -v b="$best_vrun" \
       'BEGIN { exit !(a < b) }'; then best_vrun=$tv; fi
  if [ -z "$best_skopeo" ] || awk -v a="$ts" -v b="$best_skopeo" \
       'BEGIN { exit !(a < b) }'; then best_skopeo=$ts; fi
  cd "$TOP"
done

r=$(ratio "$best_vrun" "$best_skopeo")
echo "docker: $IMAGES images x 5 platforms, ${total} MiB of binaries"
echo "docker: vrun publish ${best_vrun}s vs skopeo copy ${best_skopeo}s:" \
     "${r}x (target <= 1.5x)"
echo "docker: re-publish uploads $again blobs, $bytes bytes (target 0)"
awk -v r="$r" 'BEGIN { exit !(r <= 1.5) }' && [ "$again" -eq 0 ] &&
  [ "$bytes" -eq 0 ]
