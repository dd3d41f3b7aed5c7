#!/usr/bin/env bash
# The graph: unknown targets with "did you mean", cycles, -k, run once.
. "$(dirname "$0")/../lib/tap.sh"
cd "$T"
cat > vrun.lua <<'LUA'
task "build" { run = function() sh "@echo build" end }
task "builds" { run = function() sh "@echo builds" end }
task "a" { deps = { "b" }, run = function() sh "echo a" end }
task "b" { deps = { "c" }, run = function() sh "echo b" end }
task "c" { deps = { "a" }, run = function() sh "echo c" end }
task "self" { deps = { "self" } }
task "fail" { run = function() sh "@echo failing; exit 1" end }
task "after" { deps = { "fail" }, run = function() sh "@echo after" end }
task "other" { run = function() sh "@echo other" end }
task "all" { deps = { "after", "other" } }
task "fail2" { run = function() sh "@exit 2" end }
task "all2" { deps = { "fail", "other", "fail2" } }
task "twice" { deps = { "build", "build", "x1", "x2" } }
task "x1" { deps = { "build" } }
task "x2" { deps = { "build" } }
LUA

vr biuld
is "$rc" 2 "unknown target exits 2"
is "$err" "vrun: *** No rule to make target 'biuld'.  Stop.
vrun: did you mean 'build'?" "unknown target, with did you mean"
vr buil
is "$err" "vrun: *** No rule to make target 'buil'.  Stop.
vrun: did you mean 'build' or 'builds'?" "closest names first"
vr zzzzzz
is "$err" "vrun: *** No rule to make target 'zzzzzz'.  Stop." "no suggestion when nothing is close"

vr a
is "$rc" 2 "cycle exits 2"
is "$err" "vrun: *** Circular dependency: a -> b -> c -> a.  Stop." "cycle named"
is "$out" "" "nothing ran"
vr self
is "$err" "vrun: *** Circular dependency: self -> self.  Stop." "self cycle"

vr all
is "$rc" 2 "failure stops the run"
is "$out" "failing" "nothing after the failure ran"
is "$err" "vrun: *** [fail] Error 1" "failure line"

vr -k all
is "$rc" 2 "-k still exits 2"
is "$out" "failing
other" "-k: independent work goes on, dependents do not run"
is "$err" "vrun: *** [fail] Error 1
vrun: Target 'all' not remade because of errors.
vrun: *** 1 task failed: fail." "-k lists what was not made and what failed"

vr -k all2 other
is "$err" "vrun: *** [fail] Error 1
vrun: *** [fail2] Error 2
vrun: Target 'all2' not remade because of errors.
vrun: *** 2 tasks failed: fail, fail2." "-k: every failure listed at the end"
is "$out" "failing
other" "independent work ran once"

vr twice
is "$out" "build" "a target runs once per run"
vr build build
is "$out" "build" "even when named twice"
done_testing
