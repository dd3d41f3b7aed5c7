-- vrun.project: the `project {}` block a vrun.lua describes itself with,
-- checked field by field when the file loads.
-- SPDX-License-Identifier: MIT
--
--   project { name = "app", platforms = { "linux/amd64" },
--             build = "make app-$(GOOS)-$(GOARCH)",
--             archives = { { name = "app", binaries = { "app" } } } }
--
-- The core's prelude defines the global `project` as a call of this
-- module. The last project declared is what the shipped tasks
-- (tasks/release.lua) read, through require("vrun.project").get().

local M = {}

-- Every field, with what it must be (used in messages and checks).
local FIELDS = {
  name = "a string of letters, digits, '.', '_' or '-'",
  github = "\"owner/repo\"",
  variants = "a list of \"\" or \"-suffix\" strings",
  branches = "a table variant -> branch name",
  public_remote = "a remote name",
  private_remote = "a remote name",
  platforms = "a list of \"os/arch\" strings",
  build = "a command string or a function(os, arch)",
  archives = "a list of { name = ..., binaries = { ... } }",
  security_check = "a command string",
  changelog = "a path to the changelog (read by the GitHub tasks)",
  docker = "a table (see docs/modules/docker.md)",
}
local ARCHIVE_FIELDS = { name = true, binaries = true, platforms = true }

-- The frame of the user's `project {}` call: the first one from a file
-- that is not one of vrun's own Lua files, or nil.
local function user_frame()
  for level = 2, 30 do
    local info = debug.getinfo(level, "Sl")
    if not info then
      break
    end
    if info.source:sub(1, 1) == "@" and
       not info.source:find("vrun/project.lua", 1, true) and
       not info.source:find("vrun/prelude.lua", 1, true) and
       info.currentline > 0 then
      return info
    end
  end
  return nil
end

-- Where the user's `project {}` call is, as "file:line: ".
local function where()
  local info = user_frame()
  return info and info.short_src .. ":" .. info.currentline .. ": " or ""
end

local function fail(fmt, ...)
  error(where() .. "project: " .. string.format(fmt, ...), 0)
end

-- Edit distance, for "did you mean" on a typo'd field.
local function distance(a, b)
  local prev = {}
  for j = 0, #b do
    prev[j] = j
  end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

local function suggest(key, known)
  local best, bd
  for k in pairs(known) do
    local d = distance(key, k)
    if d <= 2 and (not bd or d < bd or (d == bd and k < best)) then
      best, bd = k, d
    end
  end
  return best and (" (did you mean '" .. best .. "'?)") or ""
end

local function is_list(v)
  if type(v) ~= "table" then
    return false
  end
  local n = 0
  for _ in pairs(v) do
    n = n + 1
  end
  return n == #v
end

local function check_string_list(field, v, pattern, what)
  if not is_list(v) or #v == 0 then
    fail("'%s' must be %s", field, FIELDS[field] or what)
  end
  local seen = {}
  for i, s in ipairs(v) do
    if type(s) ~= "string" or not s:match(pattern) then
      fail("'%s'[%d] = %s is not %s", field, i,
           type(s) == "string" and string.format("%q", s) or type(s),
           what)
    end
    if seen[s] then
      fail("'%s' lists %q twice", field, s)
    end
    seen[s] = true
  end
  return seen
end

