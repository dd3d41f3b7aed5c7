#!/usr/bin/env bash
# tasks/release.lua across variants: preflight, tag (signed, throwaway
# GPG key), verify-tags, publish-release (restores the checkout, also
# after a failure; -n changes nothing), push-tags (enterprise tags never
# go to the public remote).
. "$(dirname "$0")/../lib/tap.sh"
cd "$T" || exit 1
export HOME="$T/home" GIT_CONFIG_NOSYSTEM=1 GNUPGHOME="$T/gnupg" TZ=UTC
mkdir -p "$HOME" && mkdir -m 700 "$GNUPGHOME"
trap 'gpgconf --kill all >/dev/null 2>&1; _tap_cleanup' EXIT
unset SOURCE_DATE_EPOCH PKG_TAG TAG GITHUB_TOKEN
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
printf 'leak:libpcre2-8.so\n' > "$T/lsan.supp"
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com
export GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.com
export BUILD_LOG="$T/build.log"

if ! gpg --batch --passphrase '' --quick-gen-key 'Test Key <t@example.com>' \
     ed25519 sign never >/dev/null 2>&1; then
  echo "1..0 # SKIP gpg cannot make a key here"
  exit 0
fi
FPR=$(gpg --list-secret-keys --with-colons 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')

git init -q --bare pub.git
git init -q --bare ent.git
git init -q -b master p
cd p || exit 1
git config user.signingkey "$FPR"
cat > build.sh <<'EOF'
#!/bin/sh
set -e
mkdir -p bin
[ -f BREAK ] && { echo "build broken on this branch" >&2; exit 3; }
echo "$(cat flavour) $1/$2" >> "$BUILD_LOG"
yes "hello $(cat flavour) $1 $2" | head -c 20000 > "bin/hello-$1-$2-prod"
EOF
cat > vrun.lua <<'EOF'
project {
  name = "hello",
  variants = { "", "-cluster", "-enterprise" },
  branches = { [""] = "master", ["-cluster"] = "cluster",
               ["-enterprise"] = "enterprise" },
  public_remote = "origin", private_remote = "enterprise",
  platforms = { "linux/amd64", "linux/arm64" },
  build = "sh ./build.sh $(GOOS) $(GOARCH)",
  archives = { { name = "hello", binaries = { "hello" } } },
  security_check = "sh ./check.sh",
}
include "release"
EOF
echo 'exit 0' > check.sh
echo single > flavour
printf 'bin/\n' > .gitignore
git add . && git commit -qm single
git checkout -qb cluster && echo cluster > flavour && git commit -qam cluster
git checkout -qb enterprise && echo enterprise > flavour &&
  git commit -qam enterprise
git checkout -q master
git remote add origin ../pub.git
git remote add enterprise "file://$T/ent.git"

state() {
  git for-each-ref --format='%(refname) %(objectname)'
  git symbolic-ref -q HEAD || git rev-parse HEAD
  git status --porcelain
  ls -la --time-style=full-iso bin 2>&1
}

# --- preflight ------------------------------------------------------------------
vr preflight TAG=v1.2.0 GITHUB_TOKEN=ghp_FAKEtoken
is "$rc" 0 "preflight, all good: exit 0"
is "$(printf '%s\n' "$out" | grep -c '^preflight: ok ')" 7 \
  "preflight: seven checks ok"
unlike "$out$err" "ghp_FAKEtoken" "preflight: the token is never printed"
git remote remove enterprise
echo dirty >> flavour
echo 'exit 1' > check.sh
vr preflight TAG=1.2
is "$rc" 2 "preflight with problems: exit 2"
like "$out" "preflight: FAIL  private remote 'enterprise' is configured; fix: git remote add enterprise <url>" \
  "preflight: missing private remote, with the fix"
like "$out" "preflight: FAIL  GITHUB_TOKEN is set; fix: export GITHUB_TOKEN=" \
  "preflight: missing token, with the fix"
like "$out" "preflight: FAIL  the work tree is clean; fix: commit or stash: (check.sh, flavour|flavour)" \
  "preflight: dirty tree, with the files"
like "$out" "preflight: FAIL  TAG=1.2 is a release version; fix: pass TAG=vMAJOR.MINOR.PATCH" \
  "preflight: TAG not a version"
like "$out" "preflight: FAIL  security check passes \(sh ./check.sh\)" \
  "preflight: failing security check"
like "$out" "preflight: ok    public remote 'origin' is configured" \
  "preflight: passing checks still say ok"
like "$err" "preflight: 5 checks failed" "preflight: counts the failures"
git checkout -q -- flavour check.sh
git remote add enterprise "file://$T/ent.git"

# --- tag / verify-tags ------------------------------------------------------------
vr tag TAG=1.2
is "$rc" 2 "tag with a bad TAG: exit 2"
like "$err" "TAG=1.2 is not a release version" "tag: TAG checked"
vr -n tag TAG=v1.2.0
is "$(git tag -l)" "" "tag -n: no tag made"
like "$out" "git tag -s -m v1.2.0-enterprise -- v1.2.0-enterprise $(git rev-parse enterprise)" \
  "tag -n: prints each git tag -s"
vr tag TAG=v1.2.0
is "$rc" 0 "tag: exit 0"
is "$(git tag -l | tr '\n' ' ')" "v1.2.0 v1.2.0-cluster v1.2.0-enterprise " \
  "tag: TAG<variant> for every variant"
good=0
for v in "master:" "cluster:-cluster" "enterprise:-enterprise"; do
  b=${v%%:*} s=${v#*:}
  [ "$(git rev-parse "v1.2.0$s^{commit}")" = "$(git rev-parse "$b")" ] &&
    [ "$(git cat-file -t "v1.2.0$s")" = tag ] &&
    git cat-file -p "v1.2.0$s" | grep -q -- '-----BEGIN PGP SIGNATURE-----' &&
    good=$((good + 1))
done
is "$good" 3 "tag: each annotated, signed, on its variant's branch"
vr tag TAG=v1.2.0
is "$rc" 0 "tag again: exit 0 (nothing to do)"
like "$out" "tag: v1.2.0-cluster already points at cluster" "tag again: says so"
vr verify-tags TAG=v1.2.0
is "$rc" 0 "verify-tags: exit 0"
is "$(printf '%s\n' "$out" | grep -c '^verify-tags: ok ')" 3 "verify-tags: 3 ok"

git checkout -q cluster && echo more >> flavour && git commit -qam more &&
  git checkout -q master
before=$(git tag -l)
vr tag TAG=v1.2.0
is "$rc" 2 "tag pointing elsewhere: exit 2"
like "$err" "tag v1.2.0-cluster exists and points at [0-9a-f]{10}, not at cluster \([0-9a-f]{10}\)" \
  "tag pointing elsewhere: refused"
git tag -a v1.3.0 -m x master
git tag v1.3.0-cluster master
vr tag TAG=v1.3.0
is "$rc" 2 "tag: one variant's tag elsewhere: exit 2"
is "$(git tag -l 'v1.3.0*' | tr '\n' ' ')" "v1.3.0 v1.3.0-cluster " \
  "tag: refused before creating any"
vr verify-tags TAG=v1.3.0
is "$rc" 2 "verify-tags with bad tags: exit 2"
like "$out" "verify-tags: FAIL  v1.3.0: not signed" "verify-tags: unsigned"
like "$out" "verify-tags: FAIL  v1.3.0-cluster: not annotated" \
  "verify-tags: lightweight"
like "$out" "verify-tags: FAIL  v1.3.0-enterprise: missing" "verify-tags: missing"

# --- publish-release --------------------------------------------------------------
mkdir -p bin && echo stale > bin/stale.tar.gz
before=$(state)
vr -n publish-release TAG=v1.2.0
is "$rc" 0 "-n publish-release: exit 0"
is "$(state)" "$before" "-n publish-release: refs, HEAD, tree and bin/ unchanged"
is "$(cat "$BUILD_LOG" 2>/dev/null)" "" "-n publish-release: nothing built"
for s in "rm -rf bin/\*" \
  "git: would check out v1.2.0 \(" "git: would check out v1.2.0-cluster \(" \
  "git: would check out v1.2.0-enterprise \(" \
  "GOOS=linux GOARCH=arm64 sh ./build.sh linux arm64" \
  "archive: would create bin/hello-linux-amd64-v1.2.0-enterprise.tar.gz" \
  "archive: would write bin/hello-linux-arm64-v1.2.0-cluster_checksums.txt:" \
  "  <sha256>  hello-prod" "publish: nothing to publish yet" \
  "git: would check out master \("; do
  like "$out" "$s" "-n publish-release plan: $s"
done

vr publish-release TAG=v1.2.0
is "$rc" 0 "publish-release: exit 0"
is "$(ls bin | grep -c '\.tar\.gz$') $(ls bin | grep -c '_checksums\.txt$')" "6 6" \
  "publish-release: 3 variants x 2 platforms, archives + checksums"
test ! -e bin/stale.tar.gz
ok $? "publish-release: bin/ cleaned once at the start"
is "$(tar xzOf bin/hello-linux-arm64-v1.2.0-enterprise.tar.gz hello-prod | head -1)" \
  "hello enterprise linux arm64" "publish-release: each variant built from its tag"
is "$(tr '\n' ' ' < "$BUILD_LOG")" \
  "single linux/amd64 single linux/arm64 cluster linux/amd64 cluster linux/arm64 enterprise linux/amd64 enterprise linux/arm64 " \
  "publish-release: variants in order"
is "$(git symbolic-ref HEAD)" "refs/heads/master" \
  "publish-release: back on the starting branch"

# a variant whose build fails: the checkout is still restored
git tag -d v1.2.0-cluster >/dev/null
git checkout -q cluster && git reset -q --hard HEAD~1 && touch BREAK &&
  git add BREAK && git commit -qm broken && git tag -s -m x v1.2.0-cluster &&
  git checkout -q master
: > "$BUILD_LOG"
vr publish-release TAG=v1.2.0
is "$rc" 2 "publish-release with a failing build: exit 2"
like "$err" "build broken on this branch" "the build's error is shown"
is "$(git symbolic-ref HEAD)" "refs/heads/master" \
  "failing publish-release: back on the starting branch"
is "$(tr '\n' ' ' < "$BUILD_LOG")" "single linux/amd64 single linux/arm64 " \
  "failing publish-release: stopped at the failing variant"
is "$(git status --porcelain)" "" "failing publish-release: tree clean"

# a failing publish (an invoked task): the checkout is still restored,
# because the failure is raised inside publish-release's pcall
cat > "$T/failpub.lua" <<EOF
include "$PWD/vrun.lua"
task "publish" { run = function() sh "exit 7" end }
EOF
: > "$BUILD_LOG"
vr -f "$T/failpub.lua" publish-release TAG=v1.2.0
is "$rc" 2 "publish-release with a failing publish: exit 2"
like "$err" "\[publish\] Error 7" "the publish failure is shown"
is "$(git symbolic-ref HEAD)" "refs/heads/master" \
  "failing publish: back on the starting branch"
is "$(tr '\n' ' ' < "$BUILD_LOG")" "single linux/amd64 single linux/arm64 " \
  "failing publish: stopped after the first variant's publish"
is "$(git status --porcelain)" "" "failing publish: tree clean"

vr publish-release TAG=v9.9.9
is "$rc" 2 "publish-release, missing tags: exit 2"
like "$err" "missing tags v9.9.9, v9.9.9-cluster, v9.9.9-enterprise" \
  "publish-release: names the missing tags"
echo x >> flavour
vr publish-release TAG=v1.2.0
is "$rc" 2 "publish-release, dirty tree: exit 2"
like "$err" "the work tree has local changes \(flavour\)" \
  "publish-release: dirty tree refused"
git checkout -q -- flavour

# --- push-tags ---------------------------------------------------------------------
vr -n push-tags TAG=v1.2.0
is "$rc" 0 "-n push-tags: exit 0"
is "$(git -C ../pub.git for-each-ref)$(git -C ../ent.git for-each-ref)" "" \
  "-n push-tags: nothing pushed"
like "$out" "git: would push refs/tags/v1.2.0-enterprise:refs/tags/v1.2.0-enterprise to enterprise" \
  "-n push-tags: the plan"
vr push-tags TAG=v1.2.0
is "$rc" 0 "push-tags: exit 0"
is "$(git -C ../pub.git for-each-ref --format='%(refname)' | tr '\n' ' ')" \
  "refs/tags/v1.2.0 refs/tags/v1.2.0-cluster " \
  "push-tags: public tags on the public remote, no enterprise one"
is "$(git -C ../ent.git for-each-ref --format='%(refname)' | tr '\n' ' ')" \
  "refs/tags/v1.2.0-enterprise " "push-tags: enterprise tag on the private remote"

for s in "" -cluster -enterprise; do git tag -a -m x "v2.0.0-enterprise$s" master; done
before=$(git -C ../pub.git for-each-ref; git -C ../ent.git for-each-ref)
vr push-tags TAG=v2.0.0-enterprise
is "$rc" 2 "push-tags, enterprise tag bound for public: exit 2"
like "$err" "refusing to push v2.0.0-enterprise to the public remote 'origin': enterprise tags go only to 'enterprise'" \
  "push-tags: refused, named"
is "$(git -C ../pub.git for-each-ref; git -C ../ent.git for-each-ref)" "$before" \
  "push-tags refused: nothing pushed anywhere"
git remote set-url enterprise ../pub.git
vr push-tags TAG=v1.2.0
is "$rc" 2 "push-tags, private remote = public one: exit 2"
like "$err" "refusing to push v1.2.0-enterprise: the private remote 'enterprise' is the public one" \
  "push-tags: same URL refused"

done_testing
