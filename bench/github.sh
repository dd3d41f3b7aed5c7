#!/usr/bin/env bash
# github.sh: GitHub asset upload, vrun vs the original make targets.
#  1. 40 archives of 10 MiB (+ their 40 small checksum files) to the local
#     GitHub peer: `vrun github-upload-assets` against the original's
#     one-sub-make-and-curl-per-file loop (make-targets.md 1.8, same
#     headers and flags), in the same run (target: vrun >= 2x faster);
#  2. vrun's peak RSS uploading one 1 GiB asset (target: <= 32 MiB).
# The peer runs without computing digests (--no-digest) so that it is not
# the bottleneck of either side. Run: VRUN=$PWD/vrun bench/github.sh, or
# via `make bench`.
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
: "${VRUN:=$PWD/vrun}"
N=${GH_BENCH_FILES:-40}
MIB=${GH_BENCH_MIB:-10}
W=$(mktemp -d "${TMPDIR:-/tmp}/vrun-bench-gh.XXXXXX")
PEER_PID=
trap '[ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null; rm -rf "$W"' EXIT
TOKEN=ghp_FAKEvrunBenchTokenNotReal

python3 "$TOP/tests/servers/github_api.py" --port-file "$W/port" \
  --token "$TOKEN" --repo vrun-bench/hello --no-digest >"$W/peer.log" 2>&1 &
PEER_PID=$!
for i in $(seq 1 100); do [ -s "$W/port" ] && break; sleep 0.05; done
API=http://127.0.0.1:$(cat "$W/port")
export GITHUB_API_URL=$API GITHUB_TOKEN=$TOKEN GITHUB_REPO=vrun-bench/hello
export GITHUB_RELEASE_FILE=$W/release.json

# -- the release set ---------------------------------------------------------
mkdir -p "$W/p/bin"
cd "$W/p"
echo 'include "github"' >vrun.lua
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$W/blob"
for i in $(seq 1 "$N"); do
  f=app$i-linux-amd64-vB.tar.gz
  # distinct content per file, without paying urandom 40 times
  { printf '%08d' "$i"; tail -c +9 "$W/blob"; } >bin/$f
  printf '%064d  %s\n' 0 "$f" >bin/app$i-linux-amd64-vB_checksums.txt
done

# create a draft release through the API; print its id and upload base
new_release() {
  python3 - "$API" "$TOKEN" "$1" <<'EOF'
import json, sys, urllib.request as u
api, tok, tag = sys.argv[1:4]
r = u.Request(api + "/repos/vrun-bench/hello/releases", method="POST",
    data=json.dumps({"tag_name": tag, "name": tag, "draft": True}).encode(),
    headers={"Authorization": "Bearer " + tok, "User-Agent": "bench",
             "X-GitHub-Api-Version": "2022-11-28",
             "Accept": "application/vnd.github+json",
             "Content-Type": "application/json"})
rel = json.load(u.urlopen(r))
print(rel["id"], rel["upload_url"].split("/repos/")[0])
EOF
}

# -- the original: one sub-make and one curl per file ------------------------
cat >"$W/Makefile.orig" <<'EOF'
GITHUB_DEBUG_FILE="$(W)/vm-github-debug"

