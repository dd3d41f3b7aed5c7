-- tasks/release.lua: the release runbook's tasks (steps 0, 2, 3a, 4 and
-- its prerequisites), mirroring the original make targets.
-- SPDX-License-Identifier: MIT
--
-- Use from a vrun.lua that declares `project { ... }`, then:
--   include "release"
--
--   preflight        check the prerequisites, each ok/FAIL with a fix
--   tag              signed annotated tags TAG<variant> on each branch
--   verify-tags      all TAG<variant> tags exist, annotated and signed
--   release          build every platform, pack archives + checksums
--   publish          placeholder (the container tasks replace it)
--   publish-release  clean bin/, then per variant: checkout, release,
--                    publish; the checkout is restored, even on failure
--   push-tags        public tags to the public remote, private ones to
--                    the private remote; never an enterprise tag public
--
-- Modules are required inside the task bodies only, so a run that needs
-- none of these tasks never loads git or archive.
--
-- Replacing `publish`: vrun keeps the last definition of a task name, so
-- a `task "publish"` declared after `include "release"` (in vrun.lua, or
-- by a task file included after this one, such as the container tasks)
-- is the one publish-release runs, once per variant, with PKG_TAG set.
--
-- Like the original's sub-make, which read each tag's own Makefile,
-- publish-release reads each checked-out tag's project {} again
-- (vrun.project's reload), so a branch may pack other archives or
-- platforms; the variant list itself comes from the starting checkout.
--
-- Differences from the original, on purpose: PKG_TAG is the one tag at
-- HEAD (several or none is an error, not a broken file name);
-- publish-release passes each variant's tag as PKG_TAG, returns to the
-- starting branch even when a build fails, and refuses a dirty tree or a
-- missing tag before touching bin/; push-tags refuses before pushing
-- anything when an enterprise tag would go to the public remote.

local P = require "vrun.project"
local semver = require "vrun.semver"

local function say(fmt, ...)
  log(string.format(fmt, ...))
end

local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

-- Branch (or other revision) a variant's tag goes on, resolved to a
-- commit: the local branch, else the public remote's.
local function variant_commit(git, p, v)
  local br = p.branches[v]
  if not br then
    fail("project.branches has no branch for variant %q", v)
  end
  local c = git.resolve(br)
  if not c then
    c = git.resolve(p.public_remote .. "/" .. br)
  end
  if not c then
    fail("branch '%s' (variant %q) does not exist", br, v)
  end
  return c, br
end

-- PKG_TAG: given, else the one tag at HEAD (the original took every
-- tag at HEAD, space-separated, and broke the archive names).
local function pkg_tag(git)
  local given = var.PKG_TAG
  if given and given ~= "" then
    if given:find("[%s/]") then
      fail("PKG_TAG=%s must not contain spaces or '/'", given)
    end
    return given
  end
  local tags = git.tags_at_head()
  if #tags == 0 then
    fail("no tag points at HEAD: check out a release tag or pass "
         .. "PKG_TAG=...")
  end
  if #tags > 1 then
    fail("several tags point at HEAD (%s): pass PKG_TAG=<one of them>",
         table.concat(tags, ", "))
  end
  return tags[1]
end

-- The raw binary `build` leaves for one platform.
local function binary_path(bin, os, arch)
  if os == "windows" then
    return string.format("bin/%s-%s-%s-prod.exe", bin, os, arch)
  end
  return string.format("bin/%s-%s-%s-prod", bin, os, arch)
end

-- The archive specs of a release, named as the original names them.
local function release_specs(p, tag, mtime)
  local specs, raw = {}, {}
  for _, a in ipairs(p.archives) do
    for _, plat in ipairs(a.platforms) do
      local os, arch = P.split(plat)
      local base = string.format("bin/%s-%s-%s-%s", a.name, os, arch, tag)
      local files = {}
      for _, b in ipairs(a.binaries) do
        local path = binary_path(b, os, arch)
        -- tar drops -<os>-<arch> (--transform); zip keeps the file name
        local name = os == "windows" and path:sub(5) or (b .. "-prod")
        files[#files + 1] = { path = path, name = name }
        raw[#raw + 1] = path
      end
      specs[#specs + 1] = {
        output = base .. (os == "windows" and ".zip" or ".tar.gz"),
        checksums = base .. "_checksums.txt",
        files = files,
        mtime = mtime,
      }
    end
  end
  return specs, raw
end

task "preflight" {
  desc = "Check the release prerequisites (remotes, signing key, "
         .. "GITHUB_TOKEN, clean tree, TAG, security check)",
  modules = { "git" },
  run = function(t)
    local git = require "git"
    local p = P.get()
    local failed = 0
    local function check(ok, what, fix)
      if ok then
        say("preflight: ok    %s", what)
      else
        say("preflight: FAIL  %s; fix: %s", what, fix)
        failed = failed + 1
      end
    end

    check(git.remote_url(p.public_remote) ~= nil,
          string.format("public remote '%s' is configured", p.public_remote),
          string.format("git remote add %s <url>", p.public_remote))
    if p.private_remote then
      check(git.remote_url(p.private_remote) ~= nil,
            string.format("private remote '%s' is configured",
                          p.private_remote),
            string.format("git remote add %s <url>", p.private_remote))
    end
    local key = git.config("user.signingkey")
    check(key ~= nil and key ~= "", "a signing key is configured",
          "git config user.signingkey <key id> (see `gpg "
          .. "--list-secret-keys`)")
    local token = var.GITHUB_TOKEN
    check(token ~= nil and token ~= "", "GITHUB_TOKEN is set",
          "export GITHUB_TOKEN=<token with read:org, repo, "
          .. "write:packages>")
    local dirty, paths = git.dirty()
    check(not dirty, "the work tree is clean",
          "commit or stash: " .. table.concat(paths, ", "))
    local tag = var.TAG
    check(tag ~= nil and semver.is_tag(tag),
          string.format("TAG=%s is a release version", tag or ""),
          "pass TAG=vMAJOR.MINOR.PATCH[-suffix], e.g. TAG=v1.2.3")
    if p.security_check and dry_run() then
      say("preflight: skip  security check (%s): not run under -n",
          p.security_check)
    elseif p.security_check then
      local ok = pcall(sh, p.security_check)
      check(ok, "security check passes (" .. p.security_check .. ")",
            "fix what it reports, then run it again")
    end
    if failed > 0 then
      fail("preflight: %d check%s failed", failed, failed == 1 and "" or "s")
    end
  end,
}

task "tag" {
  desc = "Create signed annotated tags TAG<variant> on each variant's "
         .. "branch",
  needs = { "TAG" },
  modules = { "git" },
  run = function(t)
    local git = require "git"
    local p = P.get()
    local tag = semver.check_tag(var.TAG)
    local todo = {}
    -- check every variant before creating anything
    for _, v in ipairs(p.variants) do
      local name = tag .. v
      local commit, br = variant_commit(git, p, v)
      local have = git.tag(name)
      if have then
        if have.target ~= commit then
          fail("tag %s exists and points at %s, not at %s (%s)", name,
               (have.target or "?"):sub(1, 10), br, commit:sub(1, 10))
        end
        say("tag: %s already points at %s", name, br)
      else
        todo[#todo + 1] = { name = name, commit = commit, branch = br }
      end
    end
    for _, x in ipairs(todo) do
      git.create_tag { name = x.name, target = x.commit, message = x.name,
                       sign = true }
    end
  end,
}

task "verify-tags" {
  desc = "Check that every TAG<variant> exists, is annotated and signed",
  needs = { "TAG" },
  modules = { "git" },
  run = function(t)
    local git = require "git"
    local p = P.get()
    local tag = semver.check_tag(var.TAG)
    local bad = 0
    for _, v in ipairs(p.variants) do
      local name = tag .. v
      local x = git.tag(name)
      local why
      if not x then
        why = "missing"
      elseif not x.annotated then
        why = "not annotated (git tag -s)"
      elseif not x.signed then
        why = "not signed (git tag -s)"
      elseif not git.verify_tag(name) then
        why = "signature does not verify (git verify-tag " .. name .. ")"
      end
      if why then
        say("verify-tags: FAIL  %s: %s", name, why)
        bad = bad + 1
      else
        say("verify-tags: ok    %s -> %s", name, x.target:sub(1, 10))
      end
    end
    if bad > 0 then
      fail("verify-tags: %d of %d tags are not ready", bad, #p.variants)
    end
  end,
}

-- The body of `release` for one PKG_TAG. publish-release calls it
-- directly rather than through invoke(), so that a failing build raises
-- into its pcall and the checkout is still restored.
local function release(tag)
  local git = require "git"
  local archive = require "archive"
  local p = P.get()
  local mtime = tonumber(var.SOURCE_DATE_EPOCH or "")
  if not mtime then
    mtime = git.head().time
  end
  sh "mkdir -p bin"
  P.build(p, p.platforms)
  local specs, raw = release_specs(p, tag, mtime)
  P.check_built(raw)
  archive.create_many(specs)
  -- as the original: the raw binaries go once they are packed
  sh("rm -f " .. table.concat(raw, " "))
end

task "release" {
  desc = "Build every platform, pack bin/<name>-<os>-<arch>-<PKG_TAG> "
         .. "archives with checksums",
  modules = { "git", "archive" },
  run = function(t)
    release(pkg_tag(require "git"))
  end,
}

-- A placeholder until the container tasks define the real one: vrun
-- keeps the last definition of a task name, so a `task "publish"`
-- declared after `include "release"` (or an include of the docker
-- tasks after it) replaces this one.
task "publish" {
  desc = "Publish container images (placeholder: does nothing yet)",
  run = function(t)
    say("publish: nothing to publish yet (container images come with "
        .. "the docker tasks)")
  end,
}

task "publish-release" {
  desc = "Clean bin/, then for each variant check out TAG<variant>, run "
         .. "release and publish; restores the checkout",
  needs = { "TAG" },
  modules = { "git", "archive" },
  run = function(t)
    local git = require "git"
    local p = P.get()
    local tag = semver.check_tag(var.TAG)
    local missing = {}
    for _, v in ipairs(p.variants) do
      if not git.tag(tag .. v) then
        missing[#missing + 1] = tag .. v
      end
    end
    if #missing > 0 then
      fail("missing tag%s %s: create them first (vrun tag TAG=%s)",
           #missing == 1 and "" or "s", table.concat(missing, ", "), tag)
    end
    local dirty, paths = git.dirty()
    if dirty then
      fail("the work tree has local changes (%s); commit or stash them "
           .. "first", table.concat(paths, ", "))
    end
    local head = git.head()
    local start = head.branch or head.oid
    sh "rm -rf bin/*"
    local ok, err = pcall(function()
      for _, v in ipairs(p.variants) do
        git.checkout(tag .. v)
        -- this tag's own project {} (its archives, platforms, build)
        if not dry_run() then
          P.reload()
        end
        release(tag .. v)
        -- a failing publish raises here (the run starts nothing new but
        -- resumes us), so the checkout below is still restored
        invoke("publish", { PKG_TAG = tag .. v })
      end
    end)
    -- return to where we started, also after a failure
    local rok, rerr = pcall(git.checkout, start)
    P.current = p
    if not ok then
      if not rok then
        err = tostring(err) .. "; and returning to " .. start
              .. " failed: " .. tostring(rerr)
      end
      error(err, 0)
    end
    if not rok then
      error(rerr, 0)
    end
  end,
}

task "push-tags" {
  desc = "Push public TAG<variant> tags to the public remote, enterprise "
         .. "ones to the private remote",
  needs = { "TAG" },
  modules = { "git" },
  run = function(t)
    local git = require "git"
    local p = P.get()
    local tag = semver.check_tag(var.TAG)
    local public, private, missing = {}, {}, {}
    for _, v in ipairs(p.variants) do
      local name = tag .. v
      if not git.tag(name) then
        missing[#missing + 1] = name
      elseif P.is_private(v) then
        private[#private + 1] = name
      else
        public[#public + 1] = name
      end
    end
    if #missing > 0 then
      fail("missing tag%s %s", #missing == 1 and "" or "s",
           table.concat(missing, ", "))
    end
    -- refuse before pushing anything: a private tag never goes public,
    -- whatever the variant is called or where the remotes point
    local pub_url = git.remote_url(p.public_remote)
    if not pub_url then
      fail("no remote named '%s' (project.public_remote)", p.public_remote)
    end
    local priv_url = p.private_remote and git.remote_url(p.private_remote)
    if #private > 0 and not priv_url then
      fail("no remote named '%s' (project.private_remote)",
           tostring(p.private_remote))
    end
    for _, name in ipairs(public) do
      if P.is_private(name) then
        fail("refusing to push %s to the public remote '%s': enterprise "
             .. "tags go only to '%s'", name, p.public_remote,
             tostring(p.private_remote))
      end
    end
    if #private > 0 and (priv_url == pub_url or
                         p.private_remote == p.public_remote) then
      fail("refusing to push %s: the private remote '%s' is the public "
           .. "one (%s)", table.concat(private, ", "), p.private_remote,
           pub_url)
    end
    if #public > 0 then
      git.push { remote = p.public_remote, refs = public }
    end
    if #private > 0 then
      git.push { remote = p.private_remote, refs = private }
    end
  end,
}
