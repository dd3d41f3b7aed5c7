#!/usr/bin/env bash
# An out-of-tree module: built against the installed header with
# pkg-config, dropped into a folder named by -M, called from a task.
. "$(dirname "$0")/../lib/tap.sh"
cd "$T" || exit 1
OUT=$(cd "$O" && pwd)

make -s -C "$TOP" O="$OUT" install DESTDIR="$T/inst" >make.log 2>&1
ok $? "make install DESTDIR=... succeeds"
PC=$(find "$T/inst" -name vrun-module.pc | head -1)
test -n "$PC" && test -f "$(dirname "$PC")/../../include/vrun_module.h"
ok $? "vrun-module.pc and vrun_module.h installed"
PREFIX=$(cd "$(dirname "$PC")/../.." && pwd)
# Installed under DESTDIR, the .pc still says the real prefix; point it at
# the staging folder as a packager would (--define-variable would also
# move lua5.4's include path).
mkdir -p pc
sed "s|^prefix=.*|prefix=$PREFIX|" "$PC" > pc/vrun-module.pc
cflags=$(PKG_CONFIG_PATH=$T/pc pkg-config --cflags vrun-module)
like "$cflags" "-I$PREFIX/include" "pkg-config --cflags vrun-module names the installed header"

mkdir -p src mods
cat > src/hello.c <<'EOF2'
/* hello.c: an out-of-tree vrun module. */
#include <lauxlib.h>
#include <vrun_module.h>

static const struct vrun_host *host;

static int l_greet(lua_State *L)
{
  host->log(host->ctx, VRUN_LOG_INFO, "hello, %s", luaL_checkstring(L, 1));
  return 0;
}

static const luaL_Reg funcs[] = { { "greet", l_greet }, { NULL, NULL } };

static int hello_open(lua_State *L, const struct vrun_host *h,
                      struct vrun_err *err)
{
  (void)err;
  host = h;
  luaL_newlib(L, funcs);
  return VRUN_OK;
}

const struct vrun_module vrun_module = {
  .abi = VRUN_ABI_VERSION, .name = "hello", .version = "1.0.0",
  .summary = "Says hello", .open = hello_open
};
EOF2
# shellcheck disable=SC2086
cc -shared -fPIC -Wall -Wextra -Werror $cflags -o mods/hello.so src/hello.c 2>cc.log
ok $? "the module builds with only the installed header"
sed 's/^/# /' cc.log

cat > vrun.lua <<'EOF2'
task "greet" { run = function() require("hello").greet("world") end }
EOF2
vr -M "$T/mods" greet
is "$rc" 0 "vrun -M runs a task calling the out-of-tree module"
is "$out" "hello, world" "its function printed through the host log"
vr -M "$T/mods" --modules
like "$out" "hello +1\.0\.0 +1 +$T/mods/hello\.so  Says hello" "--modules lists it"

done_testing
