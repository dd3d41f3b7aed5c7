#!/usr/bin/env bash
# Secrets registered through the host (secret(), secret-looking variable
# names and values read with var_get) never reach the output: stdout,
# stderr, error messages, -n plans, echoed commands and their output,
# under -n, -v and on errors.
. "$(dirname "$0")/../lib/tap.sh"
M=$B/tests/modules
cd "$T" || exit 1
S1=s3cr3t-registered-value
S2=tok-FAKE-123456            # API_TOKEN: secret by its name
S3=ghp_FAKEFAKEFAKEFAKE0001   # NOTE: secret by its value
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export DEAD

cat > vrun.lua <<'EOF2'
local g = require "good"
local S1 = "s3cr3t-registered-value"
local function secrets()
  g.secret(S1)
  return g.var("API_TOKEN"), g.var("NOTE")
end
task "all" { run = function()
  local tok, note = secrets()
  g.log(2, "info " .. S1 .. " " .. tok .. " " .. note)
  g.log(3, "verbose " .. S1 .. " " .. tok)
  g.log(1, "warn " .. S1 .. " " .. note)
  g.log(0, "error " .. tok)
  -- a command and its output, through the run service
  g.run({ "sh", "-c", "echo run-out $0; echo run-err $1 >&2", S1, tok })
  -- HTTP: the URL carries the token; -v logs each retry with it, the
  -- error message names it; -n prints a plan with it
  local r = g.http{ method = "POST", body = note,
                    url = "http://127.0.0.1:" .. os.getenv("DEAD") ..
                          "/x?token=" .. tok, max_attempts = 2 }
  g.log(2, "http error: " .. r.error)
  -- sh lines and their output
  sh("echo sh-line " .. S1 .. " $(API_TOKEN) $(NOTE)")
end }
task "fail" { run = function()
  local tok = secrets()
  error("failed with " .. S1 .. " and " .. tok)
end }
task "fail-sh" { run = function()
  secrets()
  sh("echo " .. S1 .. "; exit 3")
end }
task "fail-run" { run = function()
  local tok = secrets()
  local ok, msg = g.run({ "sh", "-c", "exit 5", tok }, { quiet = 1 })
  error(msg)
end }
EOF2

check() {  # check LABEL: no secret anywhere in $out/$err
  unlike "$out$err" "$S1|$S2|$S3" "$1: no secret in stdout or stderr"
}
vars=(API_TOKEN=$S2 NOTE=$S3)

vr -M "$M" all "${vars[@]}"
check "plain run"
norm=$(printf '%s' "$out" | sed -E 's/after [0-9]+ ms/after N ms/')
is "$norm" "info *** *** ***
sh -c 'echo run-out \$0; echo run-err \$1 >&2' *** ***
run-out ***
http error: POST http://127.0.0.1:$DEAD/x?token=***: Failed to connect to 127.0.0.1 port $DEAD after N ms: Couldn't connect to server (after 2 attempts)
echo sh-line *** *** ***
sh-line *** *** ***" "plain run: masked at every place a secret was" 
is "$err" "vrun: warning: warn *** ***
vrun: error ***
run-err ***" "plain run: stderr masked"

vr -v -M "$M" all "${vars[@]}"
check "-v"
like "$out" "^verbose \*\*\* \*\*\*$" "-v: verbose module line masked"
like "$out" "http: POST http://127.0.0.1:$DEAD/x\?token=\*\*\*: .*retrying in" \
  "-v: retry line masked"

vr -n -M "$M" all "${vars[@]}"
check "-n"
is "$out" "info *** *** ***
sh -c 'echo run-out \$0; echo run-err \$1 >&2' *** ***
http (dry run): POST http://127.0.0.1:$DEAD/x?token=*** (24 bytes)
http error: 
echo sh-line *** *** ***" "-n: plans and echoed commands masked"

vr -M "$M" fail "${vars[@]}"
check "task error"
is "$rc" 2 "task error: exit 2"
is "$err" "vrun: *** [fail] vrun.lua:26: failed with *** and ***" "task error: message masked"

vr -M "$M" fail-sh "${vars[@]}"
check "failing sh"
is "$out" "echo ***; exit 3
***" "failing sh: line and output masked"

vr -M "$M" fail-run "${vars[@]}"
check "failing run"
like "$err" "^vrun: \*\*\* \[fail-run\] vrun\.lua:[0-9]+: 'sh -c 'exit 5' \*\*\*' exited with status 5$" \
  "failing run: the error names the command, masked"

vr -v -n -M "$M" fail "${vars[@]}"
check "-v -n error"

done_testing
