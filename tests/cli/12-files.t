#!/usr/bin/env bash
# File targets: make's timestamp rule, -B, -q, files without rules.
. "$(dirname "$0")/../lib/tap.sh"
cd "$T"
cat > vrun.lua <<'LUA'
file "out.txt" { deps = { "in.txt" }, run = function() sh "cp $< $@" end }
file "final.txt" { deps = { "out.txt", "extra.txt" },
  run = function() sh "cat $^ > $@" end }
task "all" { deps = { "final.txt" } }
file "broken" { deps = { "nowhere.c" }, run = function() sh "touch $@" end }
task "phony-dep" { run = function() sh "@true" end }
file "stamp" { deps = { "phony-dep" }, run = function() sh "touch $@" end }
LUA
echo in > in.txt
echo extra > extra.txt
touch -d '2020-01-01 00:00:00' in.txt extra.txt

vr all
is "$rc" 0 "builds"
is "$out" "cp in.txt out.txt
cat out.txt extra.txt > final.txt" "both file targets made, deps first"
is "$(cat final.txt)" "in
extra" "the file has the content"

vr all
is "$out" "vrun: Nothing to be done for 'all'." "up to date: nothing runs"
vr final.txt
is "$out" "vrun: 'final.txt' is up to date." "file goal up to date"

vr -q all
is "$rc" 0 "-q: 0 when up to date"

touch -d '2020-06-01 00:00:00' out.txt final.txt
touch -d '2021-01-01 00:00:00' extra.txt
vr -q all
is "$rc" 1 "-q: 1 when something would run"
is "$out" "" "-q prints nothing"
is "$(cat final.txt)" "in
extra" "-q changed nothing"
vr -s all
is "$out" "" "-s: silent"
[ "$(stat -c %Y final.txt)" -gt "$(stat -c %Y extra.txt)" ]
ok $? "final.txt rebuilt"
is "$(stat -c %Y out.txt)" "$(date -d '2020-06-01 00:00:00' +%s)" \
  "out.txt was up to date and left alone"
vr all
is "$out" "vrun: Nothing to be done for 'all'." "only the stale part was rebuilt, then up to date"

touch -d '2020-06-01 00:00:00' out.txt final.txt
touch -d '2022-01-01 00:00:00' in.txt
vr all
is "$out" "cp in.txt out.txt
cat out.txt extra.txt > final.txt" "a newer source rebuilds the chain"

vr -B all
is "$out" "cp in.txt out.txt
cat out.txt extra.txt > final.txt" "-B rebuilds everything"

vr -n -B all
is "$out" "cp in.txt out.txt
cat out.txt extra.txt > final.txt" "-n -B prints what -B would run"

vr broken
is "$rc" 2 "missing dependency without a rule"
is "$err" "vrun: *** No rule to make target 'nowhere.c', needed by 'broken'.  Stop." \
  "make's message for it"

vr in.txt
is "$out" "vrun: Nothing to be done for 'in.txt'." "an existing file is a valid goal"

vr stamp
vr stamp
is "$out" "touch stamp" "a task dependency always makes the file target run"
done_testing
