#!/usr/bin/env bash
# -j: independent tasks run at once (a barrier proves it, no timing), each
# task's output stays together, no task starts before its deps end.
. "$(dirname "$0")/../lib/tap.sh"
cd "$T"
cat > vrun.lua <<'LUA'
-- each waits (bounded) for the other's flag: only passes when parallel
local wait = 'i=0; while [ ! -e %s ] && [ $$i -lt 200 ]; do sleep 0.05; i=$$((i+1)); done; [ -e %s ]'
task "p1" { run = function()
  sh "@echo p1-start"
  sh("@touch p1.flag; " .. wait:format("p2.flag", "p2.flag"))
  sh "@echo p1-end"
end }
task "p2" { run = function()
  sh "@echo p2-start"
  sh("@touch p2.flag; " .. wait:format("p1.flag", "p1.flag"))
  sh "@echo p2-end"
end }
task "both" { deps = { "p1", "p2" } }
task "dep" { run = function() sh "@sleep 0.2; echo dep-done > dep.out" end }
task "user" { deps = { "dep" }, run = function() sh "@cat dep.out" end }
task "pair" { deps = { "user", "lone" } }
task "lone" { run = function() sh "@echo lone" end }
LUA

vr -j2 both
is "$rc" 0 "-j2: both ran at once (each waited for the other)"
p1=$(printf '%s\n' "$out" | grep -n p1 | cut -d: -f1 | tr '\n' ' ')
p2=$(printf '%s\n' "$out" | grep -n p2 | cut -d: -f1 | tr '\n' ' ')
like "$p1 $p2" "^(1 2  3 4 |3 4  1 2 )$" "each task's output kept together"

rm -f p1.flag p2.flag
vr -j 2 pair
is "$rc" 0 "-j 2 (separate argument)"
like "$out" "dep-done" "a task starts only after its dependency finished"

rm -f p1.flag p2.flag dep.out
vr --jobs=3 pair
is "$rc" 0 "--jobs=3"

vr -j0 both
is "$rc" 2 "-j0 is refused"
is "$err" "vrun: *** the '-j' option requires a positive integer argument up to 1024, not '0'.  Stop." \
  "bad -j: one line"
vr -jx both
is "$rc" 2 "-jx is refused"
done_testing
