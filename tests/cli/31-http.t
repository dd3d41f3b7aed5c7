#!/usr/bin/env bash
# The HTTP service against a local peer that injects faults: attempts
# counted, waits honoured (scaled down), final outcomes.
. "$(dirname "$0")/../lib/tap.sh"
M=$B/tests/modules
cd "$T" || exit 1
LOG=$T/requests.jsonl
start_server http python3 "$TOP/tests/servers/http_faults.py" --log "$LOG"
export U="http://127.0.0.1:$http_PORT"
# Waits are scaled by 0.05: a 2 s Retry-After becomes 0.1 s.
export VRUN_HTTP_TIME_SCALE=0.05

cat > vrun.lua <<'EOF2'
local g = require "good"
local U = os.getenv("U")
local function show(label, r)
  g.log(2, string.format("%s: status=%d attempts=%d rc=%d body=%s error=%s",
    label, r.status, r.attempts, r.rc, (r.body or ""):gsub("\n", ""),
    r.error))
end
local function get(label, path, extra)
  local req = { url = U .. path, max_attempts = 4 }
  for k, v in pairs(extra or {}) do req[k] = v end
  show(label, g.http(req))
end
task "retry-5xx" { run = function()
  get("503x2", "/fail/503/2/a")
  get("502x1", "/fail/502/1/a")
  get("504x1", "/fail/504/1/a")
  get("500-always", "/status/500")
end }
task "final" { run = function()
  get("422", "/status/422", { final = { 422 } })
  get("503-final", "/fail/503/1/b", { final = { 503 } })
  get("404", "/status/404")
  get("403-plain", "/ratelimit/403plain/1/a")
end }
task "drop" { run = function()
  get("drop", "/drop/2/a")
end }
task "slow" { run = function()
  get("slow", "/slow/1/a?delay=3", { idle_timeout_ms = 300 })
end }
task "refused" { run = function()
  show("refused", g.http{ url = os.getenv("DEAD"), max_attempts = 3 })
end }
task "ratelimit" { run = function()
  get("429-retry-after", "/ratelimit/429ra/1/a?wait=2")
  get("403-reset", "/ratelimit/403reset/1/a?wait=3")
  get("429-reset", "/ratelimit/429reset/1/a?wait=2")
end }
task "ratelimit-budget" { run = function()
  get("budget", "/ratelimit/429ra/9/b?wait=1", { max_attempts = 2 })
end }
task "ratelimit-too-long" { run = function()
  get("too-long", "/ratelimit/429ra/1/c?wait=100")
end }
task "spent" { run = function()
  get("spent", "/spent?wait=" .. os.getenv("WAIT"))
  get("next", "/ok")
end }
task "many" { run = function()
  local reqs = {}
  for i = 1, 6 do reqs[i] = { url = U .. "/fail/503/1/m" .. i } end
  reqs[7] = { url = U .. "/status/422", final = { 422 } }
  for i, r in ipairs(g.http_many(reqs, 3)) do show("many" .. i, r) end
end }
task "headers" { run = function()
  local r = g.http{ url = U .. "/ok", want_header = "x-test",
                    headers = { "X-Hello: there", "Accept: text/plain" } }
  show("ok", r)
  g.log(2, "header: " .. (r.header or "none"))
end }
task "post-memory" { run = function()
  show("post", g.http{ method = "PATCH", url = U .. "/upload",
                       body = "{\"a\":1}",
                       headers = { "Content-Type: application/json" } })
end }
task "dry-post" { run = function()
  show("dry", g.http{ method = "POST", url = U .. "/upload", body = "hello" })
  show("dry-get", g.http{ url = U .. "/ok" })
end }
task "nosvc" { run = function()
  show("nosvc", g.http{ url = U .. "/ok" })
end }
EOF2

