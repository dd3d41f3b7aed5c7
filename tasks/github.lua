-- tasks/github.lua: the GitHub release tasks of the runbook (steps 5-8):
-- create a draft, upload its assets (resumable), verify, set the notes,
-- publish, and delete a draft. Same names as the original make targets.
-- SPDX-License-Identifier: MIT
--
-- Variables: TAG (required), GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPO
-- (else project { github = }), GITHUB_RELEASE_FILE (default
-- /tmp/vm-github-release), GITHUB_BIN_DIR (default bin), CHANGELOG (else
-- project { changelog = }, else docs/CHANGELOG.md), FORCE,
-- GITHUB_UPLOAD_CONCURRENCY, GITHUB_PACE_MS. See docs/modules/github.md.

default {
  GITHUB_RELEASE_FILE = "/tmp/vm-github-release",
  GITHUB_BIN_DIR = "bin",
}

-- {====== helpers (run inside task bodies only) ======

local function fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

-- The project {} block when the task file declared one, else nil.
local function project()
  local ok, p = pcall(require, "vrun.project")
  if ok and type(p) == "table" then
    return rawget(p, "current")
  end
  return nil
end

local function repo_name()
  local r = var.GITHUB_REPO
  if r and r ~= "" then return r end
  local p = project()
  if p and p.github then return p.github end
  fail("no GitHub repository: set github = \"owner/repo\" in project {} "
    .. "or pass GITHUB_REPO=owner/repo")
end

local function client()
  local gh = require "github"
  return gh, gh.client { repo = repo_name() }
end

local function changelog_path()
  local c = var.CHANGELOG
  if c and c ~= "" then return c end
  local p = project()
  if p and type(p.changelog) == "string" then return p.changelog end
  return "docs/CHANGELOG.md"
end

local function notes(tag)
  local cl = require "vrun.changelog"
  return cl.section(changelog_path(), tag)
end

-- The id file: the release JSON subset the runbook's recovery needs
-- (`jq .id` still works on it, as on the original's file).
local function read_id_file(gh)
  local path = var.GITHUB_RELEASE_FILE
  local f = io.open(path, "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local t = gh.json_decode(text)
  if type(t) ~= "table" or math.type(t.id) ~= "integer" then
    gh.warn(string.format("ignoring %s: it holds no release id", path))
    return nil
  end
  return t
end

local function write_id_file(gh, c, rel)
  gh.write_file(var.GITHUB_RELEASE_FILE, gh.json_encode {
    id = rel.id, tag_name = rel.tag_name, repository = c:info().repo,
    html_url = rel.html_url, draft = rel.draft,
  } .. "\n")
end

local function placeholder(tag)
  return { id = 0, tag_name = tag, draft = true, dry_run = true,
           assets = {} }
end

-- The release for TAG: the one the id file names when it is for this
-- TAG and repo, else the draft (or published release) found by listing.
local function find_release(gh, c, tag)
  local repo = c:info().repo
  local saved = read_id_file(gh)
  if saved and saved.tag_name == tag and
     (saved.repository == nil or saved.repository:lower() == repo:lower())
  then
    local rel = c:get_release(saved.id)
    if not rel then
      fail("the release id file %s names release %d (%s) of %s, which no "
        .. "longer exists: remove the file and run 'vrun "
        .. "github-create-release TAG=%s' again", var.GITHUB_RELEASE_FILE,
        saved.id, tag, repo, tag)
    end
    if rel.dry_run then rel.tag_name = tag end
    return rel
  end
  if gh.dry_run() then
    c:releases_by_tag(tag)
    return placeholder(tag)
  end
  local rels = c:releases_by_tag(tag)
  local draft, published
  for _, r in ipairs(rels) do
    if r.draft and not draft then draft = r end
    if not r.draft and not published then published = r end
  end
  local rel = draft or published
  if not rel then
    fail("no release %s in %s: run 'vrun github-create-release TAG=%s' "
      .. "first", tag, repo, tag)
  end
  return rel
end

local function suffix(s, suf)
  return #s >= #suf and s:sub(-#suf) == suf
end

local CONTENT_TYPES = {
  { ".zip", "application/zip" },
  { ".tar.gz", "application/x-gzip" },
  { "_checksums.txt", "text/plain" },
}

-- The files of this TAG's release set, in the original's upload order
-- (zip, tar.gz, checksums): { path =, name =, content_type =, size = }.
-- With a project {} block the set is computed from its variants,
-- archives and platforms; without one, from the checksum files in bin/
-- whose names end in -<TAG><variant>_checksums.txt (each names its
-- archive on its first line). Nothing else in bin/ is sent.
local function release_set(gh, tag)
  local dir = var.GITHUB_BIN_DIR
  local names, why = gh.list_dir(dir)
  if not names then fail("%s", why) end
  local present = {}
  for _, n in ipairs(names) do present[n] = true end
  local want, missing = {}, {}
  local p = project()

  local function add(n)
    if present[n] then want[#want + 1] = n else missing[#missing + 1] = n end
  end

  if p and p.archives then
    for _, v in ipairs(p.variants or { "" }) do
      local pkg = tag .. v
      for _, a in ipairs(p.archives) do
        for _, pl in ipairs(a.platforms or p.platforms) do
          local os, arch = pl:match("^([^/]+)/(.+)$")
          local base = string.format("%s-%s-%s-%s", a.name, os, arch, pkg)
          add(base .. (os == "windows" and ".zip" or ".tar.gz"))
          add(base .. "_checksums.txt")
        end
      end
    end
  else
    local variants = { "" }
    local extra = var.GITHUB_VARIANTS
    if extra and extra ~= "" then
      for v in extra:gmatch("%S+") do variants[#variants + 1] = v end
    end
    for _, n in ipairs(names) do
      for _, v in ipairs(variants) do
        local suf = "-" .. tag .. v .. "_checksums.txt"
        if suffix(n, suf) then
          local f = io.open(dir .. "/" .. n, "r")
          local first = f and f:read("l")
          if f then f:close() end
          local archive = first and first:match("^%x+%s+%*?(%S+)$")
          local base = n:sub(1, -#"_checksums.txt" - 1)
          if not archive or (archive ~= base .. ".tar.gz" and
                             archive ~= base .. ".zip") then
            fail("%s/%s does not start with the sha256 of %s.tar.gz or "
              .. "%s.zip", dir, n, base, base)
          end
          add(archive)
          add(n)
        end
      end
    end
  end
  if #missing > 0 then
    fail("%d file%s of release %s %s missing in %s/: %s (run 'vrun "
      .. "release TAG=%s' first)", #missing, #missing == 1 and "" or "s",
      tag, #missing == 1 and "is" or "are", dir,
      table.concat(missing, ", "), tag)
  end
  if #want == 0 then
    fail("no release files for %s in %s/ (run 'vrun release TAG=%s' "
      .. "first)", tag, dir, tag)
  end
  local chosen = {}
  for _, n in ipairs(want) do chosen[n] = true end
  for _, n in ipairs(names) do
    if not chosen[n] and n:find(tag, 1, true) then
      gh.verbose(string.format("github: %s/%s is not part of release %s; "
        .. "not sent", dir, n, tag))
    end
  end
  local files = {}
  for _, ct in ipairs(CONTENT_TYPES) do
    for _, n in ipairs(want) do
      if suffix(n, ct[1]) then
        local path = dir .. "/" .. n
        files[#files + 1] = { path = path, name = n, content_type = ct[2],
                              size = gh.file_size(path) }
      end
    end
  end
  return files
end

-- What is wrong with the release compared with the local files: a list
-- of one-line problems (empty when it matches exactly).
local function check_release(gh, c, rel, files)
  local problems = {}
  local by_name = {}
  for _, a in ipairs(c:list_assets(rel.id)) do by_name[a.name] = a end
  for _, f in ipairs(files) do
    local a = by_name[f.name]
    by_name[f.name] = nil
    if not a then
      problems[#problems + 1] = f.name .. ": missing"
    elseif a.state ~= "uploaded" then
      problems[#problems + 1] = string.format("%s: state %s, not uploaded",
        f.name, tostring(a.state))
    elseif a.size ~= f.size then
      problems[#problems + 1] = string.format("%s: %d bytes on GitHub, "
        .. "%d in %s", f.name, a.size, f.size, f.path)
    elseif type(a.digest) == "string" and a.digest ~= "" then
      local sum = "sha256:" .. gh.sha256_file(f.path)
      if a.digest ~= sum then
        problems[#problems + 1] = string.format("%s: digest %s differs "
          .. "from %s's %s", f.name, a.digest, f.path, sum)
      end
    end
  end
  local extra = {}
  for n in pairs(by_name) do extra[#extra + 1] = n end
  table.sort(extra)
  for _, n in ipairs(extra) do
    problems[#problems + 1] = n .. ": not part of this release set"
  end
  return problems
end

-- Verify, printing each problem; raises unless the release is exact.
local function verify(gh, c, tag, rel, files, action)
  if gh.dry_run() then
    c:list_assets(rel.id)
    gh.info(string.format("github: would check %d assets of %s (name, "
      .. "state, size, sha256)", #files, tag))
    return
  end
  local problems = check_release(gh, c, rel, files)
  if #problems > 0 then
    for _, p in ipairs(problems) do gh.warn("github: " .. p) end
    fail("%sGitHub release %s (id %d) of %s does not match %s/: %d "
      .. "problem%s (listed above)", action or "", tag, rel.id,
      c:info().repo, var.GITHUB_BIN_DIR, #problems,
      #problems == 1 and "" or "s")
  end
  gh.info(string.format("GitHub release %s has %d assets, all uploaded "
    .. "and matching %s/", tag, #files, var.GITHUB_BIN_DIR))
end
-- }======

task "github-token-check" {
  desc = "Check GITHUB_TOKEN and its scopes against the GitHub repository",
  modules = { "github" },
  run = function()
    local gh, c = client()
    local scopes = c:check_scopes()
    if scopes then
      gh.verbose("github: token scopes: " .. scopes)
    end
  end,
}

task "github-create-release" {
  desc = "Create the draft GitHub release TAG (or reuse its draft)",
  needs = { "TAG" },
  deps = { "github-token-check" },
  modules = { "github" },
  run = function()
    local gh, c = client()
    local tag = var.TAG
    local repo = c:info().repo
    local rel
    for _, r in ipairs(c:releases_by_tag(tag)) do
      if not r.draft then
        fail("release %s of %s is already published (id %d, %s); "
          .. "github-create-release makes drafts only", tag, repo, r.id,
          tostring(r.html_url))
      end
      if not rel then
        rel = r
      else
        gh.warn(string.format("github: another draft for %s exists (id "
          .. "%d); delete it with 'vrun github-delete-release' once its id "
          .. "is in %s", tag, r.id, var.GITHUB_RELEASE_FILE))
      end
    end
    if rel then
      gh.info(string.format("Reusing draft release %s with id=%d", tag,
        rel.id))
    else
      local body, why = notes(tag)
      if not body then
        gh.warn("github: " .. why .. "; the release notes say TODO for now")
        body = string.format("TODO: put here the changelog for %s release "
          .. "from %s", tag, changelog_path())
      end
      rel = c:create_release {
        tag_name = tag, name = tag, body = body, draft = true,
        prerelease = false, generate_release_notes = false,
      }
      gh.info(string.format("Created release %s with id=%d", tag, rel.id))
    end
    write_id_file(gh, c, rel)
  end,
}

task "github-upload-assets" {
  desc = "Upload the release archives and checksums of TAG (resumable)",
  needs = { "TAG" },
  deps = { "github-token-check" },
  modules = { "github" },
  run = function()
    local gh, c = client()
    local tag = var.TAG
    local files = release_set(gh, tag)
    local rel = find_release(gh, c, tag)
    if rel.immutable and not rel.draft then
      fail("release %s of %s is published and immutable: its assets can "
        .. "no longer change", tag, c:info().repo)
    end
    local st = c:upload_assets(rel, files)
    if gh.dry_run() then return end
    gh.info(string.format("Uploaded %d assets (%d bytes) to release %s "
      .. "(id %d); %d already there, %d replaced", st.uploaded, st.bytes,
      tag, rel.id, st.skipped, st.replaced))
  end,
}

task "github-verify-release" {
  desc = "Check the release holds exactly bin/'s files for TAG, uploaded",
  needs = { "TAG" },
  deps = { "github-token-check" },
  modules = { "github" },
  run = function()
    local gh, c = client()
    local tag = var.TAG
    local files = release_set(gh, tag)
    verify(gh, c, tag, find_release(gh, c, tag), files)
  end,
}

task "github-release-notes" {
  desc = "Set the release notes of TAG from its CHANGELOG section",
  needs = { "TAG" },
  deps = { "github-token-check" },
  modules = { "github" },
  run = function()
    local gh, c = client()
    local tag = var.TAG
    local body, why = notes(tag)
    if not body then fail("%s", why) end
    local rel = find_release(gh, c, tag)
    c:update_release(rel.id, { body = body })
    gh.info(string.format("Set the notes of release %s (%d bytes from %s)",
      tag, #body, changelog_path()))
  end,
}

task "github-publish" {
  desc = "Verify the draft of TAG, then publish it",
  needs = { "TAG" },
  deps = { "github-token-check" },
  modules = { "github" },
  run = function()
    local gh, c = client()
    local tag = var.TAG
    local files = release_set(gh, tag)
    local rel = find_release(gh, c, tag)
    if not rel.draft then
      gh.info(string.format("Release %s is already published", tag))
      return
    end
    verify(gh, c, tag, rel, files, "refusing to publish: ")
    rel = c:update_release(rel.id, { draft = false })
    if gh.dry_run() then return end
    write_id_file(gh, c, rel)
    gh.info(string.format("Published release %s: %s", tag,
      tostring(rel.html_url)))
  end,
}

task "github-delete-release" {
  desc = "Delete the draft release named by GITHUB_RELEASE_FILE (or TAG)",
  deps = { "github-token-check" },
  modules = { "github" },
  run = function()
    local gh, c = client()
    local repo = c:info().repo
    local saved = read_id_file(gh)
    local tag = var.TAG ~= "" and var.TAG or nil
    if saved and tag and saved.tag_name ~= tag then
      -- the file is about another release: never delete that one
      gh.verbose(string.format("github: %s is for %s, not %s; looking %s "
        .. "up by its tag", var.GITHUB_RELEASE_FILE,
        tostring(saved.tag_name), tag, tag))
      saved = nil
    end
    local rel
    if saved then
      rel = c:get_release(saved.id)
      if not rel then
        fail("the release id file %s names release %d (%s) of %s, which "
          .. "no longer exists: remove the file", var.GITHUB_RELEASE_FILE,
          saved.id, tostring(saved.tag_name), repo)
      end
    elseif tag then
      rel = find_release(gh, c, tag)
    else
      fail("no release to delete: %s does not exist and TAG is not set",
        var.GITHUB_RELEASE_FILE)
    end
    if not rel.draft and var.FORCE ~= "1" then
      fail("release %s (id %d) of %s is published: github-delete-release "
        .. "deletes drafts only (FORCE=1 deletes it anyway)",
        tostring(rel.tag_name), rel.id, repo)
    end
    c:delete_release(rel.id)
    if gh.dry_run() then return end
    if saved and saved.id == rel.id then
      os.remove(var.GITHUB_RELEASE_FILE)
    end
    gh.info(string.format("Deleted release with id=%d", rel.id))
  end,
}
