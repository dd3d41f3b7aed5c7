#!/usr/bin/env bash
# Host services other than HTTP: log levels, variables, digests, argv
# subprocesses, atomic writes, progress.
. "$(dirname "$0")/../lib/tap.sh"
M=$B/tests/modules
cd "$T" || exit 1

cat > vrun.lua <<'EOF2'
local g = require "good"
task "log" { run = function()
  g.log(0, "an error line")
  g.log(1, "a warning line")
  g.log(2, "an info line")
  g.log(3, "a verbose line")
end }
task "var" { run = function()
  g.log(2, "NAME=" .. tostring(g.var("NAME")) .. " UNSET=" ..
        tostring(g.var("VRUN_TEST_UNSET")) .. " dry=" .. tostring(g.dry_run()))
end }
task "digest" { run = function()
  g.log(2, "sha256(abc)=" .. g.sha256("abc"))
  g.log(2, "file=" .. g.sha256_file("data.bin"))
  local none, msg = g.sha256_file("missing.bin")
  g.log(2, "missing=" .. tostring(none) .. " " .. msg)
  local fox = "The quick brown fox jumps over the lazy dog"
  g.log(2, "hmac256=" .. g.hmac("sha256", "key", fox))
  g.log(2, "hmac1=" .. g.hmac("sha1", "key", fox))
  local bad, why = g.hmac("md5", "key", fox)
  g.log(2, "md5=" .. tostring(bad) .. " " .. why)
end }
task "run" { run = function()
  local ok, st = g.run({ "sh", "-c", "echo out; echo err >&2; exit 3" },
                       { nofail = 1 })
  g.log(2, "nofail: " .. tostring(ok) .. " " .. st)
  local nok, msg = g.run({ "sh", "-c", "exit 4" }, { quiet = 1 })
  g.log(2, "fail: " .. tostring(nok) .. " " .. msg)
  local out = g.run({ "printf", "%s|", "a b", "c'd" }, { capture = 1 })
  g.log(2, "capture: " .. out)
  local pwd = g.run({ "pwd" }, { capture = 1, quiet = 1, cwd = "/" })
  g.log(2, "cwd: " .. pwd:gsub("\n", ""))
  local nf, e = g.run({ "vrun-no-such-program-x" }, { quiet = 1 })
  g.log(2, "missing: " .. tostring(nf) .. " " .. e)
end }
task "run-dry" { run = function()
  local out = g.run({ "touch", "made-by-run" }, { capture = 1 })
  g.log(2, "captured under -n: [" .. out .. "]")
  local ro = g.run({ "echo", "readonly runs" }, { capture = 1, readonly = 1 })
  g.log(2, "readonly: " .. ro)
end }
task "write" { run = function()
  g.log(2, "write: " .. tostring(g.write_file("out.txt", "line one\n")))
  local nok, msg = g.write_file("no/such/dir/x", "data")
  g.log(2, "bad dir: " .. tostring(nok) .. " " .. msg)
end }
task "progress" { run = function() g.progress("fetch x", 1000, 50) end }
EOF2

vr -M "$M" log
is "$out" "an info line" "INFO on stdout, VERBOSE hidden"
is "$err" "vrun: an error line
vrun: warning: a warning line" "ERROR and WARN on stderr, prefixed"
vr -s -M "$M" log
is "$out" "" "-s hides INFO"
is "$err" "vrun: an error line
vrun: warning: a warning line" "-s keeps errors and warnings"
vr -v -M "$M" log
is "$out" "an info line
a verbose line" "-v shows VERBOSE"

vr -M "$M" var NAME=world
is "$out" "NAME=world UNSET=nil dry=false" "var_get reads command-line variables"
NAME=fromenv vr -n -M "$M" var
is "$out" "NAME=fromenv UNSET=nil dry=true" "var_get reads the environment; dry_run under -n"

head -c 100000 /dev/zero | tr '\0' 'v' > data.bin
want=$(sha256sum data.bin | cut -d' ' -f1)
vr -M "$M" digest
is "$out" "sha256(abc)=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
file=$want
missing=nil cannot read missing.bin: No such file or directory
hmac256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8
hmac1=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9
md5=nil hmac: unknown algorithm 'md5' (sha1 or sha256)" \
  "sha256, sha256_file (= sha256sum), HMAC-SHA256/SHA1 (RFC test vector)"

vr -M "$M" run
is "$out" "sh -c 'echo out; echo err >&2; exit 3'
out
nofail: true 3
fail: nil 'sh -c 'exit 4'' exited with status 4
printf '%s|' 'a b' 'c'\\''d'
capture: a b|c'd|
cwd: /
missing: nil cannot run 'vrun-no-such-program-x': No such file or directory" \
  "run: echo (shell-quoted), pass-through, NOFAIL, failure, CAPTURE, cwd"
is "$err" "err" "run: child stderr passed through"

vr -n -M "$M" run-dry
is "$out" "touch made-by-run
captured under -n: []
echo 'readonly runs'
readonly: readonly runs" "-n: commands echoed, not run, unless READONLY"
test ! -e made-by-run; ok $? "-n: the command did not run"

vr -M "$M" write
is "$out" "write: true
bad dir: nil cannot write no/such/dir/x: No such file or directory" \
  "write_file: written; error names the path"
is "$(cat out.txt)" "line one" "write_file: content"
is "$(ls -a | grep -c vrun-)" 0 "write_file: no temp file left"
rm -f out.txt
vr -n -M "$M" write
test ! -e out.txt; ok $? "write_file: nothing written under -n"

vr -M "$M" progress
want=""
for p in 10 20 30 40 50 60 70 80 90; do
  want+="fetch x: $p% ($((p * 10)) B of 1000 B)"$'\n'
done
is "$(printf '%s\n' "$out" | head -9)" "${want%$'\n'}" "progress without a TTY: a line every 10%"
like "$(printf '%s\n' "$out" | tail -1)" "^fetch x: done, 1000 B in [0-9.]+ s \([0-9.]+ [KMG]?i?B/s\)$" \
  "progress: a final line with size, time and rate"
vr -s -M "$M" progress
is "$out$err" "" "progress: nothing under -s"
# on a TTY (stderr): a bar redrawn with \r, bytes and rate
script -qec "$VRUN -M $M progress" /dev/null > tty.txt 2>&1 </dev/null
tr '\r' '\n' < tty.txt > tty2.txt
grep -Eq '^fetch x \[#{30}\] 100% 1000 B/1000 B [0-9.]+ [KMG]?i?B/s' tty2.txt
ok $? "progress on a TTY: a bar with bytes and rate"
unlike "$(cat tty2.txt)" "fetch x: 10%" "progress on a TTY: no 10% lines"

done_testing
