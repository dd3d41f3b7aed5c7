#!/usr/bin/env bash
# Module loading: require, search order, laziness, --modules, refusals.
. "$(dirname "$0")/../lib/tap.sh"
M=$B/tests/modules
cd "$T" || exit 1
mkdir -p mods a b c
for m in bad_abi no_symbol open_fails undefined_sym; do
  cp "$M/$m.so" mods/
done
head -c 4096 /dev/zero | tr '\0' 'x' > mods/garbage.so

# -- loading and calling ----------------------------------------------------
cat > vrun.lua <<'EOF2'
task "hello" {
  run = function()
    local g = require "good"
    local again = require "good"
    g.log(2, "good says hi; host ABI " .. g.host_abi .. ", vrun " ..
          g.vrun_version .. ", same table: " .. tostring(g == again))
  end,
}
EOF2
vr -M "$M" hello
is "$rc" 0 "a task requiring a module runs"
like "$out" "^good says hi; host ABI 1, vrun [0-9]+\.[0-9]+\.[0-9]+, same table: true$" \
  "the module's function ran, once-loaded table reused"
is "$err" "" "nothing on stderr"

# -M beats VRUN_MODULE_PATH: the copy in a/ is found first
cp "$M/good.so" a/good.so
cp "$M/good.so" b/good.so
cat > maps.lua <<'EOF2'
task "maps" {
  run = function()
    require "good"
    local f = io.open("/proc/self/maps")
    local seen = {}
    for line in f:lines() do
      local p = line:match("(/%S+/good%.so)$")
      if p then seen[p] = true end
    end
    f:close()
    for p in pairs(seen) do require("good").log(2, "mapped " .. p) end
  end,
}
EOF2
VRUN_MODULE_PATH="$T/b" vr -M "$T/a" -f maps.lua maps
is "$out" "mapped $T/a/good.so" "-M DIR is searched before VRUN_MODULE_PATH"
VRUN_MODULE_PATH="$T/c:$T/b" vr -f maps.lua maps
is "$out" "mapped $T/b/good.so" "VRUN_MODULE_PATH is searched, in order"

