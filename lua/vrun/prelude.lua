-- prelude.lua: Lua-side sugar of the vrun DSL, run after the C globals
-- (task, file, sh, capture, var, default, include, invoke, ...) exist.
-- SPDX-License-Identifier: MIT

-- project { ... }: validated project settings (lua/vrun/project.lua).
-- Required lazily, so a task file that never calls it never loads it.
function project(t)
  return require("vrun.project")(t)
end

-- tasks(): names of the defined tasks are not exposed; keep helpers here
-- small and documented in docs/guide.md.

-- exists(path): true when path exists (file or folder).
function exists(path)
  local f = io.open(path, "r")
  if f then
    f:close()
    return true
  end
  return false
end