count() { grep -c "\"path\": \"$1\"" "$LOG"; }
# smallest gap in seconds between consecutive requests to a path
mingap() {
  python3 - "$LOG" "$1" <<'PY'
import json, sys
t = [json.loads(l)["time"] for l in open(sys.argv[1])
     if json.loads(l)["path"] == sys.argv[2]]
print(min(b - a for a, b in zip(t, t[1:])) if len(t) > 1 else -1)
PY
}
ge() { python3 -c "import sys; sys.exit(0 if float('$1') >= float('$2') else 1)"; }

vr -M "$M" retry-5xx
is "$rc" 0 "retry-5xx: exit 0"
is "$out" "503x2: status=200 attempts=3 rc=0 body=recovered after 2 error=
502x1: status=200 attempts=2 rc=0 body=recovered after 1 error=
504x1: status=200 attempts=2 rc=0 body=recovered after 1 error=
500-always: status=500 attempts=4 rc=0 body=status 500 error=" \
  "500/502/503/504 retried; a lasting 500 is returned after the budget"
is "$(count /fail/503/2/a)" 3 "server saw 3 attempts for 503x2"
is "$(count /status/500)" 4 "server saw max_attempts (4) for a lasting 500"

vr -M "$M" final
is "$out" "422: status=422 attempts=1 rc=0 body=status 422 error=
503-final: status=503 attempts=1 rc=0 body=failing error=
404: status=404 attempts=1 rc=0 body=status 404 error=
403-plain: status=403 attempts=1 rc=0 body=forbidden error=" \
  "final statuses, 404 and a plain 403 are not retried"
is "$(count /status/422)" 1 "server saw one 422 attempt"
is "$(count /fail/503/1/b)" 1 "a 503 listed as final is sent once"

vr -M "$M" drop
is "$out" "drop: status=200 attempts=3 rc=0 body=complete error=" \
  "connection dropped mid-body twice, third attempt completes"
is "$(count /drop/2/a)" 3 "server saw 3 attempts for drop"

vr -M "$M" slow
is "$out" "slow: status=200 attempts=2 rc=0 body=in time error=" \
  "a reply slower than the idle timeout is abandoned and retried"
is "$(count /slow/1/a)" 2 "server saw 2 attempts for slow"

# a port nobody listens on: bind one, note it, close it
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DEAD="http://127.0.0.1:$DEAD/x" vr -M "$M" refused
like "$out" "^refused: status=0 attempts=3 rc=5 body= error=GET http://127\.0\.0\.1:[0-9]+/x: .*Couldn't connect to server \(after 3 attempts\)$" \
  "connection refused: retried to the budget, then VRUN_ENET"

vr -v -M "$M" ratelimit
is "$(printf '%s\n' "$out" | grep -v '^http: ')" "429-retry-after: status=200 attempts=2 rc=0 body=allowed error=
403-reset: status=200 attempts=2 rc=0 body=allowed error=
429-reset: status=200 attempts=2 rc=0 body=allowed error=" \
  "429/403 rate limits: waited, then retried once"
like "$out" "http: GET $U/ratelimit/429ra/1/a\?wait=2: rate limited \(429, Retry-After\); retrying in 0\.100 s \(attempt 2 of 4\)" \
  "Retry-After: 2 s scaled by 0.05 is a 0.1 s wait"
like "$out" "http: GET $U/ratelimit/403reset/1/a\?wait=3: rate limited \(403, x-ratelimit-reset\); retrying in 0\.(15|20|25)0 s" \
  "x-ratelimit-reset: waits until the reset (3-5 s, scaled)"
gap=$(mingap /ratelimit/429ra/1/a)
ge "$gap" 0.1; ok $? "Retry-After honoured: server saw a gap of ${gap}s >= 0.1s"
gap=$(mingap /ratelimit/403reset/1/a)
ge "$gap" 0.1; ok $? "reset honoured: server saw a gap of ${gap}s >= 0.1s"

vr -M "$M" ratelimit-budget
is "$out" "budget: status=429 attempts=2 rc=7 body=slow down error=GET $U/ratelimit/429ra/9/b?wait=1: still rate limited (429, Retry-After) after 2 attempts" \
  "rate limited past the budget: VRUN_ERATELIMIT"
