#!/usr/bin/env bash
# Streamed uploads: a large sparse file goes out with an exact
# Content-Length, never chunked, with peak RSS bounded; a cut upload is
# resent whole from the file; downloads land atomically in a file.
. "$(dirname "$0")/../lib/tap.sh"
M=$B/tests/modules
cd "$T" || exit 1
LOG=$T/requests.jsonl
start_server http python3 "$TOP/tests/servers/http_faults.py" --log "$LOG"
export U="http://127.0.0.1:$http_PORT"
export VRUN_HTTP_TIME_SCALE=0.01

cat > vrun.lua <<'EOF2'
local g = require "good"
local U = os.getenv("U")
local function show(label, r)
  g.log(2, string.format("%s: status=%d attempts=%d rc=%d body=%s error=%s",
    label, r.status, r.attempts, r.rc, (r.body or ""):gsub("\n", ""),
    r.error))
end
task "big" { run = function()
  show("big", g.http{ method = "PUT", url = U .. "/sink", body_file = "big.bin" })
end }
task "cut" { run = function()
  show("cut", g.http{ method = "POST", url = U .. "/dropup/2/a",
                      body_file = "mid.bin" })
end }
task "download" { run = function()
  show("dl", g.http{ url = U .. "/download?size=300000",
                     response_file = "dl.bin" })
  show("dl404", g.http{ url = U .. "/status/404", response_file = "nf.bin" })
  show("dlcut", g.http{ url = U .. "/drop/1/dl", response_file = "cut.bin" })
  show("dlredir", g.http{ url = U .. "/redirect?to=/ok", response_file = "r.bin" })
  show("memredir", g.http{ url = U .. "/redirect?to=/ok" })
end }
task "trickle" { run = function()
  show("trickle", g.http{ url = U .. "/trickle?size=10000000",
                          response_file = "slow.bin" })
end }
task "wait" { run = function()
  show("wait", g.http{ url = U .. "/ratelimit/429ra/5/w?wait=300" })
end }
task "bars" { run = function()
  local reqs = {}
  for i = 1, 3 do
    reqs[i] = { method = "POST", url = U .. "/upload", body_file = "p" .. i,
                progress = "p" .. i }
  end
  for i, r in ipairs(g.http_many(reqs, 2)) do show("bar" .. i, r) end
  show("one", g.http{ method = "POST", url = U .. "/upload",
                      body_file = "p1", progress = "single p1" })
end }
task "nofile" { run = function()
  show("nofile", g.http{ method = "POST", url = U .. "/upload",
                         body_file = "missing.bin" })
end }
EOF2

truncate -s 2G big.bin
/usr/bin/time -f '%M' -o rss.txt "$VRUN" -M "$M" big >out.txt 2>err.txt
rc=$?
is "$rc" 0 "2 GiB sparse upload: exit 0"
is "$(cat out.txt)" "big: status=204 attempts=1 rc=0 body= error=" "2 GiB upload: 204"
rss=$(tail -1 rss.txt)
test "$rss" -le 32768; ok $? "2 GiB upload: peak RSS ${rss} KiB <= 32 MiB"
line=$(grep '"path": "/sink"' "$LOG")
like "$line" '"Content-Length": "2147483648"' "exact Content-Length"
like "$line" '"body_len": 2147483648' "server received every byte"
unlike "$line" 'Transfer-Encoding' "not chunked"
unlike "$line" '"Expect"' "no Expect: 100-continue"

head -c 3000000 /dev/urandom > mid.bin
want=$(sha256sum mid.bin | cut -d' ' -f1)
vr -M "$M" cut
is "$out" "cut: status=200 attempts=3 rc=0 body={\"length\": 3000000, \"sha256\": \"$want\"} error=" \
  "an upload cut twice mid-body is resent whole from the file"
is "$(grep '"path": "/dropup/2/a"' "$LOG" | grep -c '"dropped": true')" 2 \
  "server saw two cut attempts"

vr -M "$M" download
is "$out" "dl: status=200 attempts=1 rc=0 body= error=
dl404: status=404 attempts=1 rc=0 body=status 404 error=
dlcut: status=200 attempts=2 rc=0 body= error=
dlredir: status=200 attempts=1 rc=0 body= error=
memredir: status=200 attempts=1 rc=0 body=hello error=" "downloads to files; redirects followed"
python3 -c "
import sys
d = open('dl.bin', 'rb').read()
b = bytes(range(256)) * 4096
sys.exit(0 if d == (b * 2)[:300000] else 1)"
ok $? "download: the file holds exactly the body"
test ! -e nf.bin; ok $? "a 404 body does not create the file"
is "$(stat -c %a dl.bin)" "$(touch mode.ref; stat -c %a mode.ref)" \
  "a downloaded file gets the usual mode, not mkstemp's 0600"
is "$(cat cut.bin)" "complete" "a download cut mid-body is retried, file holds the final body"
is "$(cat r.bin)" "hello" "a redirected download holds only the final body"
is "$(ls -a | grep -c vrun-)" 0 "no temp files left"

vr -M "$M" nofile
is "$out" "nofile: status=0 attempts=0 rc=4 body= error=cannot read missing.bin: No such file or directory" \
  "a missing body file: VRUN_ENOENT naming it"

for i in 1 2 3; do head -c 1048576 /dev/zero > p$i; done
vr -M "$M" bars
is "$(printf '%s\n' "$out" | grep -c '^bar[123]: status=200 attempts=1 rc=0')" 3 \
  "three uploads with progress labels"
unlike "$out" "^p[123]:" "several transfers: no line per file"
like "$out" "^3 uploads: done, 3\.0 MiB in [0-9.]+ s" "several transfers: one batch display"
like "$out" "single p1: done, 1\.0 MiB in [0-9.]+ s" "a single transfer has its own display"

# SIGTERM in the middle of a download, then during a rate-limit wait: vrun
# stops promptly (the test bounds it), dies of the signal, leaves no file.
interrupt() {  # interrupt TASK PATH-IN-LOG
  local pid i
  "$VRUN" -M "$M" "$1" >"$T/$1.out" 2>&1 </dev/null &
  pid=$!
  for i in $(seq 1 100); do
    grep -q "\"path\": \"$2\"" "$LOG" && break
    sleep 0.1
  done
  sleep 0.3
  kill -TERM "$pid"
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    fail "$1: vrun stops within 10 s of SIGTERM"
  else
    pass "$1: vrun stops within 10 s of SIGTERM"
  fi
  wait "$pid"
  is "$?" 143 "$1: vrun dies of SIGTERM"
}
interrupt trickle /trickle
test ! -e slow.bin; ok $? "trickle: no partial download"
is "$(ls -a | grep -c vrun-)" 0 "trickle: the temp file is removed"
VRUN_HTTP_TIME_SCALE=1 VRUN_HTTP_MAX_WAIT=1000 interrupt wait /ratelimit/429ra/5/w

done_testing
