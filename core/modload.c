/*
** modload.c: find, open and check module .so files; `require` them.
** SPDX-License-Identifier: MIT
**
** In the manner of Lua's loadlib.c: dlopen with RTLD_NOW | RTLD_LOCAL,
** look up the one exported symbol, check its ABI number before trusting
** anything else, keep handles in a registry table whose finalizer closes
** them in reverse order at lua_close. Nothing is scanned or opened until
** a task file requires a module, so a run that uses none pays nothing.
*/
#include <dirent.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "ctx.h"
#include "log.h"

#ifndef VRUN_PREFIX
#define VRUN_PREFIX "/usr/local"
#endif

#define SYMBOL "vrun_module"
#define HANDLES_KEY "vrun.modload.handles"
#define PATH_MAX_LEN 4096

/* {====== the search path ====== */
struct dirlist {
  char **dir;
  size_t n;
};

static void dirs_free(struct dirlist *d)
{
  size_t i;

  for(i = 0; i < d->n; i++)
    free(d->dir[i]);
  free(d->dir);
  d->dir = NULL;
  d->n = 0;
}

/* Append a copy of s[0..len) unless empty or already there. */
static int dirs_add(struct dirlist *d, const char *s, size_t len)
{
  char **grown;
  size_t i;

  while(len > 1 && s[len - 1] == '/')
    len--;
  if(!len)
    return 0;
  for(i = 0; i < d->n; i++) {
    if(strlen(d->dir[i]) == len && !memcmp(d->dir[i], s, len))
      return 0;
  }
  grown = realloc(d->dir, (d->n + 1) * sizeof(*grown));
  if(!grown)
    return -1;
  d->dir = grown;
  d->dir[d->n] = strndup(s, len);
  if(!d->dir[d->n])
    return -1;
  d->n++;
  return 0;
}

/* -M dirs, VRUN_MODULE_PATH, <lib_dir>/modules, the install prefix. */
static int dirs_build(struct vrun_ctx *ctx, struct dirlist *d)
{
  const char *env = getenv("VRUN_MODULE_PATH");
  const char *p, *colon;
  char buf[PATH_MAX_LEN];
  size_t i;
  int rc = 0;

  d->dir = NULL;
  d->n = 0;
  for(i = 0; ctx && i < ctx->n_module_dirs; i++)
    rc |= dirs_add(d, ctx->module_dirs[i], strlen(ctx->module_dirs[i]));
  for(p = env; p && *p; p = colon + 1) {
    colon = strchr(p, ':');
    if(!colon) {
      rc |= dirs_add(d, p, strlen(p));
      break;
    }
    rc |= dirs_add(d, p, (size_t)(colon - p));
  }
  if(ctx && ctx->lib_dir) {
    snprintf(buf, sizeof(buf), "%s/modules", ctx->lib_dir);
    rc |= dirs_add(d, buf, strlen(buf));
  }
  p = VRUN_PREFIX "/lib/vrun/modules";
  rc |= dirs_add(d, p, strlen(p));
  return rc;
}
/* }====== */