is "$(count /ratelimit/429ra/9/b)" 2 "server saw 2 attempts"

VRUN_HTTP_MAX_WAIT=1 vr -M "$M" ratelimit-too-long
is "$out" "too-long: status=429 attempts=1 rc=7 body=slow down error=GET $U/ratelimit/429ra/1/c?wait=100: rate limited (429, Retry-After) for 5 s, longer than VRUN_HTTP_MAX_WAIT (1 s)" \
  "a wait longer than VRUN_HTTP_MAX_WAIT fails at once"

n0=$(count /ok)
WAIT=300 VRUN_HTTP_MAX_WAIT=2 vr -M "$M" spent
is "$out" "spent: status=200 attempts=1 rc=0 body=last one error=
next: status=0 attempts=0 rc=7 body= error=GET $U/ok: the rate limit resets in 15 s, longer than VRUN_HTTP_MAX_WAIT (2 s)" \
  "x-ratelimit-remaining: 0 on a success: a later request fails at once when the reset is too far"
is "$(count /ok)" "$n0" "... and is not sent"
WAIT=2 vr -M "$M" spent
is "$(printf '%s\n' "$out" | tail -1)" "next: status=200 attempts=1 rc=0 body=hello error=" \
  "... and waits for a near reset, then is sent"
gap=$(python3 - "$LOG" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
spent = [r["time"] for r in rows if r["path"] == "/spent"][-1]
ok = [r["time"] for r in rows if r["path"] == "/ok" and r["time"] > spent]
print(ok[0] - spent)
PY
)
ge "$gap" 0.1; ok $? "the next request waited for the reset (${gap}s >= 0.1s)"

vr -M "$M" many
is "$out" "many1: status=200 attempts=2 rc=0 body=recovered after 1 error=
many2: status=200 attempts=2 rc=0 body=recovered after 1 error=
many3: status=200 attempts=2 rc=0 body=recovered after 1 error=
many4: status=200 attempts=2 rc=0 body=recovered after 1 error=
many5: status=200 attempts=2 rc=0 body=recovered after 1 error=
many6: status=200 attempts=2 rc=0 body=recovered after 1 error=
many7: status=422 attempts=1 rc=0 body=status 422 error=" \
  "http_perform_many: each request retried on its own"

vr -M "$M" headers
is "$out" "ok: status=200 attempts=1 rc=0 body=hello error=
header: yes" "response header read with http_header"
hdrs=$(grep '"path": "/ok"' "$LOG" | tail -1)
like "$hdrs" '"X-Hello": "there"' "request headers sent"
like "$hdrs" '"User-Agent": "vrun/[0-9.]+"' "User-Agent: vrun/<version>"

vr -M "$M" post-memory
is "$out" "post: status=200 attempts=1 rc=0 body={\"length\": 7, \"sha256\": \"015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862\"} error=" \
  "PATCH with a body from memory"
line=$(grep '"method": "PATCH"' "$LOG")
like "$line" '"Content-Type": "application/json"' "caller's Content-Type kept"
like "$line" '"Content-Length": "7"' "exact Content-Length"

n0=$(grep -c . "$LOG")
vr -n -M "$M" dry-post
is "$out" "http (dry run): POST $U/upload (5 bytes)
dry: status=0 attempts=0 rc=0 body= error=
dry-get: status=200 attempts=1 rc=0 body=hello error=" \
  "-n: a POST is described, not sent; a GET is sent"
n1=$(grep -c . "$LOG")
is "$((n1 - n0))" 1 "-n: the server saw only the GET"

VRUN_SVC_LIB=$T/missing/vrun-svc.so vr -M "$M" nosvc
is "$out" "nosvc: status=0 attempts=0 rc=10 body= error=HTTP and digest services are unavailable: cannot load vrun-svc.so (tried $T/missing/vrun-svc.so)" \
  "no svc library: VRUN_ENOTSUP with the paths tried"

done_testing
