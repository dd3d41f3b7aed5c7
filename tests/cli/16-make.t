#!/usr/bin/env bash
# Make interop: targets only the Makefile defines run through make with
# the same variables and flags; no vrun.lua: delegate, or say so.
. "$(dirname "$0")/../lib/tap.sh"
cd "$T"
printf 'legacy:\n\t@echo legacy V=$(V)\nboth:\n\t@echo from-make\nfail:\n\t@exit 4\n' > Makefile
cat > vrun.lua <<'LUA'
task "both" { run = function() sh "@echo from-vrun" end }
task "all" { deps = { "legacy" }, run = function() sh "@echo all" end }
LUA

vr -s legacy V=1
is "$rc" 0 "a Makefile-only target runs"
is "$out" "legacy V=1" "through make, with the command-line variables"

vr legacy V=2
is "$out" "make --no-print-directory legacy V=2
legacy V=2" "the make command is echoed"

vr -n -s legacy V=3
is "$out" "echo legacy V=3" "-n reaches make"

vr -q legacy
is "$rc" 1 "-q reaches make (legacy would run)"
is "$out" "" "and runs nothing"

vr -s both
is "$out" "from-vrun" "vrun.lua wins over the Makefile"

vr -s all
is "$out" "legacy V=
all" "a vrun task can depend on a Makefile target"

vr -s fail
is "$rc" 2 "a failing make target fails the run"
is "$err" "make: *** [Makefile:6: fail] Error 4
vrun: *** [fail] Error 2" "make's own message, then vrun's with make's status"

vr nosuch
is "$err" "vrun: *** No rule to make target 'nosuch'.  Stop." "unknown to both"

mkdir only-make && cd only-make
printf 'hello:\n\t@echo hello from make\n' > Makefile
vr hello
is "$rc" 0 "no vrun.lua: runs make"
is "$out" "hello from make" "make's output"
is "$err" "vrun: no vrun.lua here; running make (vrun delegates to make where a Makefile exists)" \
  "and says so"

mkdir ../empty && cd ../empty
vr
is "$rc" 2 "no vrun.lua and no Makefile"
is "$err" "vrun: *** No vrun.lua here (and no Makefile to delegate to).  Stop.
vrun: write a vrun.lua, or name one with -f FILE" "says so"
done_testing
