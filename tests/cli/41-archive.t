#!/usr/bin/env bash
# archive module: reproducible tar.gz/zip, checksum files, verify, threads,
# -n, refusals, and Ctrl-C leaving no partial file.
. "$(dirname "$0")/../lib/tap.sh"
cd "$T" || exit 1
export TZ=UTC
unset SOURCE_DATE_EPOCH
mkdir -p in out
yes "alpha beta gamma" | head -c 100000 > in/a-linux-amd64-prod
head -c 70000 /dev/urandom > in/b-linux-amd64-prod
printf 'MZ fake exe\n' > in/c-windows-amd64-prod.exe

cat > vrun.lua <<'EOF'
local function A() return require "archive" end
local function show(r)
  log("result " .. r.output .. " " .. r.size .. " " .. r.sha256)
  for _, f in ipairs(r.files) do
    log("member " .. f.name .. " " .. f.size .. " " .. f.sha256)
  end
end
task "tgz" { modules = { "archive" }, run = function()
  show(A().create { output = "out/x.tar.gz", mtime = 1700000000,
    files = { { path = "in/b-linux-amd64-prod", name = "b-prod" },
              { path = "in/a-linux-amd64-prod", name = "a-prod" } },
    checksums = "out/x_checksums.txt" })
end }
task "tgz-rev" { modules = { "archive" }, run = function()
  A().create { output = "out/x.tar.gz", mtime = 1700000000,
    files = { { path = "in/a-linux-amd64-prod", name = "a-prod" },
              { path = "in/b-linux-amd64-prod", name = "b-prod" } },
    checksums = "out/x_checksums.txt" }
end }
task "sde" { modules = { "archive" }, run = function()
  A().create { output = "out/s.tar.gz", files = { "in/a-linux-amd64-prod" } }
end }
task "zip" { modules = { "archive" }, run = function()
  A().create { output = "out/w.zip", mtime = 1700000000,
    files = { "in/c-windows-amd64-prod.exe" },
    checksums = "out/w_checksums.txt" }
end }
task "many" { modules = { "archive" }, run = function()
  local specs = { jobs = 2 }
  for i = 1, 5 do
    specs[i] = { output = "out/m" .. i .. ".tar.gz", mtime = i,
                 files = { { path = "in/a-linux-amd64-prod",
                             name = "m" .. i } },
                 checksums = "out/m" .. i .. "_checksums.txt" }
  end
  specs[6] = { output = "out/m6.zip", mtime = 6,
               files = { "in/c-windows-amd64-prod.exe" } }
  for _, r in ipairs(A().create_many(specs)) do log(r.output) end
end }
task "verify" { modules = { "archive" }, run = function()
  local ok, rep = A().verify(var.SUMS)
  log("verify " .. tostring(ok))
  for _, x in ipairs(rep) do
    log(x.name .. " " .. (x.ok and "OK" or x.error))
  end
end }
task "sum" { modules = { "archive" }, run = function()
  log(A().sha256(var.FILE))
end }
task "missing" { modules = { "archive" }, run = function()
  A().create { output = "out/bad.tar.gz", mtime = 1,
               files = { "in/a-linux-amd64-prod", "in/nope" } }
end }
task "typo" { modules = { "archive" }, run = function()
  A().create { outptu = "out/t.tar.gz", files = { "in/nope" } }
end }
task "escape" { modules = { "archive" }, run = function()
  A().create { output = "out/e.tar.gz", mtime = 1,
               files = { { path = "in/a-linux-amd64-prod",
                           name = "../a" } } }
end }
task "fail-many" { modules = { "archive" }, run = function()
  A().create_many {
    { output = "out/f1.tar.gz", mtime = 1, files = { "in/a-linux-amd64-prod" } },
    { output = "out/f2.tar.gz", mtime = 1, files = { "in/nope" } },
  }
end }
task "big" { modules = { "archive" }, run = function()
  A().create { output = "out/big.tar.gz", mtime = 1, level = 9,
               files = { "in/big" } }
end }
EOF

tmpfiles() { find out -name '*.tmp-*' | sort | tr '\n' ' '; }

# --- tar.gz ---------------------------------------------------------------
vr tgz
is "$rc" 0 "create: exit 0"
like "$out" "archive: out/x.tar.gz \([0-9]+ bytes, 2 files\)" \
  "create: says what it wrote"