github-upload-assets:
	@release_id=$(RELEASE_ID); \
	$(foreach file, $(wildcard bin/*.zip), FILE=$(file) RELEASE_ID=$${release_id} CONTENT_TYPE="application/zip" $(MAKE) -f $(W)/Makefile.orig github-upload-asset || exit 1;) \
	$(foreach file, $(wildcard bin/*.tar.gz), FILE=$(file) RELEASE_ID=$${release_id} CONTENT_TYPE="application/x-gzip" $(MAKE) -f $(W)/Makefile.orig github-upload-asset || exit 1;) \
	$(foreach file, $(wildcard bin/*_checksums.txt), FILE=$(file) RELEASE_ID=$${release_id} CONTENT_TYPE="text/plain" $(MAKE) -f $(W)/Makefile.orig github-upload-asset || exit 1;)

github-upload-asset:
	@printf "Uploading $(FILE)\n"
	@result=$$(curl -o $(GITHUB_DEBUG_FILE) -w "%{http_code}" \
		-X POST \
		-H "Accept: application/vnd.github+json" \
		-H "Authorization: token $(GITHUB_TOKEN)" \
		-H "Content-Type: $(CONTENT_TYPE)" \
		--data-binary "@$(FILE)" \
		$(UPLOADS)/repos/vrun-bench/hello/releases/$(RELEASE_ID)/assets?name=$(notdir $(FILE))); \
		if [ $${result} = 201 ]; then printf "Upload OK: $${result}\n"; \
		elif [ $${result} = 422 ]; then printf "Asset already uploaded, you need to delete it from UI if you want to re-upload it\n"; \
		else printf "Upload failed: $${result}\n"; cat $(GITHUB_DEBUG_FILE); exit 1; fi
EOF

now() { date +%s.%N; }
TOTAL=$(du -cb bin | tail -1 | cut -f1)
echo "== upload $N x $MIB MiB archives + $N checksum files ($TOTAL bytes)"

read -r RID UPLOADS < <(new_release vB-orig)
t0=$(now)
make -s -f "$W/Makefile.orig" github-upload-assets W="$W" RELEASE_ID="$RID" \
  UPLOADS="$UPLOADS" GITHUB_TOKEN="$TOKEN" >"$W/orig.out" 2>/dev/null
t1=$(now)
ORIG=$(echo "$t1 - $t0" | bc -l)
ok_orig=$(grep -c "Upload OK" "$W/orig.out" || true)

# the same requests from a bare shell loop, without make: what the curl
# calls alone cost
read -r RID2 UPLOADS < <(new_release vB-curl)
t0=$(now)
for f in bin/*.zip bin/*.tar.gz bin/*_checksums.txt; do
  [ -e "$f" ] || continue
  case $f in
    *.zip) ct=application/zip ;;
    *.tar.gz) ct=application/x-gzip ;;
    *) ct=text/plain ;;
  esac
  curl -s -o /dev/null -X POST -H "Accept: application/vnd.github+json" \
    -H "Authorization: token $TOKEN" -H "Content-Type: $ct" \
    --data-binary "@$f" \
    "$UPLOADS/repos/vrun-bench/hello/releases/$RID2/assets?name=${f#bin/}"
done
t1=$(now)
CURL=$(echo "$t1 - $t0" | bc -l)

# vrun spaces upload starts by GITHUB_PACE_MS (1 s by default, as GitHub
# asks of writes); the original loop does not pace at all. The ratio
# compares the transfer machinery (pacing off, like the original); the
# paced time is printed too.
"$VRUN" github-create-release TAG=vB GITHUB_PACE_MS=0 >/dev/null 2>&1
t0=$(now)
"$VRUN" github-upload-assets TAG=vB GITHUB_PACE_MS=0 >"$W/vrun.out" 2>&1
t1=$(now)
VR=$(echo "$t1 - $t0" | bc -l)
ok_vrun=$(grep -o "Uploaded [0-9]* assets" "$W/vrun.out" || true)
"$VRUN" github-create-release TAG=vP GITHUB_PACE_MS=0 >/dev/null 2>&1
for f in bin/*-vB*; do
  case $f in
    *_checksums.txt) sed 's/-vB/-vP/' "$f" >"${f/-vB/-vP}" ;;
    *) cp "$f" "${f/-vB/-vP}" ;;
  esac
done
t0=$(now)
"$VRUN" github-upload-assets TAG=vP >"$W/paced.out" 2>&1
t1=$(now)
PACED=$(echo "$t1 - $t0" | bc -l)
rm -f bin/*-vP*

printf 'original (make + curl per file): %6.2f s  (%s uploads OK)\n' "$ORIG" "$ok_orig"
printf 'bare curl loop (no make):        %6.2f s\n' "$CURL"
printf 'vrun github-upload-assets:       %6.2f s  (%s, concurrency %s)\n' \
  "$VR" "$ok_vrun" "${GITHUB_UPLOAD_CONCURRENCY:-4}"
printf 'vrun, paced 1 s per write:       %6.2f s  (the default, as GitHub asks)\n' "$PACED"
printf 'ratio: vrun is %.2fx faster than the original (target >= 2x), ' \
  "$(echo "$ORIG / $VR" | bc -l)"
printf '%.2fx faster than the bare curl loop\n' "$(echo "$CURL / $VR" | bc -l)"

echo "== peak RSS uploading one 1 GiB asset"
rm -rf bin && mkdir bin
truncate -s 1G bin/big-linux-amd64-vR.tar.gz
printf '%064d  %s\n' 0 big-linux-amd64-vR.tar.gz >bin/big-linux-amd64-vR_checksums.txt
"$VRUN" github-create-release TAG=vR GITHUB_PACE_MS=0 >/dev/null 2>&1
big_rc=0
/usr/bin/time -f '%M' -o "$W/rss" "$VRUN" github-upload-assets TAG=vR \
  >"$W/big.out" 2>"$W/big.err" || big_rc=$?
if [ "$big_rc" -ne 0 ]; then
  echo "the 1 GiB upload failed (exit $big_rc):"; cat "$W/big.err"
  exit 1
fi
grep -o "Uploaded [0-9]* assets ([0-9]* bytes)" "$W/big.out"
printf 'vrun peak RSS: %d KiB = %.1f MiB (target <= 32 MiB)\n' \
  "$(cat "$W/rss")" "$(echo "$(cat "$W/rss") / 1024" | bc -l)"
