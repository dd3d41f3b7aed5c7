#!/usr/bin/env bash
# git module against real repositories: state, tags (signed with a
# throwaway GPG key), dirty tree, checkout, remotes, push to bare repos.
. "$(dirname "$0")/../lib/tap.sh"
cd "$T" || exit 1
# no user or system git/gpg configuration leaks in
export HOME="$T/home" GIT_CONFIG_NOSYSTEM=1 GNUPGHOME="$T/gnupg"
mkdir -p "$HOME" && mkdir -m 700 "$GNUPGHOME"
trap 'gpgconf --kill all >/dev/null 2>&1; _tap_cleanup' EXIT
# libgit2 1.5 leaks a PCRE2 match block per non-matching config regex
export LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
printf 'leak:libpcre2-8.so\n' > "$T/lsan.supp"
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com
export GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.com
export GIT_COMMITTER_DATE="2024-01-02T03:04:05Z" GIT_AUTHOR_DATE="2024-01-02T03:04:05Z"

git init -q --bare pub.git
git init -q --bare ent.git
git init -q -b master r
cd r || exit 1
cat > vrun.lua <<'EOF'
local function G() return require "git" end
local function b(v) return v and "true" or "false" end
task "head" { modules = { "git" }, run = function()
  local h = G().head()
  log(h.oid, h.short, h.time, h.branch or "-", b(h.detached), h.summary)
  log("branch " .. (G().branch() or "-"))
end }
task "describe" { modules = { "git" }, run = function()
  log(G().describe { all = true, long = true })
end }
task "tags" { modules = { "git" }, run = function()
  log("at-head " .. table.concat(G().tags_at_head(), " "))
end }
task "tag" { modules = { "git" }, run = function()
  local x = G().tag(var.NAME)
  if not x then log("none") return end
  log(x.name, x.target, b(x.annotated), b(x.signed), x.tagger or "-")
  log("verify " .. b(G().verify_tag(var.NAME)))
end }
task "dirty" { modules = { "git" }, run = function()
  local d, paths = G().dirty()
  log("dirty " .. b(d) .. " " .. table.concat(paths, ","))
end }
task "checkout" { modules = { "git" }, run = function()
  local r = G().checkout(var.REV)
  log("from " .. r.from .. " oid " .. r.oid)
end }
task "remotes" { modules = { "git" }, run = function()
  for _, r in ipairs(G().remotes()) do log(r.name, r.url, r.push_url) end
  log("url " .. tostring(G().remote_url("nope")))
  log("config " .. tostring(G().config("user.signingkey")))
end }
task "push" { modules = { "git" }, run = function()
  local refs = {}
  for r in var.REFS:gmatch("%S+") do refs[#refs + 1] = r end
  G().push { remote = var.REMOTE, refs = refs }
end }
task "mktag" { modules = { "git" }, run = function()
  G().create_tag { name = var.NAME, target = var.TARGET, message = "m",
                   sign = var.SIGN ~= "0" }
end }
EOF
echo one > a.txt
git add vrun.lua a.txt && git commit -qm first
git tag -a v1.0.0 -m v1.0.0
git tag light
git remote add origin ../pub.git
git remote add enterprise "file://$T/ent.git"
git checkout -qb cluster
echo two > b.txt && git add b.txt && git commit -qm second
git tag -a v1.0.0-cluster -m c
git checkout -q master
HEAD1=$(git rev-parse HEAD)
CL=$(git rev-parse cluster)

# --- queries ----------------------------------------------------------------
vr head
is "$rc" 0 "head: exit 0"
is "$(printf '%s\n' "$out" | head -1)" \
  "$HEAD1	${HEAD1:0:7}	$(git log -1 --format=%ct)	master	false	first" \
  "head: oid, short, commit time, branch, detached, summary"
like "$out" "branch master" "branch: master"
vr describe
is "$out" "$(git describe --all --long)" "describe{all,long} = git describe --all --long"
vr tags
is "$out" "at-head light v1.0.0" "tags_at_head: sorted, lightweight too"
vr tag NAME=v1.0.0
is "$(printf '%s\n' "$out" | head -1)" "v1.0.0	$HEAD1	true	false	T <t@example.com>" \
  "tag: annotated, unsigned, target commit, tagger"
like "$out" "verify false" "verify_tag: an unsigned tag does not verify"
vr tag NAME=light
is "$(printf '%s\n' "$out" | head -1)" "light	$HEAD1	false	false	-" \
  "tag: lightweight is not annotated"
vr tag NAME=v9
is "$out" "none" "tag: missing is nil"

# --- signed tags (throwaway key) -----------------------------------------------
if gpg --batch --passphrase '' --quick-gen-key 'Test Key <t@example.com>' \
     ed25519 sign never >/dev/null 2>&1; then
  FPR=$(gpg --list-secret-keys --with-colons 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
  git config user.signingkey "$FPR"
  vr mktag NAME=v1.1.0-cluster TARGET=cluster
  is "$rc" 0 "create_tag: exit 0"
  like "$out" "git tag -s -m m -- v1.1.0-cluster cluster" \
    "create_tag: runs git tag -s (echoed)"
  git cat-file -p v1.1.0-cluster | grep -q -- '-----BEGIN PGP SIGNATURE-----'
  ok $? "create_tag: the tag is signed"
  vr tag NAME=v1.1.0-cluster
  is "$(printf '%s\n' "$out" | head -1)" "v1.1.0-cluster	$CL	true	true	T <t@example.com>" \
    "tag: signed tag seen as annotated and signed, target = branch tip"
  like "$out" "verify true" "verify_tag: a good signature verifies"
  vr -n mktag NAME=v1.2.0 TARGET=master
  is "$(git tag -l v1.2.0)" "" "create_tag under -n: no tag"
  like "$out" "git tag -s -m m -- v1.2.0 master" "create_tag under -n: printed"
else
  for i in 1 2 3 4 5 6 7; do pass "# SKIP gpg cannot make a key here"; done
fi

# --- dirty tree and checkout ---------------------------------------------------
vr dirty
is "$out" "dirty false " "dirty: clean tree"
echo untracked > new.txt
vr dirty
is "$out" "dirty false " "dirty: untracked files do not count"
echo changed > a.txt
vr dirty
is "$out" "dirty true a.txt" "dirty: a changed tracked file"
vr checkout REV=v1.0.0-cluster
is "$rc" 2 "checkout with local changes: exit 2"
like "$err" "git: cannot check out 'v1.0.0-cluster': the work tree has local changes \(a.txt\); commit or stash them first" \
  "checkout with local changes: refused, names the file"
is "$(git rev-parse HEAD) $(cat a.txt)" "$HEAD1 changed" \
  "checkout refused: HEAD and files untouched"
git checkout -q -- a.txt
vr checkout REV=v1.0.0-cluster
is "$rc" 0 "checkout tag: exit 0"
is "$out" "git: checked out v1.0.0-cluster (${CL:0:7})
from master oid $CL" "checkout tag: says so, returns where HEAD was"
is "$(git rev-parse HEAD) $(git symbolic-ref -q HEAD || echo detached)" \
  "$CL detached" "checkout tag: HEAD detached at the tag's commit"
test -f b.txt
ok $? "checkout tag: the tag's files are there"
vr checkout REV=master
is "$(git symbolic-ref HEAD) $(git rev-parse HEAD)" "refs/heads/master $HEAD1" \
  "checkout branch: HEAD attached to the branch again"
test ! -e b.txt
ok $? "checkout branch: the branch's files"
vr checkout REV=nope
is "$rc" 2 "checkout unknown: exit 2"
like "$err" "git: cannot check out 'nope': no such commit, branch or tag" \
  "checkout unknown: says so"
vr -n checkout REV=v1.0.0-cluster
is "$(git symbolic-ref HEAD)" "refs/heads/master" "checkout -n: HEAD unchanged"
like "$out" "git: would check out v1.0.0-cluster \(${CL:0:7}\)" \
  "checkout -n: says what it would do"

# --- remotes and push ------------------------------------------------------------
vr remotes
is "$(printf '%s\n' "$out" | head -2)" "enterprise	file://$T/ent.git	file://$T/ent.git
origin	../pub.git	../pub.git" "remotes: sorted, with URLs"
like "$out" "url nil" "remote_url: unknown remote is nil"

vr -n push REMOTE=origin REFS="v1.0.0 master"
is "$rc" 0 "push -n: exit 0"
like "$out" "git: would push refs/tags/v1.0.0:refs/tags/v1.0.0 to origin \(../pub.git\)" \
  "push -n: each ref printed"
is "$(git -C ../pub.git for-each-ref)" "" "push -n: remote untouched"
vr push REMOTE=origin REFS="v1.0.0 master"
is "$rc" 0 "push to a path remote: exit 0"
is "$(git -C ../pub.git for-each-ref --format='%(objectname) %(refname)')" \
  "$HEAD1 refs/heads/master
$(git rev-parse v1.0.0) refs/tags/v1.0.0" "push: tag object and branch arrived"
vr push REMOTE=enterprise REFS=v1.0.0-cluster
is "$rc" 0 "push to a file:// remote: exit 0"
is "$(git -C ../ent.git for-each-ref --format='%(refname)')" \
  "refs/tags/v1.0.0-cluster" "push file://: only the tag asked for"
vr push REMOTE=origin REFS="v1.0.0 nope"
is "$rc" 2 "push unknown ref: exit 2"
like "$err" "git: cannot push 'nope': no such tag or branch" \
  "push unknown ref: says so"
vr push REMOTE=nowhere REFS=v1.0.0
is "$rc" 2 "push unknown remote: exit 2"
like "$err" "git: no remote named 'nowhere'" "push unknown remote: says so"
# a diverged remote branch: the push is rejected, not forced
git clone -q ../pub.git "$T/other" && (cd "$T/other" && echo x > x &&
  git add x && git commit -qm other && git push -q origin master)
echo three > c.txt && git add c.txt && git commit -qm third
vr push REMOTE=origin REFS=master
is "$rc" 2 "push non-fast-forward: exit 2"
like "$err" "git: origin: cannot push because a reference that you are trying to update on the remote contains commits that are not present locally" \
  "push non-fast-forward: refused"

done_testing
