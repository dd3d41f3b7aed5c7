#!/usr/bin/env bash
# tasks/release.lua `release`: builds every platform, packs the archives
# and checksum files the original names, removes the raw binaries; PKG_TAG
# rules; project {} validation; -n changes nothing.
. "$(dirname "$0")/../lib/tap.sh"
cd "$T" || exit 1
export HOME="$T/home" GIT_CONFIG_NOSYSTEM=1 TZ=UTC
mkdir -p "$HOME"
unset SOURCE_DATE_EPOCH PKG_TAG TAG
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
printf 'leak:libpcre2-8.so\n' > "$T/lsan.supp"
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com
export GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.com
export GIT_COMMITTER_DATE="2024-01-02T03:04:05Z" GIT_AUTHOR_DATE="2024-01-02T03:04:05Z"

git init -q -b master p
cd p || exit 1
# A fake Go build: deterministic bytes per binary and platform, and a log
# of what it was asked (its env and its arguments).
cat > build.sh <<'EOF'
#!/bin/sh
set -e
os=$1 arch=$2 ext=
[ "$os" = windows ] && ext=.exe
mkdir -p bin
echo "$GOOS/$GOARCH $os/$arch" >> "$BUILD_LOG"
for b in hello hcat hls; do
  [ -n "${SKIP:-}" ] && [ "$SKIP" = "$b-$os" ] && continue
  yes "$b $os $arch" | head -c 30000 > "bin/$b-$os-$arch-prod$ext"
done
EOF
cat > vrun.lua <<'EOF'
project {
  name = "hello",
  platforms = { "linux/amd64", "linux/arm", "windows/amd64" },
  build = "sh ./build.sh $(GOOS) $(GOARCH)",
  archives = {
    { name = "hello", binaries = { "hello" } },
    { name = "hutils", binaries = { "hcat", "hls" } },
  },
}
include "release"
EOF
printf 'bin/\n' > .gitignore
git add . && git commit -qm first && git tag -a v1.0.0 -m v1.0.0
export BUILD_LOG="$T/build.log"

lsbin() { (cd bin 2>/dev/null && ls -A | tr '\n' ' '); }

vr --list
for t in preflight tag verify-tags release publish publish-release push-tags; do
  printf '%s\n' "$out" | grep -Eq "^ +$t +[A-Z]"
  ok $? "--list shows $t with its description"
done

vr release
is "$rc" 0 "release: exit 0"
is "$(cat "$BUILD_LOG" | tr '\n' ' ')" \
  "linux/amd64 linux/amd64 linux/arm linux/arm windows/amd64 windows/amd64 " \
  "build: once per platform, GOOS/GOARCH in the environment and in \$(GOOS)"
like "$out" "GOOS=linux GOARCH=amd64 sh ./build.sh linux amd64" \
  "build: the command is echoed"
is "$(lsbin)" "hello-linux-amd64-v1.0.0.tar.gz hello-linux-amd64-v1.0.0_checksums.txt hello-linux-arm-v1.0.0.tar.gz hello-linux-arm-v1.0.0_checksums.txt hello-windows-amd64-v1.0.0.zip hello-windows-amd64-v1.0.0_checksums.txt hutils-linux-amd64-v1.0.0.tar.gz hutils-linux-amd64-v1.0.0_checksums.txt hutils-linux-arm-v1.0.0.tar.gz hutils-linux-arm-v1.0.0_checksums.txt hutils-windows-amd64-v1.0.0.zip hutils-windows-amd64-v1.0.0_checksums.txt " \
  "bin/: the original's archive and checksum names; raw binaries removed"
is "$(tar tzf bin/hutils-linux-arm-v1.0.0.tar.gz | tr '\n' ' ')" "hcat-prod hls-prod " \
  "tar.gz: <binary>-prod members (-<os>-<arch> dropped)"
is "$(tar --numeric-owner -tvzf bin/hello-linux-amd64-v1.0.0.tar.gz | awk '{print $1, $2, $4, $5}')" \
  "-rwxr-xr-x 1000/1000 2024-01-02 03:04" \
  "tar.gz: owner 1000/1000, mode 0755, mtime = HEAD's commit time"
is "$(unzip -Z1 bin/hutils-windows-amd64-v1.0.0.zip | tr '\n' ' ')" \
  "hcat-windows-amd64-prod.exe hls-windows-amd64-prod.exe " \
  "zip: windows members keep their names"
h() { sha256sum | cut -d' ' -f1; }
want="$(h < bin/hutils-linux-amd64-v1.0.0.tar.gz)  hutils-linux-amd64-v1.0.0.tar.gz
$(yes "hcat linux amd64" | head -c 30000 | h)  hcat-prod
$(yes "hls linux amd64" | head -c 30000 | h)  hls-prod"
is "$(cat bin/hutils-linux-amd64-v1.0.0_checksums.txt)" "$want" \
  "checksums (tar.gz): archive line, then the renamed binaries"
want="$(h < bin/hello-windows-amd64-v1.0.0.zip)  hello-windows-amd64-v1.0.0.zip
$(yes "hello windows amd64" | head -c 30000 | h)  hello-windows-amd64-prod.exe"
is "$(cat bin/hello-windows-amd64-v1.0.0_checksums.txt)" "$want" \
  "checksums (zip): archive line, then the .exe under its own name"