# -- laziness: no require, nothing dlopened ----------------------------------
cat > lazy.lua <<'EOF2'
local function mapped()
  local f = io.open("/proc/self/maps")
  local s = f:read("a")
  f:close()
  local out = {}
  for _, name in ipairs({ "good.so", "vrun%-svc.so", "libcurl", "libcrypto" }) do
    if s:find(name) then out[#out + 1] = (name:gsub("%%", "")) end
  end
  return table.concat(out, ",")
end
task "none" { run = function() sh("echo 'mapped: " .. mapped() .. "'") end }
task "var" {
  run = function()
    require("good").var("HOME")
    sh("echo 'mapped: " .. mapped() .. "'")
  end,
}
task "digest" {
  run = function()
    require("good").sha256("x")
    sh("echo 'mapped: " .. mapped() .. "'")
  end,
}
EOF2
vr -s -M "$M" -f lazy.lua none
is "$out" "mapped: " "a run that requires no module maps no module, no svc lib, no curl"
vr -s -M "$M" -f lazy.lua var
is "$out" "mapped: good.so" "a module using core services maps neither the svc lib nor curl"
vr -s -M "$M" -f lazy.lua digest
is "$out" "mapped: good.so,vrun-svc.so,libcurl,libcrypto" \
  "the first digest call loads the svc library"
LD_DEBUG=files "$VRUN" -s -M "$M" -f lazy.lua none >/dev/null 2>"$T/ld.txt" </dev/null
n=$(grep -c 'dynamically loaded by' "$T/ld.txt")
is "$n" 0 "LD_DEBUG: no dlopen at all in a module-less run"

# -- refusals: exact messages, exit 2, nothing ran ---------------------------
refuse() {  # refuse NAME EXPECTED-MESSAGE
  cat > refuse.lua <<EOF2
task "first" { run = function() sh "touch first-ran" end }
task "uses" {
  deps = { "first" },
  modules = { "$1" },
  run = function() sh "touch uses-ran" end,
}
EOF2
  rm -f first-ran uses-ran
  vr -M "$T/mods" -f refuse.lua uses
  is "$rc" 2 "$1: exit 2"
  is "$err" "vrun: *** $2.  Stop." "$1: message"
  test ! -e first-ran && test ! -e uses-ran
  ok $? "$1: no task ran"
}
refuse bad_abi "module 'bad_abi' ($T/mods/bad_abi.so): built for module ABI 2, this vrun speaks ABI 1"
refuse no_symbol "module 'no_symbol' ($T/mods/no_symbol.so): does not export 'vrun_module'"
refuse open_fails "module 'open_fails' ($T/mods/open_fails.so): open failed: no config file open_fails.conf"
refuse undefined_sym "module 'undefined_sym' ($T/mods/undefined_sym.so): $T/mods/undefined_sym.so: undefined symbol: vrun_test_no_such_function"
refuse garbage "module 'garbage' ($T/mods/garbage.so): $T/mods/garbage.so: invalid ELF header"

# not found lists every place it looked, in order
cat > nf.lua <<'EOF2'
require "nope"
task "t" { run = function() sh "touch t-ran" end }
EOF2
VRUN_MODULE_PATH="$T/b:$T/c" vr -M "$T/a" -f nf.lua t
is "$rc" 2 "not found: exit 2"
# vrun finds its build tree from /proc/self/exe: symlinks resolved
BT=$(cd "$(dirname "$VRUN")" && pwd -P)
like "$err" "^vrun: \*\*\* module 'nope' not found; tried: $T/a/nope.so $T/b/nope.so $T/c/nope.so $BT/modules/nope.so /[^ ]*/lib/vrun/modules/nope.so\.  Stop\.$" \
  "not found: every path tried, in search order"
test ! -e t-ran; ok $? "not found: no task ran"

# a failed open leaves nothing mapped
cat > after.lua <<'EOF2'
task "t" {
  run = function()
    local ok, msg = pcall(require, "open_fails")
    local f = io.open("/proc/self/maps")
    local s = f:read("a")
    f:close()
    sh("echo 'ok=" .. tostring(ok) .. " mapped=" ..
       tostring(s:find("open_fails.so", 1, true) ~= nil) .. "'")
  end,
}
EOF2
vr -s -M "$T/mods" -f after.lua t
is "$out" "ok=false mapped=false" "a module whose open failed is unloaded"

# -- vrun --modules ------------------------------------------------------------
cp "$M/good.so" "$M/newer_service.so" c/
vr -M "$T/c" -M "$T/a" -M "$T/mods" --modules
is "$rc" 0 "--modules: exit 0"
want=$(cat <<EOF2
$(printf '%-16s %-10s %-4s %s  %s' NAME VERSION ABI PATH SUMMARY)
$(printf '%-16s %-10s %-4s %s  %s' good 1.2.3 1 "$T/c/good.so" "Test module: drives every host service from Lua")
$(printf '%-16s %-10s %-4s %s  %s' newer_service 2.0.0 1 "$T/c/newer_service.so" "Test module probing services with VRUN_HOST_HAS")
$(printf '%-16s %-10s %-4s %s  %s' good 1.2.3 1 "$T/a/good.so" "Test module: drives every host service from Lua  (shadowed by $T/c/good.so)")
EOF2
)
got=$(printf '%s\n' "$out" | head -4)
is "$got" "$want" "--modules: name, version, ABI, path, summary; shadowed copy marked"
like "$out" "bad_abi +- +- +$T/mods/bad_abi.so  \(unusable: module 'bad_abi' \($T/mods/bad_abi.so\): built for module ABI 2, this vrun speaks ABI 1\)" \
  "--modules: an unusable file says why"

# -- a module probing services with VRUN_HOST_HAS -----------------------------
cat > newer.lua <<'EOF2'
task "t" {
  run = function()
    local n = require "newer_service"
    local p = n.probe()
    local function fmt(t)
      return string.format("log=%s write_file=%s run=%s teleport=%s",
        tostring(t.log), tostring(t.write_file), tostring(t.run),
        tostring(t.teleport))
    end
    sh("echo 'real: " .. fmt(p.real) .. "'")
    sh("echo 'older: " .. fmt(p.older) .. "'")
    local e = n.echo("hi"):gsub("\n", "")
    sh("echo 'echo: " .. e .. "'")
  end,
}
EOF2
vr -s -M "$M" -f newer.lua t
is "$out" "real: log=true write_file=true run=true teleport=false
older: log=true write_file=false run=false teleport=false
echo: hi" "VRUN_HOST_HAS: present services yes, past host->size no"

done_testing
