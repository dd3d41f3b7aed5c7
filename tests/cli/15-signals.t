#!/usr/bin/env bash
# Ctrl-C / SIGTERM: children get the signal, the file target being made
# is deleted, vrun dies of the signal (130 / 143 in the shell).
. "$(dirname "$0")/../lib/tap.sh"
cd "$T"
cat > vrun.lua <<'LUA'
file "big.out" { run = function()
  sh "@echo partial > $@; echo $$$$ > child.pid; touch started.flag; exec sleep 60"
end }
LUA

wait_for() {  # bounded: 10 s at most
  local i
  for i in $(seq 1 200); do [ -e "$1" ] && return 0; sleep 0.05; done
  return 1
}

for sig in INT TERM; do
  rm -f started.flag child.pid big.out
  "$VRUN" big.out >"$T/sig.out" 2>"$T/sig.err" </dev/null &
  pid=$!
  wait_for started.flag
  ok $? "SIG$sig: the task started"
  kill -$sig $pid
  wait $pid
  rc=$?
  want=$([ $sig = INT ] && echo 130 || echo 143)
  is "$rc" "$want" "SIG$sig: vrun dies of the signal"
  [ ! -e big.out ]
  ok $? "SIG$sig: the half-made file target was deleted"
  cpid=$(cat child.pid)
  gone=1
  for i in $(seq 1 100); do
    kill -0 "$cpid" 2>/dev/null || { gone=0; break; }
    sleep 0.05
  done
  ok $gone "SIG$sig: the child got the signal"
  like "$(cat "$T/sig.err")" "Deleting file 'big.out'" "SIG$sig: says it deleted the file"
done

# a command that ignores SIGINT: the second Ctrl-C kills it and vrun
cat > stubborn.lua <<'LUA'
task "s" { run = function()
  sh "@trap '' INT; echo $$$$ > child.pid; touch started.flag; exec sleep 60"
end }
LUA
rm -f started.flag child.pid
"$VRUN" -f stubborn.lua s >"$T/sig.out" 2>"$T/sig.err" </dev/null &
pid=$!
wait_for started.flag
kill -INT $pid
sleep 0.2
kill -0 $pid 2>/dev/null
ok $? "the first SIGINT waits for a command that ignores it"
kill -INT $pid
wait $pid
is "$?" 130 "the second SIGINT ends vrun"
cpid=$(cat child.pid)
gone=1
for i in $(seq 1 100); do
  kill -0 "$cpid" 2>/dev/null || { gone=0; break; }
  sleep 0.05
done
ok $gone "and kills the command"
done_testing