is "$(tar tzf out/x.tar.gz | tr '\n' ' ')" "a-prod b-prod " \
  "tar: members sorted by name, whatever the order given"
is "$(tar --numeric-owner -tvzf out/x.tar.gz | awk '{print $1, $2, $3, $4, $5, $6}' | head -1)" \
  "-rwxr-xr-x 1000/1000 100000 2023-11-14 22:13 a-prod" \
  "tar: mode 0755, owner 1000/1000, size, fixed mtime"
is "$(od -An -tx1 -N8 out/x.tar.gz | tr -s ' ')" " 1f 8b 08 00 00 00 00 00" \
  "gzip header: no file name, no timestamp"
gzip -t out/x.tar.gz 2>"$T/gz.err"
ok $? "gzip -t: the stream is clean"
is "$(cat "$T/gz.err")" "" "gzip -t: no trailing garbage"
want="$(sha256sum out/x.tar.gz | cut -d' ' -f1)  x.tar.gz
$(sha256sum in/a-linux-amd64-prod | cut -d' ' -f1)  a-prod
$(sha256sum in/b-linux-amd64-prod | cut -d' ' -f1)  b-prod"
is "$(cat out/x_checksums.txt)" "$want" \
  "checksums: archive line first, then members by in-archive name"
like "$out" "result out/x.tar.gz $(stat -c %s out/x.tar.gz) $(sha256sum out/x.tar.gz | cut -d' ' -f1)" \
  "create: result has the archive's size and sha256"
like "$out" "member a-prod 100000 $(sha256sum in/a-linux-amd64-prod | cut -d' ' -f1)" \
  "create: result has each member's size and sha256"
mkdir -p x && (cd x && tar xzf ../out/x.tar.gz && cp ../out/x.tar.gz ../out/x_checksums.txt . &&
  sha256sum -c --quiet x_checksums.txt)
ok $? "sha256sum -c accepts the checksum file next to the extracted members"
is "$(tmpfiles)" "" "no temp file left"

cp out/x.tar.gz "$T/first.tar.gz"
touch -d '2001-01-01' in/a-linux-amd64-prod
chmod 600 in/b-linux-amd64-prod
sleep 1
vr tgz-rev
is "$rc" 0 "rebuild: exit 0"
cmp -s out/x.tar.gz "$T/first.tar.gz"
ok $? "rebuild: byte-identical (other order, other file times and modes)"

vr sde SOURCE_DATE_EPOCH=86400
is "$rc" 0 "SOURCE_DATE_EPOCH: exit 0"
is "$(tar --numeric-owner -tvzf out/s.tar.gz | awk '{print $4, $5}')" \
  "1970-01-02 00:00" "no mtime: SOURCE_DATE_EPOCH is the members' time"
vr sde
is "$rc" 2 "no mtime and no SOURCE_DATE_EPOCH: exit 2"
like "$err" "archive: out/s.tar.gz: no 'mtime' given and SOURCE_DATE_EPOCH is not set" \
  "no mtime: says so"

# --- zip ------------------------------------------------------------------
vr zip
is "$rc" 0 "zip: exit 0"
is "$(unzip -Z1 out/w.zip)" "c-windows-amd64-prod.exe" "zip: member name"
unzip -tq out/w.zip >/dev/null
ok $? "zip: unzip -t passes"
is "$(unzip -p out/w.zip c-windows-amd64-prod.exe)" "MZ fake exe" \
  "zip: member content"
want="$(sha256sum out/w.zip | cut -d' ' -f1)  w.zip
$(sha256sum in/c-windows-amd64-prod.exe | cut -d' ' -f1)  c-windows-amd64-prod.exe"
is "$(cat out/w_checksums.txt)" "$want" "zip: checksum file"
cp out/w.zip "$T/first.zip"
touch in/c-windows-amd64-prod.exe
vr zip
cmp -s out/w.zip "$T/first.zip"
ok $? "zip: rebuild is byte-identical"

# --- several at once ------------------------------------------------------
vr many
is "$rc" 0 "create_many: exit 0"
is "$(printf '%s\n' "$out" | grep '^out/' | tr '\n' ' ')" \
  "out/m1.tar.gz out/m2.tar.gz out/m3.tar.gz out/m4.tar.gz out/m5.tar.gz out/m6.zip " \
  "create_many: results in the order given"
