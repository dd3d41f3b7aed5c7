# 5-github.bash: helpers shared by the tests/cli/5*-github*.t scripts.
# Source it after tests/lib/tap.sh.
# SPDX-License-Identifier: MIT

# Obviously fake; the tests prove it never shows up in any output.
GH_TOKEN_FAKE=ghp_FAKEvrunTestTokenNotReal
GH_REPO=vrun-test/hello
TAG=v1.2.3

# gh_start [PEER ARGS...]: start the GitHub peer, point vrun at it.
gh_start() {
  start_server gh python3 "$TOP/tests/servers/github_api.py" \
    --log "$T/gh.jsonl" --token "$GH_TOKEN_FAKE" --repo "$GH_REPO" "$@"
  API=http://127.0.0.1:$gh_PORT
  export GITHUB_API_URL=$API GITHUB_TOKEN=$GH_TOKEN_FAKE
  export GITHUB_RELEASE_FILE=$T/release.json GITHUB_PACE_MS=0
  export VRUN_HTTP_TIME_SCALE=0.001
  : >"$T/gh.jsonl"
}

# ctl JSON: arm a fault or change the peer's state.
ctl() {
  python3 -c 'import sys, urllib.request as u
u.urlopen(u.Request(sys.argv[1] + "/_control", data=sys.argv[2].encode()),
          timeout=10).read()' "$API" "$1"
}

# q PYEXPR: print a Python expression over the peer's state: s (the
# /_state JSON), rels (s["releases"]), L (the request log entries).
q() {
  python3 - "$API" "$T/gh.jsonl" "$1" <<'EOF'
import json, sys, urllib.request
s = json.load(urllib.request.urlopen(sys.argv[1] + "/_state", timeout=10))
rels = s["releases"]
L = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
def assets(r):
    return sorted((a["name"], a["state"], a["size"]) for a in r["assets"])
print(eval(sys.argv[3]))
EOF
}

# gh_project DIR [VARIANTS]: a project whose bin/ holds the release set of
# $TAG (2 archives x 8 platforms x variants x 2 files), plus stale files
# that must never be sent, and a CHANGELOG.
gh_project() {
  local dir=$1 variants=${2:-'"", "-cluster"'}
  mkdir -p "$dir/bin" "$dir/docs"
  cat >"$dir/vrun.lua" <<EOF
project {
  name = "hello",
  github = "$GH_REPO",
  variants = { $variants },
  platforms = { "linux/amd64", "linux/arm64", "linux/386", "linux/arm",
                "darwin/amd64", "darwin/arm64", "freebsd/amd64",
                "windows/amd64" },
  build = "true",
  archives = { { name = "hello", binaries = { "hello" } },
               { name = "hellotools", binaries = { "ha", "hb" } } },
}
include "github"
EOF
  python3 - "$dir" "$TAG" "$variants" <<'EOF'
import hashlib, os, random, sys
d, tag, variants = sys.argv[1], sys.argv[2], eval("[" + sys.argv[3] + "]")
rng = random.Random(5)
plats = ["linux/amd64", "linux/arm64", "linux/386", "linux/arm",
         "darwin/amd64", "darwin/arm64", "freebsd/amd64", "windows/amd64"]
def put(name, data):
    with open(os.path.join(d, "bin", name), "wb") as f:
        f.write(data)
def release(pkg):
    for a in ("hello", "hellotools"):
        for p in plats:
            os_, arch = p.split("/")
            base = "%s-%s-%s-%s" % (a, os_, arch, pkg)
            ext = ".zip" if os_ == "windows" else ".tar.gz"
            data = rng.randbytes(rng.randint(1000, 40000))
            put(base + ext, data)
            put(base + "_checksums.txt", (
                "%s  %s\n%s  %s-prod\n" % (hashlib.sha256(data).hexdigest(),
                base + ext, hashlib.sha256(data[:99]).hexdigest(), a)
            ).encode())
for v in variants:
    release(tag + v)
# stale: an older tag, a stray file
put("hello-linux-amd64-v1.2.2.tar.gz", b"old")
put("hello-linux-amd64-v1.2.2_checksums.txt", b"0" * 64 + b"  x\n")
put("hello-linux-amd64-%s-rc1.tar.gz" % tag, b"rc")
put("notes.txt", b"stray")
EOF
  cat >"$dir/docs/CHANGELOG.md" <<EOF
# Changelog

## tip

* FEATURE: not released yet

## [$TAG](https://github.com/$GH_REPO/releases/tag/$TAG)

Released at 2026-11-26

* FEATURE: hello says hello.
* BUGFIX: no more typos.

## [v1.2.2](https://github.com/$GH_REPO/releases/tag/v1.2.2)

* old notes
EOF
}

# The expected asset names of gh_project's release set, sorted.
gh_expected() {
  (cd "$1/bin" && ls | grep -E -- "-$TAG(-cluster)?(\.tar\.gz|\.zip|_checksums\.txt)$" | sort)
}

# Every byte vrun printed in this test, for the token scan.
gh_all_out() {
  cat "$T"/all.out 2>/dev/null
}

# vg ARGS: run vrun (like vr) in $P and keep every output for the scan.
vg() {
  pushd "$P" >/dev/null || return 1
  vr "$@"
  popd >/dev/null || return 1
  { printf '%s\n' "$out"; printf '%s\n' "$err"; } >>"$T/all.out"
}
