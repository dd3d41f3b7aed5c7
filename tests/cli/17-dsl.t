#!/usr/bin/env bash
# The task-file DSL: include, capture (and -n), invoke, secrets, expand,
# sh options, modules preload, Lua errors with file:line (-v traceback).
. "$(dirname "$0")/../lib/tap.sh"
cd "$T"
mkdir -p lib
cat > lib/extra.lua <<'LUA'
count = (count or 0) + 1
task "extra" { run = function() sh "@echo extra loaded $(count_str)" end }
LUA
cat > vrun.lua <<'LUA'
include "lib/extra"
include "lib/extra.lua"
var.count_str = tostring(count)
var.WHO = capture "echo world"
task "greet" { run = function() sh "@echo hello $(WHO)" end }
task "cap" { run = function()
  local a = capture "printf 'x\\n\\n'"
  local b = capture("echo ro", { readonly = true })
  log("cap=[" .. a .. "] ro=[" .. b .. "] dry=" .. tostring(dry_run()))
end }
task "inv" { run = function()
  invoke("show", { TAG = "v1" })
  invoke("show", { TAG = "v2" })
  invoke("show", { TAG = "v1" })
  sh "@echo inv done"
end }
task "show" { needs = { "TAG" }, run = function() sh "@echo show $(TAG)" end }
task "leak" { run = function()
  sh "echo token=$(API_TOKEN)"
  sh "@echo env=$$API_TOKEN"
  local s = secret(capture "echo xoxb-FAKE-NOT-REAL")
  sh "@echo slack=xoxb-FAKE-NOT-REAL"
end }
task "opts" { run = function()
  local st = sh("exit 5", { nofail = true, quiet = true })
  sh "-exit 6"
  log("status=" .. st .. " " .. expand("$(WHO)-$@-$$"))
end }
task "boom" { run = function() local x = nil; return x.y end }
task "mod" { modules = { "no_such_module_x" }, run = function() sh "echo never" end }
LUA

vr -s extra
is "$out" "extra loaded 1" "include finds paths next to the task file, loads once"

printf 'task "w" { dep = { "x" } }\n' > typo.lua
vr -f typo.lua w
is "$err" "vrun: warning: typo.lua:1: task 'w': unknown field 'dep'" \
  "a misspelt field is reported"

printf 'include "no_such_include"\n' > inc.lua
vr -f inc.lua
is "$rc" 2 "a missing include stops the run"
like "$err" "include 'no_such_include': not found \(tried .*/tasks/no_such_include\.lua, \./no_such_include, \./no_such_include\.lua\)" \
  "and lists the paths tried (share folder first)"

vr greet
is "$out" "hello world" "capture at load time, newline stripped"

vr cap
is "$out" "cap=[x] ro=[ro] dry=false" "capture strips trailing newlines"
vr -n cap
is "$out" "echo world
printf 'x\\n\\n'
cap=[] ro=[ro] dry=true" "-n: capture prints and returns \"\"; readonly runs"

vr inv
is "$out" "show v1
show v2
inv done" "invoke runs each (target, variables) pair once"

vr -j2 inv
is "$out" "show v1
show v2
inv done" "invoke at -j2"

cat > cyc.lua <<'LUA'
task "cyc" { run = function() invoke("cyc2") end }
task "cyc2" { deps = { "cyc" } }
LUA
vr -f cyc.lua cyc
is "$rc" 2 "an invoke that needs its invoker fails"
is "$err" "vrun: *** [cyc] cyc.lua:1: Circular dependency: cyc -> cyc2 -> cyc (through invoke)
vrun: *** [cyc] cyc.lua:1: invoked target 'cyc2' failed" \
  "named as a cycle, not a hang; the outer invoke then fails too"

vr leak API_TOKEN=ghp_FAKE0123456789
is "$out" "echo token=***
token=***
env=***
slack=***" "secrets masked in echoes, child output and secret()"
unlike "$out$err" "FAKE" "no secret anywhere"

cat > env.lua <<'LUA'
task "e" { run = function() sh "@echo gh=$$GITHUB_TOKEN hook=$$SLACK_WEBHOOK" end }
LUA
GITHUB_TOKEN=ghp_FAKEFAKEFAKE SLACK_WEBHOOK=http://127.0.0.1/fake-hook vr -f env.lua e
is "$out" "gh=*** hook=***" "secret-looking environment variables are masked in child output"

vr opts
is "$out" "exit 6
status=5 world-opts-\$" "sh nofail returns the status; expand"
is "$err" "vrun: [opts] Error 6 (ignored)" "a '-' command's failure is reported, ignored"

vr boom
is "$rc" 2 "Lua runtime error exits 2"
is "$err" "vrun: *** [boom] vrun.lua:29: attempt to index a nil value (local 'x')" \
  "names the task and file:line"
vr -v boom
like "$err" "stack traceback:" "-v adds a traceback"

printf 'task "t" { run = function() error({ msg = "custom failure" }) end }\n' > te.lua
vr -f te.lua t
is "$err" "vrun: *** [t] custom failure" "an error table's msg is shown"

vr mod
is "$rc" 2 "a missing module stops the run"
like "$err" "^vrun: \*\*\* module 'no_such_module_x'.*\.  Stop\.$" "before anything runs"
is "$out" "" "nothing ran"
vr -n mod
is "$rc" 2 "modules are checked under -n too"

# -M: modules declared by tasks load from the given folder, before
# anything runs; --list loads none
cat > mods.lua <<'LUA'
task "good" { modules = { "good" }, run = function()
  log("good is a " .. type(require "good"))
end }
task "broken" { modules = { "bad_abi" }, run = function() end }
LUA
vr -f mods.lua good
is "$rc" 2 "without -M the test module is not found"
vr -f mods.lua -M "$B/tests/modules" good
is "$out" "good is a table" "-M DIR finds it"
vr -f mods.lua --module-path=/nowhere -M "$B/tests/modules" good
is "$rc" 0 "-M is repeatable"
vr -f mods.lua -M "$B/tests/modules" --list
is "$rc" 0 "--list loads no module (bad_abi is not refused)"
vr -f mods.lua -M "$B/tests/modules" broken
is "$rc" 2 "a refused module stops the run"
like "$err" "^vrun: \*\*\* .*bad_abi.*\.  Stop\.$" "with the loader's message, make-style"
done_testing