good=0
for i in 1 2 3 4 5; do
  [ "$(tar tzf out/m$i.tar.gz)" = "m$i" ] &&
    [ "$(tar xzOf out/m$i.tar.gz | sha256sum)" = "$(sha256sum < in/a-linux-amd64-prod)" ] &&
    grep -q "  m$i\$" out/m${i}_checksums.txt && good=$((good + 1))
done
is "$good" 5 "create_many: every archive whole, with its checksum file"
is "$(unzip -Z1 out/m6.zip)" "c-windows-amd64-prod.exe" "create_many: zip too"
is "$(tmpfiles)" "" "create_many: no temp file left"

vr fail-many
is "$rc" 2 "create_many with a missing input: exit 2"
like "$err" "archive: in/nope: No such file or directory" \
  "create_many: names the failing file"
test ! -e out/f2.tar.gz
ok $? "create_many: the failed archive is not there"
is "$(tmpfiles)" "" "create_many failure: no temp file left"

# --- verify ---------------------------------------------------------------
vr verify SUMS=out/x_checksums.txt
is "$out" "verify true
x.tar.gz OK
a-prod OK
b-prod OK" "verify: archive by file, members inside the archive"
awk 'NR == 2 { c = substr($0, 1, 1); $0 = (c == "0" ? "1" : "0") substr($0, 2) } 1' \
  out/x_checksums.txt > out/x.new && mv out/x.new out/x_checksums.txt
printf '%064d  nothere\n' 0 >> out/x_checksums.txt
vr verify SUMS=out/x_checksums.txt
is "$out" "verify false
x.tar.gz OK
a-prod mismatch
b-prod OK
nothere missing" "verify: a wrong hash and a missing name are reported"
echo "garbage" > out/bad_checksums.txt
vr verify SUMS=out/bad_checksums.txt
is "$rc" 2 "verify: a malformed file is an error"
like "$err" "out/bad_checksums.txt:1: not a sha256sum line" \
  "verify: names the file and line"

vr sum FILE=in/b-linux-amd64-prod
is "$out" "$(sha256sum in/b-linux-amd64-prod | cut -d' ' -f1)" \
  "sha256: same as sha256sum"

# --- -n -------------------------------------------------------------------
rm -rf out && mkdir out
vr -n tgz
is "$rc" 0 "-n: exit 0"
like "$out" "archive: would create out/x.tar.gz \(tar.gz, level 6, mtime 1700000000, owner 1000:1000, mode 0755\):" \
  "-n: says what it would create"
like "$out" "  a-prod <- in/a-linux-amd64-prod \(100000 bytes\)" \
  "-n: lists each member with its source and size"
like "$out" "archive: would write out/x_checksums.txt:" "-n: the checksum file"
like "$out" "  <sha256>  x.tar.gz" "-n: ... and its lines"
is "$(ls -A out)" "" "-n: writes nothing"

# --- refusals -------------------------------------------------------------
vr missing
is "$rc" 2 "missing input: exit 2"
like "$err" "archive: in/nope: No such file or directory" \
  "missing input: names it"
is "$(ls -A out)" "" "missing input: no archive, no temp file"
vr typo
is "$rc" 2 "unknown field: exit 2"
like "$err" "archive: unknown field 'outptu'" "unknown field: named"
vr escape
is "$rc" 2 "name with ..: exit 2"
like "$err" "archive: out/e.tar.gz: bad name '../a' inside the archive" \
  "name with ..: refused"

# --- Ctrl-C while packing ---------------------------------------------------
head -c $((400 * 1024 * 1024)) /dev/urandom > in/big 2>/dev/null
# perl restores SIGINT's default: a background job of a script ignores it
perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV' "$VRUN" big \
  >"$T/big.out" 2>"$T/big.err" &
pid=$!
for i in $(seq 1 200); do
  [ -n "$(tmpfiles)" ] && break
  sleep 0.05
done
ok "$([ -n "$(tmpfiles)" ]; echo $?)" "Ctrl-C: the archive was being written"
kill -INT "$pid"
wait "$pid"
brc=$?
ok "$([ "$brc" -ne 0 ]; echo $?)" "Ctrl-C: vrun exits non-zero ($brc)"
is "$(tmpfiles)" "" "Ctrl-C: no temp file left"
test ! -e out/big.tar.gz
ok $? "Ctrl-C: no partial archive"
rm -f in/big

done_testing
