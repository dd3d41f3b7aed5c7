/*
** newer_service.c: a test module that probes services with VRUN_HOST_HAS
** before using them, as a module built against a newer header must.
** SPDX-License-Identifier: MIT
**
** Two honest simulations. An older host: a copy of the real table whose
** size stops before `run` (as a vrun from before that service would
** report), so VRUN_HOST_HAS must say no and the module falls back. A newer
** header: the module declares the table as this header's struct plus one
** service appended at the tail ("teleport"), and probes it the same way;
** today's host is too small for it, so it must be reported missing.
*/
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "vrun_module.h"

/* The table as a future vrun_module.h would declare it. */
struct future_host {
  struct vrun_host base;
  int (*teleport)(struct vrun_ctx *ctx, const char *where);
};

#define FUTURE_HAS(h, field)                                            \
  ((h)->size >= offsetof(struct future_host, field) +                   \
                sizeof(((struct future_host *)0)->field) &&             \
   ((const struct future_host *)(const void *)(h))->field != NULL)

static const struct vrun_host *host;

static void probe(lua_State *L, const struct vrun_host *h)
{
  lua_newtable(L);
  lua_pushboolean(L, VRUN_HOST_HAS(h, log));
  lua_setfield(L, -2, "log");
  lua_pushboolean(L, VRUN_HOST_HAS(h, write_file));
  lua_setfield(L, -2, "write_file");
  lua_pushboolean(L, VRUN_HOST_HAS(h, run));
  lua_setfield(L, -2, "run");
  lua_pushboolean(L, FUTURE_HAS(h, teleport));
  lua_setfield(L, -2, "teleport");
  lua_pushinteger(L, (lua_Integer)h->size);
  lua_setfield(L, -2, "size");
}

/* newer_service.probe() -> { real = {...}, older = {...} } */
static int l_probe(lua_State *L)
{
  struct vrun_host older;

  memcpy(&older, host, sizeof(older));
  older.size = (uint32_t)offsetof(struct vrun_host, run);
  lua_newtable(L);
  probe(L, host);
  lua_setfield(L, -2, "real");
  probe(L, &older);
  lua_setfield(L, -2, "older");
  return 1;
}

/* newer_service.echo(word): uses `run` when the host has it, else says
** how it would have coped. */
static int l_echo(lua_State *L)
{
  const char *argv[] = { "echo", luaL_checkstring(L, 1), NULL };
  struct vrun_err err;
  char *out = NULL;
  int st;

  if(!VRUN_HOST_HAS(host, run)) {
    lua_pushliteral(L, "fallback: no run service");
    return 1;
  }
  if(host->run(host->ctx, argv, NULL, VRUN_RUN_CAPTURE | VRUN_RUN_QUIET,
               &out, NULL, &st, &err))
    return luaL_error(L, "%s", err.msg);
  lua_pushstring(L, out);
  host->free(out);
  return 1;
}

static const luaL_Reg funcs[] = {
  { "probe", l_probe },
  { "echo", l_echo },
  { NULL, NULL }
};

static int newer_open(lua_State *L, const struct vrun_host *h,
                      struct vrun_err *err)
{
  if(!VRUN_HOST_HAS(h, log))
    return VRUN_SET_ERR(err, VRUN_ENOTSUP, "host has no log service");
  host = h;
  luaL_newlib(L, funcs);
  return VRUN_OK;
}

const struct vrun_module vrun_module = {
  .abi = VRUN_ABI_VERSION,
  .name = "newer_service",
  .version = "2.0.0",
  .summary = "Test module probing services with VRUN_HOST_HAS",
  .open = newer_open
};
