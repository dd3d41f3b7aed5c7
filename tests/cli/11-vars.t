#!/usr/bin/env bash
# Variables: make's precedence, -e, $(UNSET) is an error, export to
# children, VRUNFLAGS into a nested vrun, needs.
. "$(dirname "$0")/../lib/tap.sh"
cd "$T"
cat > vrun.lua <<'LUA'
default { A = "default-a", B = "default-b", C = "default-c", D = "default-d" }
var.B = "file-b"
var.C = "file-c"
task "show" { run = function()
  sh "@echo A=$(A) B=$(B) C=$(C) D=$(D)"
end }
task "lua" { run = function()
  log("lua", var.A, var.B, tostring(var.NOPE))
end }
task "unset" { run = function() sh "rm -rf $(DIR)/" end }
task "env" { run = function() sh "@echo child:$$C:$${B}" end }
task "shellvars" { run = function() sh "@X=1; echo $$X ${HOME:+home}" end }
task "nested" { run = function() sh "@$(VRUN) -s show" end }
task "publish" { needs = { "TAG" }, run = function() sh "@echo tag=$(TAG)" end }
task "release" { deps = { "publish" } }
LUA

vr show
is "$out" "A=default-a B=file-b C=file-c D=default-d" "default < file"

A=env-a B=env-b vr show
is "$out" "A=env-a B=file-b C=file-c D=default-d" "environment beats default, file beats environment"

B=env-b vr show C=cmd-c
is "$out" "A=default-a B=file-b C=cmd-c D=default-d" "command line beats file"

B=env-b vr -e show
is "$out" "A=default-a B=env-b C=file-c D=default-d" "-e: environment beats file"

B=env-b C=env-c vr -e show C=cmd-c
is "$out" "A=default-a B=env-b C=cmd-c D=default-d" "-e: command line still wins"

vr lua A=x
is "$out" "lua	x	file-b	nil" "var.X reads; nil when unset"

vr unset
is "$rc" 2 "\$(UNSET) fails"
is "$err" "vrun: *** [unset] vrun.lua:10: variable 'DIR' is not set (used by 'unset')" \
  "\$(UNSET) names the variable and the task"
unlike "$out" "rm -rf" "the command never ran nor echoed"

vr env C=cmd
is "$out" "child:cmd:file-b" "command-line and file variables reach children"

vr shellvars
is "$out" "1 home" "\$\$ is \$; \$NAME and \${NAME} are the shell's"

VRUN="$VRUN" vr nested C=outer -s
is "$out" "A=default-a B=file-b C=outer D=default-d" \
  "VRUNFLAGS carries variables into a nested vrun"

VRUNFLAGS="-s C=fromflags" vr show
is "$out" "A=default-a B=file-b C=fromflags D=default-d" \
  "VRUNFLAGS is read like MAKEFLAGS (-s and variables)"

vr show 1X=y
is "$rc" 2 "malformed assignment exits 2"
is "$err" "vrun: *** malformed variable assignment '1X=y' (expected NAME=value).  Stop." \
  "malformed assignment: one line"

vr release
is "$rc" 2 "needs checked across the graph"
is "$err" "vrun: *** TAG is not set (needed by publish).  Stop." "needs message"
is "$out" "" "nothing ran before the needs check"

vr release TAG=v1.0.0
is "$out" "tag=v1.0.0" "needs satisfied"
TAG=v2 vr release
is "$out" "tag=v2" "needs satisfied from the environment"
done_testing
