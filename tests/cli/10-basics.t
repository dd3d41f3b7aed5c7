#!/usr/bin/env bash
# Basic runs: tasks, deps order, sh echo, -s, @, -n, exit codes, errors.
. "$(dirname "$0")/../lib/tap.sh"
cd "$T"
cat > vrun.lua <<'LUA'
task "all" { desc = "everything", deps = { "a", "b" },
  run = function(t) sh "echo all:$@:$^:$<" end }
task "a" { run = function() sh "echo A" end }
task "b" { deps = { "a" }, run = function() sh "@echo B" end }
task "bad" { run = function() sh "exit 3" end }
task("fn", function() sh "echo fn" end)
LUA

vr
is "$rc" 0 "default goal is the first task"
is "$out" "echo A
A
B
echo all:all:a b:a
all:all:a b:a" "deps run first, once, in order; @ hides the echo; \$@ \$^ \$<"

vr -s all
is "$out" "A
B
all:all:a b:a" "-s silences the echo"

vr -n all
is "$rc" 0 "-n exits 0"
is "$out" "echo A
echo B
echo all:all:a b:a" "-n prints every command (even @ ones) and runs none"

vr bad
is "$rc" 2 "a failing command exits 2"
is "$err" "vrun: *** [bad] Error 3" "make-style failure line"

vr fn
is "$out" "echo fn
fn" "task(name, function) form"

vr --dry-run fn
is "$out" "echo fn" "--dry-run long form"
vr --just-print fn
is "$out" "echo fn" "--just-print alias"

printf 'task "x" {\n' > syntax.lua
vr -f syntax.lua
is "$rc" 2 "syntax error exits 2"
like "$err" "^vrun: \*\*\* syntax.lua:[0-9]+: .*\.  Stop\.$" "syntax error names file:line"

vr -f missing.lua
is "$rc" 2 "missing task file exits 2"
is "$err" "vrun: *** missing.lua: No such file or directory.  Stop." "missing task file: one line"

vr --bogus
is "$rc" 2 "unknown option exits 2"
is "$err" "vrun: *** unknown option '--bogus' (see 'vrun --help').  Stop." \
  "unknown option: one line"

vr --version
like "$out" "^vrun [0-9]+\.[0-9]+\.[0-9]+$" "--version"
done_testing