mkdir -p "$T/x" && cp bin/hutils-linux-arm-v1.0.0* "$T/x/" &&
  (cd "$T/x" && tar xzf hutils-linux-arm-v1.0.0.tar.gz &&
   sha256sum -c --quiet hutils-linux-arm-v1.0.0_checksums.txt)
ok $? "sha256sum -c passes next to the extracted archive"
mkdir -p "$T/z" && cp bin/hello-windows-amd64-v1.0.0* "$T/z/" &&
  (cd "$T/z" && unzip -q hello-windows-amd64-v1.0.0.zip &&
   sha256sum -c --quiet hello-windows-amd64-v1.0.0_checksums.txt)
ok $? "sha256sum -c passes next to the extracted zip"

mkdir -p "$T/first" && cp bin/* "$T/first/"
rm -rf bin
vr release
same=0
for f in "$T"/first/*; do cmp -s "$f" "bin/${f##*/}" && same=$((same + 1)); done
is "$same" 12 "rebuild: every archive and checksum file byte-identical"

vr release SOURCE_DATE_EPOCH=86400
is "$(tar --numeric-owner -tvzf bin/hello-linux-amd64-v1.0.0.tar.gz | awk '{print $4, $5}')" \
  "1970-01-02 00:00" "SOURCE_DATE_EPOCH beats the commit time"

# --- PKG_TAG ------------------------------------------------------------------
rm -rf bin
git tag pmm-6401-v1.0.0
: > "$BUILD_LOG"
vr release
is "$rc" 2 "several tags at HEAD: exit 2"
like "$err" "several tags point at HEAD \(pmm-6401-v1.0.0, v1.0.0\): pass PKG_TAG=<one of them>" \
  "several tags at HEAD: names them"
is "$(lsbin)$(cat "$BUILD_LOG")" "" "several tags at HEAD: nothing built"
vr release PKG_TAG=v1.0.0
is "$rc" 0 "several tags, PKG_TAG given: exit 0"
test -f bin/hello-linux-amd64-v1.0.0.tar.gz
ok $? "PKG_TAG names the archives"
git tag -d pmm-6401-v1.0.0 >/dev/null
echo more > more.txt && git add more.txt && git commit -qm more
rm -rf bin
vr release
is "$rc" 2 "no tag at HEAD: exit 2"
like "$err" "no tag points at HEAD: check out a release tag or pass PKG_TAG=\.\.\." \
  "no tag at HEAD: says what to do"
vr release PKG_TAG="a b"
is "$rc" 2 "PKG_TAG with a space: exit 2"
git tag v1.0.1

# --- a build that does not make a binary ---------------------------------------
vr release SKIP=hls-linux
is "$rc" 2 "missing binary: exit 2"
like "$err" "the build did not make bin/hls-linux-amd64-prod, bin/hls-linux-arm-prod" \
  "missing binary: names the files"
unlike "$(lsbin)" "\.tar\.gz|\.zip" "missing binary: no archive written"

# --- -n -----------------------------------------------------------------------
rm -rf bin
mkdir bin && echo keep > bin/keep
before=$(ls -la --time-style=full-iso bin; git status --porcelain; git for-each-ref)
vr -n release
after=$(ls -la --time-style=full-iso bin; git status --porcelain; git for-each-ref)
is "$rc" 0 "-n release: exit 0"
is "$after" "$before" "-n release: bin/, the tree and the refs unchanged"
like "$out" "GOOS=windows GOARCH=amd64 sh ./build.sh windows amd64" \
  "-n release: build commands printed"
like "$out" "archive: would create bin/hutils-linux-arm-v1.0.1.tar.gz" \
  "-n release: each archive printed"
like "$out" "  hls-prod <- bin/hls-linux-arm-prod \(not built yet\)" \
  "-n release: with its contents"
like "$out" "archive: would write bin/hello-windows-amd64-v1.0.1_checksums.txt:" \
  "-n release: each checksum file printed"

# --- project {} is checked when the file loads ----------------------------------
cat > "$T/bad1.lua" <<'EOF'
project {
  name = "hello",
  platfroms = { "linux/amd64" },
  build = "true",
  archives = { { name = "hello", binaries = { "hello" } } },
}
EOF
cat > "$T/bad2.lua" <<'EOF'
project {
  name = "hello",
  platforms = { "linux/amd64", "linux-arm64" },
  build = "true",
  archives = { { name = "hello", binaries = { "hello" } } },
}
EOF
cat > "$T/bad3.lua" <<'EOF'
project {
  name = "hello",
  variants = { "", "-enterprise" },
  platforms = { "linux/amd64" },
  build = "true",
  archives = { { name = "hello", binaries = { "hello" } } },
}
EOF
vr -f "$T/bad1.lua" --list
is "$rc" 2 "typo'd field: exit 2"
like "$err" "bad1.lua:1: project: unknown field 'platfroms' \(did you mean 'platforms'\?\)" \
  "typo'd field: named, with a suggestion"
vr -f "$T/bad2.lua" --list
is "$rc" 2 "platform not os/arch: exit 2"
like "$err" "project: 'platforms'\[2\] = \"linux-arm64\" is not \"os/arch\"" \
  "platform not os/arch: named"
vr -f "$T/bad3.lua" --list
like "$err" "project: 'private_remote' is required: variant \"-enterprise\" is private" \
  "enterprise variant without a private remote: refused"

done_testing
