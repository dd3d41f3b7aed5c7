#!/usr/bin/env bash
# --list, --help [TASK], --completions, -C, default_target, print().
. "$(dirname "$0")/../lib/tap.sh"
mkdir -p "$T/proj/sub"
cd "$T/proj/sub"
cat > vrun.lua <<'LUA'
task "build" { desc = "Build it", deps = { "gen" }, run = function() print("built", 1) end }
task "gen" { run = function() end }
file "out.bin" { deps = { "build" } }
task "publish-release" { desc = "Publish", needs = { "TAG", "HOME" },
  modules = { "github" }, deps = { "build" }, run = function() end }
default_target "publish-release"
LUA
cd "$T"

vr -C proj -C sub --list
is "$rc" 0 "--list with cumulative -C"
is "$out" "  build            Build it
  gen
  publish-release  Publish" "tasks in order, with descriptions; file targets hidden"
vr -C proj/sub --list -s
is "$out" "build
gen
publish-release" "--list -s: names only"

vr -C proj/sub --help publish-release
is "$out" "task publish-release
  Publish
  deps: build
  needs: TAG (not set)
  needs: HOME (set)
  modules: github
  defined at vrun.lua:4" "--help TASK"
vr -C proj/sub --help nope
is "$rc" 2 "--help of an unknown task"

vr --help
is "$rc" 0 "--help"
like "$out" "^Usage: vrun \[options\] \[target\.\.\.\] \[VAR=value\.\.\.\]" "usage line"
like "$out" "-j, --jobs\[=N\] +Run up to N commands at once" "options listed"

vr -C proj/sub -s build
is "$out" "built	1" "print() goes through vrun's output"

vr -C proj/sub
is "$rc" 2 "default_target is the default goal"
is "$err" "vrun: *** TAG is not set (needed by publish-release).  Stop." "(it needs TAG)"

vr -C nowhere
is "$rc" 2 "-C to a missing folder"
is "$err" "vrun: *** nowhere: No such file or directory.  Stop." "one line"

echo '-- nothing' > empty.lua
vr -f empty.lua
is "$err" "vrun: *** No targets.  Stop." "no tasks at all"

for sh in bash zsh fish; do
  vr --completions $sh
  is "$rc" 0 "--completions $sh"
  if [ -f "$TOP/completions/vrun.$sh" ]; then
    is "$out" "$(cat "$TOP/completions/vrun.$sh")" "completions/vrun.$sh is up to date"
  else
    fail "completions/vrun.$sh exists"
  fi
done
vr --completions bash
printf '%s\n' "$out" > comp.bash
bash -n comp.bash
ok $? "the bash script parses"
cd proj/sub
got=$(bash -c '. ../../comp.bash; vrun() { "$VRUN" "$@"; }; COMP_WORDS=(vrun pu); COMP_CWORD=1; _vrun; echo "${COMPREPLY[@]}"')
is "$got" "publish-release" "bash completes task names"
got=$(bash -c '. ../../comp.bash; COMP_WORDS=(vrun --dry); COMP_CWORD=1; _vrun; echo "${COMPREPLY[@]}"')
is "$got" "--dry-run" "bash completes options"
done_testing