-- Check t and return a normalized copy (defaults filled in).
local function validate(t)
  if type(t) ~= "table" then
    fail("expects a table: project { name = ..., ... }")
  end
  local keys = {}
  for k in pairs(t) do
    keys[#keys + 1] = tostring(k)
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    if not FIELDS[k] then
      fail("unknown field '%s'%s", k, suggest(k, FIELDS))
    end
  end
  local p = {}

  if type(t.name) ~= "string" or not t.name:match("^[%w][%w%._%-]*$") then
    fail("'name' must be %s", FIELDS.name)
  end
  p.name = t.name

  if t.github ~= nil then
    if type(t.github) ~= "string" or
       not t.github:match("^[%w][%w%._%-]*/[%w%._%-]+$") then
      fail("'github' must be %s", FIELDS.github)
    end
    p.github = t.github
  end

  local variants = t.variants or { "" }
  local vset = check_string_list("variants", variants, "^[%w%-]*$",
                                 "\"\" or \"-suffix\"")
  for i, v in ipairs(variants) do
    if v ~= "" and not v:match("^%-[%w][%w%-]*$") then
      fail("'variants'[%d] = %q must be \"\" or start with '-'", i, v)
    end
  end
  p.variants = { table.unpack(variants) }

  p.branches = {}
  if t.branches ~= nil then
    if type(t.branches) ~= "table" then
      fail("'branches' must be %s", FIELDS.branches)
    end
    for v, b in pairs(t.branches) do
      if type(v) ~= "string" or not vset[v] then
        fail("'branches' has %s, which is not one of 'variants'",
             type(v) == "string" and string.format("%q", v) or type(v))
      end
      if type(b) ~= "string" or b == "" or b:find("%s") then
        fail("'branches'[%q] must be a branch name", v)
      end
      p.branches[v] = b
    end
  end

  for _, f in ipairs({ "public_remote", "private_remote" }) do
    local r = t[f]
    if r ~= nil and (type(r) ~= "string" or not r:match("^[%w][%w%._%-]*$"))
    then
      fail("'%s' must be %s", f, FIELDS[f])
    end
  end
  p.public_remote = t.public_remote or "origin"
  p.private_remote = t.private_remote
  for _, v in ipairs(p.variants) do
    if M.is_private(v) and not p.private_remote then
      fail("'private_remote' is required: variant %q is private", v)
    end
  end

  local pset = check_string_list("platforms", t.platforms,
                                 "^[%w_]+/[%w_]+$", "\"os/arch\"")
  p.platforms = { table.unpack(t.platforms) }

  if type(t.build) ~= "string" and type(t.build) ~= "function" then
    fail("'build' must be %s", FIELDS.build)
  end
  p.build = t.build

  if not is_list(t.archives) or #t.archives == 0 then
    fail("'archives' must be %s", FIELDS.archives)
  end
  p.archives = {}
  local anames = {}
  for i, a in ipairs(t.archives) do
    if type(a) ~= "table" then
      fail("'archives'[%d] must be { name = ..., binaries = { ... } }", i)
    end
    for k in pairs(a) do
      if not ARCHIVE_FIELDS[k] then
        fail("'archives'[%d]: unknown field '%s'%s", i, tostring(k),
             suggest(tostring(k), ARCHIVE_FIELDS))
      end
    end
    if type(a.name) ~= "string" or not a.name:match("^[%w][%w%._%-]*$") then
      fail("'archives'[%d].name must be a file name prefix", i)
    end
    if anames[a.name] then
      fail("'archives' has two archives named %q", a.name)
    end
    anames[a.name] = true
    check_string_list("archives", a.binaries, "^[%w][%w%._%-]*$",
                      "a binary name")
    local plats = p.platforms
    if a.platforms ~= nil then
      check_string_list("archives", a.platforms, "^[%w_]+/[%w_]+$",
                        "\"os/arch\"")
      for _, pl in ipairs(a.platforms) do
        if not pset[pl] then
          fail("'archives'[%d].platforms has %q, which is not one of "
               .. "'platforms'", i, pl)
        end
      end
      plats = { table.unpack(a.platforms) }
    end
    p.archives[i] = { name = a.name, binaries = { table.unpack(a.binaries) },
                      platforms = plats }
  end

  if t.security_check ~= nil and (type(t.security_check) ~= "string" or
                                  t.security_check == "") then
    fail("'security_check' must be %s", FIELDS.security_check)
  end
  p.security_check = t.security_check

  if t.changelog ~= nil and (type(t.changelog) ~= "string" or
                             t.changelog == "") then
    fail("'changelog' must be %s", FIELDS.changelog)
  end
  p.changelog = t.changelog

  -- container images: checked field by field by tasks/docker.lua
  if t.docker ~= nil and type(t.docker) ~= "table" then
    fail("'docker' must be %s", FIELDS.docker)
  end
  p.docker = t.docker
  return p
end

-- A variant is private (its tags never go to the public remote) when
-- its name says "enterprise", as the runbook's enterprise tags do.
function M.is_private(variant_or_tag)
  return variant_or_tag:find("enterprise", 1, true) ~= nil
end

-- The project declared by the task file; raises when there is none.
function M.get()
  if not M.current then
    error("no project {} block: describe the project in vrun.lua "
          .. "before using the release tasks", 0)
  end
  return M.current
end

-- split("linux/amd64") -> "linux", "amd64"
function M.split(platform)
  return platform:match("^([^/]+)/(.+)$")
end

-- build(p, platforms): run the project's build once per "os/arch"
-- platform: p.build(os, arch) when it is a function, else the command
-- with $(GOOS)/$(GOARCH) replaced and GOOS/GOARCH in its environment, as
-- the original's `GOOS=<os> GOARCH=<arch> $(MAKE) ...` did. A platform's
-- variant ("linux/arm/v7") builds as its arch ("arm").
function M.build(p, platforms)
  for _, plat in ipairs(platforms) do
    local goos, goarch = M.split(plat)
    goarch = goarch:match("^[^/]+")
    if type(p.build) == "function" then
      p.build(goos, goarch)
    else
      local cmd = p.build:gsub("%$%(GOOS%)", goos)
                         :gsub("%$%(GOARCH%)", goarch)
      sh(string.format("GOOS=%s GOARCH=%s %s", goos, goarch, cmd))
    end
  end
end

-- check_built(paths): stop, naming them, if the build did not make all
-- of paths. Nothing is checked under -n, where nothing was built.
function M.check_built(paths)
  if dry_run() then
    return
  end
  local missing = {}
  for _, path in ipairs(paths) do
    local f = io.open(path, "rb")
    if f then
      f:close()
    else
      missing[#missing + 1] = path
    end
  end
  if #missing > 0 then
    error("the build did not make " .. table.concat(missing, ", "), 0)
  end
end

local function noop()
  return noop
end

-- reload(): read the project {} block again from the file that declared
-- it, as that file is in the work tree now. publish-release calls it
-- after checking out each variant's tag, as the original's sub-make read
-- each tag's own Makefile: a branch may build other archives or
-- platforms. Only the block is taken; task(), file(), include() and the
-- other declarations in the file do nothing here. Returns the project.
function M.reload()
  local path = M.file
  if not path then
    return M.get()
  end
  local captured
  local env = setmetatable({
    project = function(t)
      captured = validate(t)
      return captured
    end,
    task = noop, file = noop, include = noop, default = noop,
    default_target = noop,
  }, { __index = _G })
  local chunk, err = loadfile(path, "t", env)
  if not chunk then
    error(err, 0)
  end
  chunk()
  if not captured then
    error(path .. ": no project {} block in this checkout", 0)
  end
  M.current = captured
  return captured
end

M.validate = validate

return setmetatable(M, {
  __call = function(_, t)
    M.current = validate(t)
    local info = user_frame()
    M.file = info and info.source:sub(2)
    return M.current
  end,
})
