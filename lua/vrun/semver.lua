-- vrun.semver: release versions as the runbook writes them.
-- SPDX-License-Identifier: MIT
--
-- A release tag is vMAJOR.MINOR.PATCH with an optional -suffix
-- (v1.102.0, v1.102.0-rc1, v1.102.0-cluster). Numbers have no leading
-- zeros, as in semver.

local M = {}

local function num(s)
  if s == nil or s == "" or (#s > 1 and s:sub(1, 1) == "0") then
    return nil
  end
  return tonumber(s)
end

-- parse("v1.2.3-rc1") -> { major=1, minor=2, patch=3, suffix="rc1" },
-- or nil and a reason when s is not a release tag.
function M.parse(s)
  if type(s) ~= "string" then
    return nil, "not a string"
  end
  local a, b, c, rest = s:match("^v(%d+)%.(%d+)%.(%d+)(.*)$")
  if not a then
    return nil, "not vMAJOR.MINOR.PATCH"
  end
  local suffix
  if rest ~= "" then
    suffix = rest:match("^%-([%w][%w%.%-]*)$")
    if not suffix then
      return nil, "the suffix must be '-' then letters, digits, '.' or '-'"
    end
  end
  local v = { major = num(a), minor = num(b), patch = num(c),
              suffix = suffix }
  if not (v.major and v.minor and v.patch) then
    return nil, "numbers must not have leading zeros"
  end
  return v
end

-- check_tag(tag) -> tag, when it is a release tag; else raises a
-- one-line error naming the expected form (for TAG=... variables).
function M.check_tag(tag)
  local ok, why = M.parse(tag or "")
  if not ok then
    error(string.format("TAG=%s is not a release version (%s); use "
                        .. "TAG=vMAJOR.MINOR.PATCH[-suffix], e.g. "
                        .. "TAG=v1.2.3", tag or "", why), 0)
  end
  return tag
end

-- is_tag(s) -> true when s is a release tag.
function M.is_tag(s)
  return M.parse(s) ~= nil
end

-- compare(a, b) -> -1, 0 or 1 on MAJOR.MINOR.PATCH (suffixes sort a
-- pre-release before the release, as semver does).
function M.compare(a, b)
  local x = type(a) == "table" and a or assert(M.parse(a))
  local y = type(b) == "table" and b or assert(M.parse(b))
  for _, k in ipairs({ "major", "minor", "patch" }) do
    if x[k] ~= y[k] then
      return x[k] < y[k] and -1 or 1
    end
  end
  if x.suffix == y.suffix then
    return 0
  end
  if not x.suffix then
    return 1
  end
  if not y.suffix then
    return -1
  end
  return x.suffix < y.suffix and -1 or 1
end

return M
