/*
** docker.c: the docker module's Lua face: publish images with no daemon
** (oci backend), run the original's buildx commands, retag, bump compose
** files.
** SPDX-License-Identifier: MIT
*/
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "docker.h"
#include "image.h"
#include "compose.h"
#include "cache.h"

static const struct vrun_host *host;

/* {====== reading options ======
** Arrays live in Lua userdata, so a luaL_error never leaks them; strings
** stay owned by the options table, which is on the stack for the call. */

static const char *opt_str(lua_State *L, const char *k, int required)
{
  const char *s;

  lua_getfield(L, 1, k);
  if(lua_isnil(L, -1) && !required) {
    lua_pop(L, 1);
    return NULL;
  }
  if(lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "docker: option '%s' must be a string", k);
  s = lua_tostring(L, -1);
  lua_pop(L, 1);  /* still referenced by the options table */
  return s;
}

static lua_Integer opt_int(lua_State *L, const char *k, lua_Integer def)
{
  lua_Integer v;
  int isnum;

  lua_getfield(L, 1, k);
  if(lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return def;
  }
  v = lua_tointegerx(L, -1, &isnum);
  if(!isnum)
    luaL_error(L, "docker: option '%s' must be an integer", k);
  lua_pop(L, 1);
  return v;
}

/* A list of strings (a single string counts as a list of one). The
** array is a userdata left on the stack until the call returns. */
static char **opt_list(lua_State *L, const char *k, size_t *n, int required)
{
  char **v;
  size_t i, len;
  int t;

  *n = 0;
  luaL_checkstack(L, 4, "docker options");
  lua_getfield(L, 1, k);
  t = lua_gettop(L);
  if(lua_isnil(L, t)) {
    lua_pop(L, 1);
    if(required)
      luaL_error(L, "docker: option '%s' is required", k);
    return NULL;
  }
  if(lua_type(L, t) == LUA_TSTRING) {
    v = lua_newuserdatauv(L, 2 * sizeof(*v), 0);
    v[0] = (char *)lua_tostring(L, t);
    v[1] = NULL;
    lua_remove(L, t);
    *n = 1;
    return v;
  }
  if(lua_type(L, t) != LUA_TTABLE)
    luaL_error(L, "docker: option '%s' must be a list of strings", k);
  len = (size_t)lua_rawlen(L, t);
  v = lua_newuserdatauv(L, (len + 1) * sizeof(*v), 0);
  for(i = 0; i < len; i++) {
    lua_rawgeti(L, t, (lua_Integer)i + 1);
    if(lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "docker: option '%s' must be a list of strings", k);
    v[i] = (char *)lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  v[len] = NULL;
  lua_remove(L, t);
  *n = len;
  return v;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A string-to-string map as sorted key and value arrays (userdata left
** on the stack). */
static void opt_map(lua_State *L, const char *k, char ***keys, char ***vals,
                    size_t *n)
{
  size_t cap = 0, i;
  char **kv, **vv;
  int t;

  *n = 0;
  *keys = *vals = NULL;
  luaL_checkstack(L, 6, "docker options");
  lua_getfield(L, 1, k);
  t = lua_gettop(L);
  if(lua_isnil(L, t)) {
    lua_pop(L, 1);
    return;
  }
  if(lua_type(L, t) != LUA_TTABLE)
    luaL_error(L, "docker: option '%s' must be a table", k);
  lua_pushnil(L);
  while(lua_next(L, t)) {
    cap++;
    lua_pop(L, 1);
  }
  kv = lua_newuserdatauv(L, (cap + 1) * sizeof(*kv), 0);
  vv = lua_newuserdatauv(L, (cap + 1) * sizeof(*vv), 0);
  lua_pushnil(L);
  while(lua_next(L, t)) {
    if(lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "docker: option '%s' must map strings to strings", k);
    kv[*n] = (char *)lua_tostring(L, -2);
    (*n)++;
    lua_pop(L, 1);
  }
  qsort(kv, *n, sizeof(*kv), cmp_str);
  for(i = 0; i < *n; i++) {
    lua_getfield(L, t, kv[i]);
    vv[i] = (char *)lua_tostring(L, -1);
    lua_pop(L, 1);  /* the value stays referenced by the table */
  }
  lua_remove(L, t);
  *keys = kv;
  *vals = vv;
}

static void ctx_init(lua_State *L, struct docker_ctx *dc)
{
  memset(dc, 0, sizeof(*dc));
  dc->host = host;
  dc->vc = host->ctx;
  dc->insecure = opt_list(L, "insecure_registries", &dc->n_insecure, 0);
  dc->concurrency = (int)opt_int(L, "concurrency", 4);
  if(dc->concurrency < 1 || dc->concurrency > 64)
    luaL_error(L, "docker: option 'concurrency' must be 1..64");
}

static void push_stats(lua_State *L, struct docker_ctx *dc,
                       const char *digest)
{
  lua_createtable(L, 0, 5);
  lua_pushstring(L, digest);
  lua_setfield(L, -2, "digest");
  lua_pushinteger(L, (lua_Integer)dc->blobs_uploaded);
  lua_setfield(L, -2, "uploaded");
  lua_pushinteger(L, (lua_Integer)dc->blobs_skipped);
  lua_setfield(L, -2, "skipped");
  lua_pushinteger(L, (lua_Integer)dc->blobs_mounted);
  lua_setfield(L, -2, "mounted");
  lua_pushinteger(L, (lua_Integer)dc->bytes_uploaded);
  lua_setfield(L, -2, "bytes");
}
/* }====== */

/* The image options shared by publish and prepare. */
static void read_spec(lua_State *L, struct docker_image_spec *sp,
                      int need_refs)
{
  size_t i;

  memset(sp, 0, sizeof(*sp));
  sp->refs = opt_list(L, "refs", &sp->n_refs, need_refs);
  sp->platforms = opt_list(L, "platforms", &sp->n_plats, 1);
  sp->base = opt_str(L, "base", 0);
  sp->ca_certs = opt_str(L, "ca_certs", 0);
  sp->dest = opt_str(L, "dest", 1);
  sp->entrypoint = opt_list(L, "entrypoint", &sp->n_entrypoint, 0);
  if(!sp->entrypoint) {
    sp->entrypoint = lua_newuserdatauv(L, sizeof(char *), 0);
    sp->entrypoint[0] = (char *)sp->dest;
    sp->n_entrypoint = 1;
  }
  sp->expose = opt_list(L, "expose", &sp->n_expose, 0);
  opt_map(L, "labels", &sp->label_keys, &sp->label_vals, &sp->n_labels);
  sp->epoch = (long long)opt_int(L, "epoch", 0);
  sp->level = (int)opt_int(L, "level", 6);
  if(sp->level < 0 || sp->level > 12)
    luaL_error(L, "docker: option 'level' must be 0..12");
  if((need_refs && !sp->n_refs) || !sp->n_plats)
    luaL_error(L, "docker: 'refs' and 'platforms' must not be empty");
  sp->binaries = lua_newuserdatauv(L, sp->n_plats * sizeof(char *), 0);
  lua_getfield(L, 1, "binaries");
  if(lua_type(L, -1) != LUA_TTABLE)
    luaL_error(L, "docker: option 'binaries' must map platforms to files");
  for(i = 0; i < sp->n_plats; i++) {
    lua_getfield(L, -1, sp->platforms[i]);
    if(lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "docker: no binary for platform '%s'",
                 sp->platforms[i]);
    sp->binaries[i] = (char *)lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* docker.publish { refs=, platforms=, binaries=, dest=, ... } */
static int l_publish(lua_State *L)
{
  struct docker_ctx dc;
  struct docker_image_spec sp;
  struct vrun_err err;
  char digest[DOCKER_DIGEST_LEN];

  luaL_checktype(L, 1, LUA_TTABLE);
  ctx_init(L, &dc);
  memset(&err, 0, sizeof(err));
  read_spec(L, &sp, 1);
  if(docker_publish(&dc, &sp, digest, &err))
    return luaL_error(L, "docker: %s", err.msg);
  push_stats(L, &dc, digest);
  return 1;
}

/* docker.prepare { platforms=, binaries=, dest=, ca_certs=, ... }: start
** building the layers publish will need, in the background. */
static int l_prepare(lua_State *L)
{
  struct docker_ctx dc;
  struct docker_image_spec sp;
  struct vrun_err err;

  luaL_checktype(L, 1, LUA_TTABLE);
  ctx_init(L, &dc);
  memset(&err, 0, sizeof(err));
  read_spec(L, &sp, 0);
  if(docker_prepare(&dc, &sp, &err))
    return luaL_error(L, "docker: %s", err.msg);
  return 0;
}

/* docker.retag { src = "reg/repo:tag", tags = { "reg/repo:new", ... } } */
static int l_retag(lua_State *L)
{
  struct docker_ctx dc;
  struct vrun_err err;
  char digest[DOCKER_DIGEST_LEN];
  const char *src;
  char **tags;
  size_t n;

  luaL_checktype(L, 1, LUA_TTABLE);
  ctx_init(L, &dc);
  memset(&err, 0, sizeof(err));
  src = opt_str(L, "src", 1);
  tags = opt_list(L, "tags", &n, 1);
  if(docker_retag(&dc, src, tags, n, digest, &err))
    return luaL_error(L, "docker: %s", err.msg);
  push_stats(L, &dc, digest);
  return 1;
}

/* Run argv (NULL-terminated) through the host; error on failure. */
static int run_argv(lua_State *L, const char *const *argv, int flags,
                    char **out, int *status)
{
  struct vrun_err err;
  size_t olen;
  int rc;

  memset(&err, 0, sizeof(err));
  rc = host->run(host->ctx, argv, NULL, flags, out, &olen, status, &err);
  if(rc && !(flags & VRUN_RUN_NOFAIL))
    return luaL_error(L, "docker: %s", err.msg);
  return rc;
}

/* docker.buildx { platforms=, build_args=, labels=, tags=, file=,
** context=, docker= }: the original's `docker buildx build --push`. */
static int l_buildx(lua_State *L)
{
  char **plats, **args, **labels, **tags;
  size_t np, na, nl, nt, i, n = 0, plen = 0;
  const char *docker, *file, *context;
  const char **argv;
  char *pl;
  int status = 0;

  luaL_checktype(L, 1, LUA_TTABLE);
  docker = opt_str(L, "docker", 0);
  plats = opt_list(L, "platforms", &np, 1);
  args = opt_list(L, "build_args", &na, 0);
  labels = opt_list(L, "labels", &nl, 0);
  tags = opt_list(L, "tags", &nt, 1);
  file = opt_str(L, "file", 1);
  context = opt_str(L, "context", 1);
  for(i = 0; i < np; i++)
    plen += strlen(plats[i]) + 1;
  plen += 16;
  pl = lua_newuserdatauv(L, plen, 0);
  snprintf(pl, plen, "--platform=");
  for(i = 0; i < np; i++)
    snprintf(pl + strlen(pl), plen - strlen(pl), "%s%s", i ? "," : "",
             plats[i]);
  argv = lua_newuserdatauv(L, (2 * (na + nl + nt) + 20) * sizeof(char *),
                           0);
  argv[n++] = docker ? docker : "docker";
  argv[n++] = "buildx";
  argv[n++] = "build";
  argv[n++] = pl;
  for(i = 0; i < na; i++) {
    argv[n++] = "--build-arg";
    argv[n++] = args[i];
  }
  for(i = 0; i < nl; i++) {
    argv[n++] = "--label";
    argv[n++] = labels[i];
  }
  for(i = 0; i < nt; i++) {
    argv[n++] = "--tag";
    argv[n++] = tags[i];
  }
  argv[n++] = "-o";
  argv[n++] = "type=image";
  argv[n++] = "--provenance=false";
  argv[n++] = "--sbom=true";
  argv[n++] = "-f";
  argv[n++] = file;
  argv[n++] = "--push";
  argv[n++] = context;
  argv[n] = NULL;
  run_argv(L, argv, 0, NULL, &status);
  return 0;
}

/* docker.imagetools_create { tag=, src=, docker= } */
static int l_imagetools_create(lua_State *L)
{
  const char *argv[8];
  int status = 0;

  luaL_checktype(L, 1, LUA_TTABLE);
  argv[0] = opt_str(L, "docker", 0);
  if(!argv[0])
    argv[0] = "docker";
  argv[1] = "buildx";
  argv[2] = "imagetools";
  argv[3] = "create";
  argv[4] = "--tag";
  argv[5] = opt_str(L, "tag", 1);
  argv[6] = opt_str(L, "src", 1);
  argv[7] = NULL;
  run_argv(L, argv, 0, NULL, &status);
  return 0;
}

/* docker.engine([docker]): true when a Docker engine answers. */
static int l_engine(lua_State *L)
{
  const char *argv[5];
  char *out = NULL;
  int status = -1, rc;

  argv[0] = luaL_optstring(L, 1, "docker");
  argv[1] = "version";
  argv[2] = "--format";
  argv[3] = "{{.Server.Version}}";
  argv[4] = NULL;
  rc = run_argv(L, argv, VRUN_RUN_CAPTURE | VRUN_RUN_READONLY |
                VRUN_RUN_QUIET | VRUN_RUN_NOFAIL, &out, &status);
  lua_pushboolean(L, !rc && status == 0 && out && out[0] &&
                  out[0] != '\n');
  if(out)
    host->free(out);
  return 1;
}

/* docker.bump_compose { files=, tag=, images= }: returns the files it
** changed (or would change, under -n, where it prints a diff). A file
** name with * ? [ is a glob pattern. */
static int l_bump_compose(lua_State *L)
{
  struct docker_ctx dc;
  struct vrun_err err;
  char **files, **images;
  size_t nf, ni, i, j;
  const char *tag;
  glob_t g;
  int changed, k = 0, rc = VRUN_OK, gr;

  luaL_checktype(L, 1, LUA_TTABLE);
  ctx_init(L, &dc);
  memset(&err, 0, sizeof(err));
  files = opt_list(L, "files", &nf, 1);
  images = opt_list(L, "images", &ni, 1);
  tag = opt_str(L, "tag", 1);
  lua_newtable(L);
  for(i = 0; i < nf && !rc; i++) {
    if(!strpbrk(files[i], "*?[")) {
      changed = 0;
      rc = docker_compose_bump(&dc, files[i], images, ni, tag, &changed,
                               &err);
      if(!rc && changed) {
        lua_pushstring(L, files[i]);
        lua_rawseti(L, -2, ++k);
      }
      continue;
    }
    gr = glob(files[i], 0, NULL, &g);
    if(gr == GLOB_NOMATCH)
      continue;
    if(gr) {
      err.code = VRUN_EIO;
      snprintf(err.msg, sizeof(err.msg), "cannot list %s", files[i]);
      rc = err.code;
      break;
    }
    for(j = 0; j < g.gl_pathc && !rc; j++) {
      changed = 0;
      rc = docker_compose_bump(&dc, g.gl_pathv[j], images, ni, tag,
                               &changed, &err);
      if(!rc && changed) {
        lua_pushstring(L, g.gl_pathv[j]);
        lua_rawseti(L, -2, ++k);
      }
    }
    globfree(&g);
  }
  if(rc)
    return luaL_error(L, "docker: %s", err.msg);
  return 1;
}

/* docker.ref("name:tag") -> registry, repository, tag */
static int l_ref(lua_State *L)
{
  struct docker_ref r;
  struct vrun_err err;

  memset(&err, 0, sizeof(err));
  if(docker_ref_parse(luaL_checkstring(L, 1), &r, &err))
    return luaL_error(L, "docker: %s", err.msg);
  lua_pushstring(L, r.registry);
  lua_pushstring(L, r.repo);
  lua_pushstring(L, r.tag);
  docker_ref_free(&r);
  return 3;
}

static int l_gc(lua_State *L)
{
  (void)L;
  /* the host may be gone when the state closes: do not call it */
  docker_cache_clear(NULL, NULL);
  return 0;
}

static const luaL_Reg funcs[] = {
  { "publish", l_publish },
  { "prepare", l_prepare },
  { "retag", l_retag },
  { "buildx", l_buildx },
  { "imagetools_create", l_imagetools_create },
  { "engine", l_engine },
  { "bump_compose", l_bump_compose },
  { "ref", l_ref },
  { NULL, NULL }
};

static int docker_open(lua_State *L, const struct vrun_host *h,
                       struct vrun_err *err)
{
  if(!VRUN_HOST_HAS(h, free) || !h->http_perform_many)
    return VRUN_SET_ERR(err, VRUN_ENOTSUP, "this vrun lacks the HTTP "
                        "services the docker module needs");
  host = h;
  luaL_newlib(L, funcs);
  /* a userdata whose __gc removes the run's cached layers when the
  ** Lua state closes */
  lua_newuserdatauv(L, 1, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, l_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "_cache");
  lua_pushstring(L, "1.0.0");
  lua_setfield(L, -2, "version");
  return VRUN_OK;
}

const struct vrun_module vrun_module = {
  .abi = VRUN_ABI_VERSION,
  .name = "docker",
  .version = "1.0.0",
  .summary = "Multi-platform container images, with or without a daemon",
  .open = docker_open
};