/* {====== opening one file ====== */
static int valid_name(const char *name)
{
  const char *p;

  if(!*name)
    return 0;
  for(p = name; *p; p++) {
    if(!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
         (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
      return 0;
  }
  return 1;
}

/*
** dlopen `path` and check its descriptor. Returns the handle and sets *mod,
** or returns NULL with err filled (nothing left open). `name` is what the
** caller asked for, used in messages.
*/
static void *open_checked(const char *name, const char *path,
                          const struct vrun_module **mod,
                          struct vrun_err *err)
{
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  const struct vrun_module *m;

  if(!h) {
    VRUN_SET_ERR(err, VRUN_EIO, "module '%s' (%s): %s", name, path,
                 dlerror());
    return NULL;
  }
  m = dlsym(h, SYMBOL);
  if(!m) {
    VRUN_SET_ERR(err, VRUN_EINVAL, "module '%s' (%s): does not export '"
                 SYMBOL "'", name, path);
    dlclose(h);
    return NULL;
  }
  /* abi first: nothing else in *m is trusted before it matches */
  if(m->abi != VRUN_ABI_VERSION) {
    VRUN_SET_ERR(err, VRUN_ENOTSUP, "module '%s' (%s): built for module "
                 "ABI %u, this vrun speaks ABI %d", name, path,
                 (unsigned)m->abi, VRUN_ABI_VERSION);
    dlclose(h);
    return NULL;
  }
  if(!m->open || !m->name) {
    VRUN_SET_ERR(err, VRUN_EINVAL, "module '%s' (%s): its descriptor has "
                 "no %s", name, path, m->open ? "name" : "open function");
    dlclose(h);
    return NULL;
  }
  *mod = m;
  return h;
}
/* }====== */

/* {====== handles, closed in reverse order at lua_close ====== */
static int handles_gc(lua_State *L)
{
  lua_Integer n = (lua_Integer)luaL_len(L, 1);

  for(; n >= 1; n--) {
    if(lua_rawgeti(L, 1, n) == LUA_TLIGHTUSERDATA)
      dlclose(lua_touserdata(L, -1));
    lua_pop(L, 1);
  }
  return 0;
}

static void handles_push(lua_State *L)
{
  if(lua_getfield(L, LUA_REGISTRYINDEX, HANDLES_KEY) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_newtable(L);
  lua_pushcfunction(L, handles_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, HANDLES_KEY);
}
/* }====== */

/* {====== the require searcher ====== */
struct opening {
  const struct vrun_module *mod;
  struct vrun_ctx *ctx;
  struct vrun_err err;
  int rc;
};

/* Runs m->open under lua_pcall so a raise inside it (luaL_newlib's
** version check) is caught and the library can still be closed. */
static int call_open(lua_State *L)
{
  struct opening *o = lua_touserdata(L, 1);
  int top;

  lua_settop(L, 0);
  top = lua_gettop(L);
  o->rc = o->mod->open(L, vrun_host_get(o->ctx), &o->err);
  if(o->rc == VRUN_OK && lua_gettop(L) != top + 1) {
    o->rc = VRUN_EINVAL;
    snprintf(o->err.msg, sizeof(o->err.msg),
             "it pushed %d values, not its table", lua_gettop(L) - top);
  }
  if(o->rc != VRUN_OK)
    return 0;
  return 1;
}

/* Loader returned by the searcher: upvalues are the handle and the
** descriptor; arguments are the name and the path (require's). */
static int l_load(lua_State *L)
{
  void *h = lua_touserdata(L, lua_upvalueindex(1));
  const char *name = luaL_checkstring(L, 1);
  const char *path = luaL_checkstring(L, 2);
  struct opening o;
  size_t n;

  memset(&o, 0, sizeof(o));
  o.mod = lua_touserdata(L, lua_upvalueindex(2));
  o.ctx = lua_touserdata(L, lua_upvalueindex(3));
  lua_pushcfunction(L, call_open);
  lua_pushlightuserdata(L, &o);
  if(lua_pcall(L, 1, 1, 0) != LUA_OK) {
    const char *m = lua_tostring(L, -1);
    o.rc = VRUN_EINVAL;
    snprintf(o.err.msg, sizeof(o.err.msg), "%s", m ? m : "raised an error");
  }
  if(o.rc != VRUN_OK) {
    dlclose(h);
    if(!o.err.msg[0])
      snprintf(o.err.msg, sizeof(o.err.msg), "error %d", o.rc);
    lua_settop(L, 0);
    lua_pushfstring(L, "module '%s' (%s): open failed: %s", name, path,
                    o.err.msg);
    return lua_error(L);
  }
  /* The handle lives until lua_close; the table goes to require. */
  handles_push(L);
  n = (size_t)luaL_len(L, -1);
  lua_pushlightuserdata(L, h);
  lua_rawseti(L, -2, (lua_Integer)n + 1);
  lua_pop(L, 1);
  return 1;
}

/* Non-zero when `name` is on package.path or package.cpath, so a Lua
** searcher after this one will find it. */
static int lua_path_has(lua_State *L, const char *name)
{
  static const char *const fields[] = { "path", "cpath" };
  int found = 0, i;

  for(i = 0; i < 2 && !found; i++) {
    if(lua_getglobal(L, "package") != LUA_TTABLE) {
      lua_pop(L, 1);
      return 0;
    }
    lua_getfield(L, -1, "searchpath");    /* package, searchpath */
    lua_pushstring(L, name);
    lua_getfield(L, -3, fields[i]);       /* package, sp, name, path */
    if(lua_type(L, -3) != LUA_TFUNCTION || lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 4);
      continue;
    }
    if(lua_pcall(L, 2, 1, 0) == LUA_OK)
      found = !lua_isnil(L, -1);
    lua_pop(L, 2);
  }
  return found;
}

static int l_searcher(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  struct vrun_ctx *ctx = lua_touserdata(L, lua_upvalueindex(1));
  struct dirlist d;
  char path[PATH_MAX_LEN];
  const struct vrun_module *m = NULL;
  struct vrun_err err;
  luaL_Buffer b;
  size_t i;
  void *h;

  /* "vrun.project" and the like are Lua files: not ours. */
  if(!valid_name(name)) {
    lua_pushfstring(L, "no module '%s' on the module path", name);
    return 1;
  }
  if(dirs_build(ctx, &d)) {
    dirs_free(&d);
    return luaL_error(L, "out of memory");
  }
  for(i = 0; i < d.n; i++) {
    snprintf(path, sizeof(path), "%s/%s.so", d.dir[i], name);
    if(access(path, F_OK) == 0)
      break;
  }
  if(i == d.n) {
    if(lua_path_has(L, name)) {
      dirs_free(&d);
      lua_pushfstring(L, "no module '%s' on the module path", name);
      return 1;
    }
    luaL_buffinit(L, &b);
    lua_pushfstring(L, "module '%s' not found; tried:", name);
    luaL_addvalue(&b);
    for(i = 0; i < d.n; i++) {
      lua_pushfstring(L, " %s/%s.so", d.dir[i], name);
      luaL_addvalue(&b);
    }
    dirs_free(&d);
    luaL_pushresult(&b);
    return lua_error(L);
  }
  dirs_free(&d);
  memset(&err, 0, sizeof(err));
  h = open_checked(name, path, &m, &err);
  if(!h) {
    lua_pushstring(L, err.msg);
    return lua_error(L);
  }
  lua_pushlightuserdata(L, h);
  lua_pushlightuserdata(L, (void *)(uintptr_t)m);
  lua_pushlightuserdata(L, ctx);
  lua_pushcclosure(L, l_load, 3);
  lua_pushstring(L, path);
  return 2;
}

void vrun_modload_install(lua_State *L, struct vrun_ctx *ctx)
{
  lua_Integer n, i;

  /* Made now, before any module, so its finalizer runs after those of
  ** every object a module creates (Lua finalizes in reverse order). */
  handles_push(L);
  lua_pop(L, 1);
  if(lua_getglobal(L, "package") != LUA_TTABLE ||
     lua_getfield(L, -1, "searchers") != LUA_TTABLE) {
    lua_settop(L, lua_gettop(L) - 2);
    return;
  }
  /* Insert at 2: after package.preload, before the Lua path. */
  n = (lua_Integer)luaL_len(L, -1);
  for(i = n; i >= 2; i--) {
    lua_rawgeti(L, -1, i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushlightuserdata(L, ctx);
  lua_pushcclosure(L, l_searcher, 1);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 2);
}

int vrun_modload_preload(lua_State *L, struct vrun_ctx *ctx,
                         const char *name, struct vrun_err *err)
{
  int top = lua_gettop(L);
  const char *msg;

  (void)ctx;
  if(lua_getglobal(L, "require") != LUA_TFUNCTION) {
    lua_settop(L, top);
    return VRUN_SET_ERR(err, VRUN_ENOTSUP, "require is not available");
  }
  lua_pushstring(L, name);
  if(lua_pcall(L, 1, 0, 0) != LUA_OK) {
    msg = lua_tostring(L, -1);
    VRUN_SET_ERR(err, VRUN_EINVAL, "%s", msg ? msg : "error loading module");
    lua_settop(L, top);
    return err ? err->code : VRUN_EINVAL;
  }
  lua_settop(L, top);
  return VRUN_OK;
}
/* }====== */

/* {====== vrun --modules ====== */
struct found {
  char *name;
  char *path;
};

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of *.so files in dir (malloc'd; the caller frees). */
static char **list_dir(const char *dir, size_t *n)
{
  DIR *dp = opendir(dir);
  struct dirent *de;
  char **v = NULL, **grown;
  size_t len;

  *n = 0;
  if(!dp)
    return NULL;
  for(;;) {
    de = readdir(dp);
    if(!de)
      break;
    len = strlen(de->d_name);
    if(len < 4 || strcmp(de->d_name + len - 3, ".so"))
      continue;
    grown = realloc(v, (*n + 1) * sizeof(*v));
    if(!grown)
      break;
    v = grown;
    v[*n] = strndup(de->d_name, len - 3);
    if(!v[*n])
      break;
    (*n)++;
  }
  closedir(dp);
  if(*n)
    qsort(v, *n, sizeof(*v), cmp_str);
  return v;
}

/* A line on stdout, masked, shown even under -s (it was asked for). */
static void outf(const char *fmt, ...)
  __attribute__((format(printf, 1, 2)));
static void outf(const char *fmt, ...)
{
  char buf[8192];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
  va_end(ap);
  if(n < 0)
    return;
  if((size_t)n > sizeof(buf) - 2)
    n = (int)sizeof(buf) - 2;
  buf[n++] = '\n';
  vrun_log_write(1, buf, (size_t)n);
}

int vrun_modload_list(struct vrun_ctx *ctx)
{
  struct dirlist d;
  struct found *seen = NULL, *grown;
  size_t nseen = 0, i, j, k, nf;
  char **files;
  char path[PATH_MAX_LEN];
  const struct vrun_module *m;
  struct vrun_err err;
  const char *shadow;
  void *h;
  int shown = 0;

  if(dirs_build(ctx, &d)) {
    dirs_free(&d);
    vrun_log(VRUN_LOG_ERROR, "*** out of memory.  Stop.");
    return 2;
  }
  for(i = 0; i < d.n; i++) {
    files = list_dir(d.dir[i], &nf);
    for(j = 0; j < nf; j++) {
      snprintf(path, sizeof(path), "%s/%s.so", d.dir[i], files[j]);
      shadow = NULL;
      for(k = 0; k < nseen; k++) {
        if(!strcmp(seen[k].name, files[j]))
          shadow = seen[k].path;
      }
      if(!shown++)
        outf("%-16s %-10s %-4s %s  %s", "NAME", "VERSION", "ABI", "PATH",
             "SUMMARY");
      memset(&err, 0, sizeof(err));
      h = open_checked(files[j], path, &m, &err);
      if(h)
        outf("%-16s %-10s %-4u %s  %s%s%s%s", files[j],
                 m->version ? m->version : "?", (unsigned)m->abi, path,
                 m->summary ? m->summary : "",
                 shadow ? "  (shadowed by " : "", shadow ? shadow : "",
                 shadow ? ")" : "");
      else
        outf("%-16s %-10s %-4s %s  (unusable: %s)%s%s%s",
                 files[j], "-", "-", path, err.msg,
                 shadow ? "  (shadowed by " : "", shadow ? shadow : "",
                 shadow ? ")" : "");
      if(h)
        dlclose(h);
      if(!shadow) {
        grown = realloc(seen, (nseen + 1) * sizeof(*seen));
        if(grown) {
          seen = grown;
          seen[nseen].name = files[j];
          seen[nseen].path = strdup(path);
          files[j] = NULL;
          nseen++;
        }
      }
      free(files[j]);
    }
    free(files);
  }
  if(!shown) {
    outf("no modules found; searched:");
    for(i = 0; i < d.n; i++)
      outf("  %s", d.dir[i]);
  }
  for(i = 0; i < nseen; i++) {
    free(seen[i].name);
    free(seen[i].path);
  }
  free(seen);
  dirs_free(&d);
  return 0;
}
/* }====== */
