-- changelog.lua: the release notes of one tag, cut from a CHANGELOG.md
-- written the way VictoriaMetrics writes docs/CHANGELOG.md:
--
--   ## tip                      <- unreleased changes
--   * FEATURE: ...
--
--   ## [v1.150.0](https://github.com/.../releases/tag/v1.150.0)
--   Released at 2026-08-21
--   * BUGFIX: ...
--
-- A section runs from its "## " heading to the next "## " heading (lines
-- inside ``` fences do not count). The heading names the tag either as a
-- link text "[v1.150.0](...)" or bare "v1.150.0", matched exactly.
-- SPDX-License-Identifier: MIT

local M = {}

-- The tag a "## ..." heading names: the link text of "## [tag](url)",
-- else the heading's text ("tip" for "## tip").
local function heading_tag(line)
  local text = line:match("^##%s+(.-)%s*$")
  if not text then return nil end
  return text:match("^%[([^%]]+)%]%b()") or text
end

local function trim_blank(lines)
  local first, last = 1, #lines
  while first <= last and lines[first]:match("^%s*$") do
    first = first + 1
  end
  while last >= first and lines[last]:match("^%s*$") do
    last = last - 1
  end
  return table.concat(lines, "\n", first, last)
end

-- Split text into sections: { {tag=, heading=, lines={...}}, ... }.
local function sections(text)
  local out, cur, fenced = {}, nil, false
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    if line:match("^%s*```") or line:match("^%s*~~~") then
      fenced = not fenced
    end
    if not fenced and line:match("^##%s") and not line:match("^###") then
      cur = { tag = heading_tag(line), heading = line, lines = {} }
      out[#out + 1] = cur
    elseif cur then
      cur.lines[#cur.lines + 1] = line
    end
  end
  return out
end

--- The notes for `tag` from changelog text, or nil and a reason.
function M.section_from_text(text, tag)
  local has_tip = false
  for _, s in ipairs(sections(text)) do
    if s.tag == tag then
      local body = trim_blank(s.lines)
      if body == "" then
        return nil, string.format("the section for %s is empty", tag)
      end
      return body
    end
    if s.tag == "tip" then has_tip = true end
  end
  local why = string.format("no '## [%s](...)' section", tag)
  if has_tip then
    why = why .. " (there is a '## tip' section: rename it to '## ["
      .. tag .. "](...)' when releasing)"
  end
  return nil, why
end

--- The notes for `tag` from the file at `path`, or nil and a reason
--- naming the file.
function M.section(path, tag)
  local f, err = io.open(path, "r")
  if not f then
    return nil, string.format("cannot read the changelog %s (%s)", path,
      err)
  end
  local text = f:read("a")
  f:close()
  local body, why = M.section_from_text(text, tag)
  if not body then
    return nil, string.format("%s: %s", path, why)
  end
  return body
end

return M
