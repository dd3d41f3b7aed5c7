/*
** good.c: a well-behaved test module whose functions drive each host
** service from Lua, so CLI tests can check them through the real vrun.
** SPDX-License-Identifier: MIT
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "vrun_module.h"

static const struct vrun_host *host;

static void hex(const unsigned char *d, unsigned int n, char *out)
{
  unsigned int i;

  for(i = 0; i < n; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int l_log(lua_State *L)
{
  int level = (int)luaL_checkinteger(L, 1);
  const char *msg = luaL_checkstring(L, 2);

  host->log(host->ctx, level, "%s", msg);
  return 0;
}

static int l_secret(lua_State *L)
{
  host->secret(host->ctx, luaL_checkstring(L, 1));
  return 0;
}

static int l_var(lua_State *L)
{
  const char *v = host->var_get(host->ctx, luaL_checkstring(L, 1));

  if(v)
    lua_pushstring(L, v);
  else
    lua_pushnil(L);
  return 1;
}

static int l_dry_run(lua_State *L)
{
  lua_pushboolean(L, host->dry_run(host->ctx));
  return 1;
}

static int l_sha256_file(lua_State *L)
{
  unsigned char d[32];
  char h[65];
  struct vrun_err err;

  if(host->sha256_file(host->ctx, luaL_checkstring(L, 1), d, &err)) {
    lua_pushnil(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  hex(d, 32, h);
  lua_pushstring(L, h);
  return 1;
}

static int l_sha256(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char d[32];
  char h[65];
  int rc = host->sha256(s, len, d);

  if(rc)
    return luaL_error(L, "sha256 failed: %d", rc);
  hex(d, 32, h);
  lua_pushstring(L, h);
  return 1;
}

static int l_hmac(lua_State *L)
{
  size_t kl, dl;
  const char *algo = luaL_checkstring(L, 1);
  const char *k = luaL_checklstring(L, 2, &kl);
  const char *d = luaL_checklstring(L, 3, &dl);
  unsigned char out[64];
  unsigned int n = 0;
  char h[129];
  struct vrun_err err;

  if(host->hmac(algo, k, kl, d, dl, out, &n, &err)) {
    lua_pushnil(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  hex(out, n, h);
  lua_pushstring(L, h);
  return 1;
}

/* {====== HTTP ====== */
#define MAX_HDRS 16
#define MAX_FINAL 8

struct req_store {
  struct vrun_http_request req;
  const char *hdrs[MAX_HDRS + 1];
  int final[MAX_FINAL + 1];
};

static const char *opt_str(lua_State *L, int t, const char *k)
{
  const char *s;

  lua_getfield(L, t, k);
  s = lua_tostring(L, -1);  /* the table keeps the string alive */
  lua_pop(L, 1);
  return s;
}

static long opt_int(lua_State *L, int t, const char *k)
{
  long v;

  lua_getfield(L, t, k);
  v = (long)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static void read_req(lua_State *L, int t, struct req_store *s)
{
  int i, n;
  size_t blen = 0;

  memset(s, 0, sizeof(*s));
  luaL_checktype(L, t, LUA_TTABLE);
  s->req.size = sizeof(s->req);
  s->req.method = opt_str(L, t, "method");
  s->req.url = opt_str(L, t, "url");
  lua_getfield(L, t, "body");
  s->req.body = lua_tolstring(L, -1, &blen);
  s->req.body_len = blen;
  lua_pop(L, 1);
  s->req.body_file = opt_str(L, t, "body_file");
  s->req.response_file = opt_str(L, t, "response_file");
  s->req.connect_timeout_ms = opt_int(L, t, "connect_timeout_ms");
  s->req.idle_timeout_ms = opt_int(L, t, "idle_timeout_ms");
  s->req.max_attempts = (int)opt_int(L, t, "max_attempts");
  s->req.progress_label = opt_str(L, t, "progress");
  if(lua_getfield(L, t, "headers") == LUA_TTABLE) {
    n = (int)luaL_len(L, -1);
    for(i = 0; i < n && i < MAX_HDRS; i++) {
      lua_rawgeti(L, -1, i + 1);
      s->hdrs[i] = lua_tostring(L, -1);
      lua_pop(L, 1);
    }
    s->req.headers = s->hdrs;
  }
  lua_pop(L, 1);
  if(lua_getfield(L, t, "final") == LUA_TTABLE) {
    n = (int)luaL_len(L, -1);
    for(i = 0; i < n && i < MAX_FINAL; i++) {
      lua_rawgeti(L, -1, i + 1);
      s->final[i] = (int)lua_tointeger(L, -1);
      lua_pop(L, 1);
    }
    s->req.final_statuses = s->final;
  }
  lua_pop(L, 1);
}

static void push_resp(lua_State *L, int t, struct vrun_http_response *r,
                      int rc, const char *msg)
{
  char v[256];
  const char *want = NULL;

  if(t)
    want = opt_str(L, t, "want_header");
  lua_newtable(L);
  lua_pushinteger(L, r->status);
  lua_setfield(L, -2, "status");
  lua_pushinteger(L, r->attempts);
  lua_setfield(L, -2, "attempts");
  lua_pushinteger(L, rc);
  lua_setfield(L, -2, "rc");
  lua_pushstring(L, msg ? msg : "");
  lua_setfield(L, -2, "error");
  if(r->body) {
    lua_pushlstring(L, r->body, r->body_len);
    lua_setfield(L, -2, "body");
  }
  if(want && host->http_header(r, want, v, sizeof(v)) == VRUN_OK) {
    lua_pushstring(L, v);
    lua_setfield(L, -2, "header");
  }
  host->http_response_free(r);
}

/* good.http{ method=, url=, body=, body_file=, ... } -> result table */
static int l_http(lua_State *L)
{
  struct req_store s;
  struct vrun_http_response r;
  struct vrun_err err;
  int rc;

  read_req(L, 1, &s);
  memset(&r, 0, sizeof(r));
  r.size = sizeof(r);
  memset(&err, 0, sizeof(err));
  rc = host->http_perform(host->ctx, &s.req, &r, &err);
  push_resp(L, 1, &r, rc, rc ? err.msg : NULL);
  return 1;
}

/* good.http_many({req, req, ...}, concurrency) -> { result, ... } */
static int l_http_many(lua_State *L)
{
  int n, i, rc;
  struct req_store *s;
  struct vrun_http_response *r;
  const struct vrun_http_request **reqs;
  struct vrun_http_response **resps;
  struct vrun_err err;
  int conc = (int)luaL_optinteger(L, 2, 2);

  luaL_checktype(L, 1, LUA_TTABLE);
  n = (int)luaL_len(L, 1);
  s = calloc((size_t)n + 1, sizeof(*s));
  r = calloc((size_t)n + 1, sizeof(*r));
  reqs = calloc((size_t)n + 1, sizeof(*reqs));
  resps = calloc((size_t)n + 1, sizeof(*resps));
  if(!s || !r || !reqs || !resps) {
    free(s);
    free(r);
    free(reqs);
    free(resps);
    return luaL_error(L, "out of memory");
  }
  for(i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);
    read_req(L, lua_gettop(L), &s[i]);
    lua_pop(L, 1);  /* still referenced by the argument table */
    r[i].size = sizeof(r[i]);
    reqs[i] = &s[i].req;
    resps[i] = &r[i];
  }
  memset(&err, 0, sizeof(err));
  rc = host->http_perform_many(host->ctx, reqs, resps, (size_t)n, conc,
                               &err);
  lua_newtable(L);
  for(i = 0; i < n; i++) {
    push_resp(L, 0, &r[i], rc ? rc : r[i].rc, rc ? err.msg : r[i].error);
    lua_rawseti(L, -2, i + 1);
  }
  free(s);
  free(r);
  free(reqs);
  free(resps);
  return 1;
}
/* }====== */

