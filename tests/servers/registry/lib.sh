# lib.sh: helpers for the docker tests (source after tests/lib/tap.sh).
# SPDX-License-Identifier: MIT
#
#   reg_start NAME [registry_proxy.py args...]   registry + recording proxy;
#                                                sets ${NAME}_PORT
#   reg_push_root PORT [--docker] [CREDS]        root image fixture ->
#                                                PORT/library/alpine:3.20
#                                                (--docker: schema 2 types)
#   mk_project DIR PORT [DOCKER_FIELDS]          a vrun.lua with two images
#   uploads NAME                                 blob upload requests so far
#   skopeo_raw REF                               the manifest, as stored
RS="$TOP/tests/servers"
command -v docker-registry >/dev/null && command -v skopeo >/dev/null || {
  echo "1..0 # SKIP docker-registry or skopeo is not installed"; exit 0; }

reg_start() {
  local name=$1; shift
  mkdir -p "$T/$name"
  start_server "$name" python3 "$RS/registry_proxy.py" --root "$T/$name" \
    --log "$T/$name.access" "$@"
}

reg_push_root() {
  local port=$1 fmt=() creds=()
  shift
  if [ "${1:-}" = --docker ]; then fmt=(--format v2s2); shift; fi
  [ $# -gt 0 ] && creds=(--dest-creds "$1")
  [ -d "$T/root-oci" ] || python3 "$RS/registry/make_root_oci.py" \
    "$T/root-oci" 3.20
  skopeo copy -q --all --dest-tls-verify=false "${fmt[@]}" "${creds[@]}" \
    "oci:$T/root-oci:3.20" "docker://127.0.0.1:$port/library/alpine:3.20"
}

# A project whose `build` writes bin/<image>-<os>-<arch>-prod for the
# images app and appctl, the same bytes on every call.
mk_project() {
  local dir=$1 port=$2 extra=${3:-}
  mkdir -p "$dir"
  [ -f "$T/seed" ] || head -c 300000 /dev/urandom >"$T/seed"
  [ -f "$T/ca.crt" ] || printf -- '-----BEGIN CERTIFICATE-----\nFAKE\n-----END CERTIFICATE-----\n' >"$T/ca.crt"
  cat >"$dir/mkbin.sh" <<EOS
#!/bin/sh
mkdir -p bin
for img in app appctl; do
  { printf '\177ELF %s %s %s\n' "\$img" "\$1" "\$2"; cat "$T/seed"; } \\
    >"bin/\$img-\$1-\$2-prod"
done
EOS
  cat >"$dir/vrun.lua" <<EOS
project {
  name = "app", github = "acme/app", platforms = { "linux/amd64" },
  build = "sh mkbin.sh \$(GOOS) \$(GOARCH)",
  archives = { { name = "app", binaries = { "app" } } },
  docker = {
    registries = { "127.0.0.1:$port" }, namespace = "acme",
    images = { "app", "appctl" }, backend = "oci",
    root_image = "127.0.0.1:$port/library/alpine:3.20",
    ports = { app = "8428" }, ca_certs = "$T/ca.crt",
    $extra
  },
}
include "release"
include "docker"
EOS
}

# The expected binaries, made by the same script in a separate folder.
mk_expected() {
  local dir=$1 a
  mkdir -p "$T/expected"
  for a in amd64 arm arm64 ppc64le 386; do
    (cd "$T/expected" && sh "$dir/mkbin.sh" linux $a)
  done
}

uploads() {
  grep -Ec '^(POST|PUT|PATCH) /v2/[^ ]*/blobs/uploads/' "$T/$1.access"
}

skopeo_raw() {
  skopeo inspect --raw --tls-verify=false "docker://$1"
}

# Copy REF to an OCI layout and describe it (inspect_layout.py).
layout_of() {
  local ref=$1 image=$2 out
  out="$T/layout.$RANDOM"
  skopeo copy -q --all --src-tls-verify=false "docker://$ref" "oci:$out:x" &&
    python3 "$RS/registry/inspect_layout.py" "$out" "$T/expected/bin" \
      "$image" "$T/ca.crt"
}