/* good.run({argv...}, {capture=, readonly=, quiet=, nofail=, cwd=}) ->
** out-or-true, exit_status | nil, message */
static int l_run(lua_State *L)
{
  const char *argv[32];
  int n, i, flags = 0, status = 0, rc;
  const char *cwd = NULL;
  char *out = NULL;
  size_t outlen = 0;
  struct vrun_err err;

  luaL_checktype(L, 1, LUA_TTABLE);
  n = (int)luaL_len(L, 1);
  if(n > 31)
    return luaL_error(L, "too many arguments");
  for(i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);
    argv[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  argv[n] = NULL;
  if(lua_istable(L, 2)) {
    flags |= opt_int(L, 2, "capture") ? VRUN_RUN_CAPTURE : 0;
    flags |= opt_int(L, 2, "readonly") ? VRUN_RUN_READONLY : 0;
    flags |= opt_int(L, 2, "quiet") ? VRUN_RUN_QUIET : 0;
    flags |= opt_int(L, 2, "nofail") ? VRUN_RUN_NOFAIL : 0;
    cwd = opt_str(L, 2, "cwd");
  }
  memset(&err, 0, sizeof(err));
  rc = host->run(host->ctx, argv, cwd, flags,
                 (flags & VRUN_RUN_CAPTURE) ? &out : NULL, &outlen, &status,
                 &err);
  if(rc) {
    lua_pushnil(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  if(out) {
    lua_pushlstring(L, out, outlen);
    host->free(out);
  }
  else
    lua_pushboolean(L, 1);
  lua_pushinteger(L, status);
  return 2;
}

static int l_write_file(lua_State *L)
{
  size_t len;
  const char *path = luaL_checkstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  struct vrun_err err;

  if(host->write_file(host->ctx, path, data, len, &err)) {
    lua_pushnil(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* good.progress(label, total, steps): report total bytes in steps. */
static int l_progress(lua_State *L)
{
  const char *label = luaL_checkstring(L, 1);
  lua_Integer total = luaL_checkinteger(L, 2);
  lua_Integer steps = luaL_optinteger(L, 3, 100), i;
  struct vrun_progress *p = host->progress_start(host->ctx, label,
                                                 (uint64_t)total);

  for(i = 1; i <= steps; i++)
    host->progress_update(p, (uint64_t)(total * i / steps));
  host->progress_end(p, 1);
  return 0;
}

static const luaL_Reg funcs[] = {
  { "log", l_log },
  { "secret", l_secret },
  { "var", l_var },
  { "dry_run", l_dry_run },
  { "sha256_file", l_sha256_file },
  { "sha256", l_sha256 },
  { "hmac", l_hmac },
  { "http", l_http },
  { "http_many", l_http_many },
  { "run", l_run },
  { "write_file", l_write_file },
  { "progress", l_progress },
  { NULL, NULL }
};

static int good_open(lua_State *L, const struct vrun_host *h,
                     struct vrun_err *err)
{
  (void)err;
  host = h;
  luaL_newlib(L, funcs);
  lua_pushinteger(L, (lua_Integer)h->abi);
  lua_setfield(L, -2, "host_abi");
  lua_pushstring(L, h->vrun_version);
  lua_setfield(L, -2, "vrun_version");
  return VRUN_OK;
}

const struct vrun_module vrun_module = {
  .abi = VRUN_ABI_VERSION,
  .name = "good",
  .version = "1.2.3",
  .summary = "Test module: drives every host service from Lua",
  .open = good_open
};
