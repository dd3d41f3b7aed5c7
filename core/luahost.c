/*
** luahost.c: the one lua_State of a run and the task-file DSL (task,
** file, var, default, default_target, include, secret, dry_run, log).
** sh, capture, invoke and expand live in jobs.c, next to the scheduler.
** SPDX-License-Identifier: MIT
*/
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "jobs.h"
#include "log.h"
#include "luahost.h"
#include "redact.h"
#include "strmap.h"
#include "vars.h"

static const char RUNKEY = 'r';

struct vrun_run *vrun_lua_run(lua_State *L)
{
  struct vrun_run *run;

  lua_rawgetp(L, LUA_REGISTRYINDEX, &RUNKEY);
  run = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return run;
}

void vrun_fatal(lua_State *L, const char *hint, const char *fmt, ...)
{
  char msg[2048];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  lua_createtable(L, 0, 2);
  lua_pushstring(L, msg);
  lua_setfield(L, -2, "msg");
  if(hint) {
    lua_pushstring(L, hint);
    lua_setfield(L, -2, "hint");
  }
  luaL_setmetatable(L, "vrun.fatal");
  lua_error(L);
  abort();  /* lua_error does not return */
}

static int l_fatal_tostring(lua_State *L)
{
  lua_getfield(L, 1, "msg");
  return 1;
}

/* {====== task and file ====== */

/* Check that idx holds a string or a list of strings (raises if not);
** returns how many. Nothing is allocated yet, so raising leaks nothing. */
static size_t check_list(lua_State *L, int idx, const char *task,
                         const char *field)
{
  size_t i, len;

  if(lua_type(L, idx) == LUA_TSTRING)
    return 1;
  if(lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L, "task '%s': %s must be a string or a list of strings",
               task, field);
  len = (size_t)lua_rawlen(L, idx);
  for(i = 1; i <= len; i++) {
    if(lua_rawgeti(L, idx, (lua_Integer)i) != LUA_TSTRING)
      luaL_error(L, "task '%s': %s[%d] is not a string", task, field,
                 (int)i);
    lua_pop(L, 1);
  }
  return len;
}

/* Copy a checked list into one malloc'd block (the pointers, then the
** bytes), NULL-terminated; NULL when out of memory. Never raises. */
static char **copy_list(lua_State *L, int idx, size_t n)
{
  size_t i, l, bytes = (n + 1) * sizeof(char *);
  const char *str;
  char **v, *p;
  int one = lua_type(L, idx) == LUA_TSTRING;

  for(i = 0; i < n; i++) {
    if(!one)
      lua_rawgeti(L, idx, (lua_Integer)i + 1);
    lua_tolstring(L, one ? idx : -1, &l);
    bytes += l + 1;
    if(!one)
      lua_pop(L, 1);
  }
  v = malloc(bytes);
  if(!v)
    return NULL;
  p = (char *)(v + n + 1);
  for(i = 0; i < n; i++) {
    if(!one)
      lua_rawgeti(L, idx, (lua_Integer)i + 1);
    str = lua_tolstring(L, one ? idx : -1, &l);
    memcpy(p, str, l + 1);
    v[i] = p;
    p += l + 1;
    if(!one)
      lua_pop(L, 1);
  }
  v[n] = NULL;
  return v;
}

/* "file:line" without printf: this runs once per task. */
static char *where_of(lua_State *L)
{
  lua_Debug ar;
  char num[24], *w;
  size_t sl, nl = 0;
  int line;

  if(!lua_getstack(L, 1, &ar) || !lua_getinfo(L, "Sl", &ar) ||
     ar.currentline <= 0)
    return strdup("?");
  line = ar.currentline;
  do {
    num[sizeof(num) - 1 - nl++] = (char)('0' + line % 10);
    line /= 10;
  } while(line && nl < sizeof(num) - 1);
  sl = strlen(ar.short_src);
  w = malloc(sl + nl + 2);
  if(!w)
    return NULL;
  memcpy(w, ar.short_src, sl);
  w[sl] = ':';
  memcpy(w + sl + 1, num + sizeof(num) - nl, nl);
  w[sl + 1 + nl] = '\0';
  return w;
}

enum { F_DESC = 1, F_DEPS, F_NEEDS, F_MODULES, F_RUN, F_N };

/*
** Define a task from the spec at index spec (a table or a function).
** First everything is checked (raising is free then), then copied into C
** memory with no call that can raise before the graph owns it.
*/
static void add_task(lua_State *L, const char *name, int spec, int is_file)
{
  static const char *const fields[F_N] = {
    NULL, "desc", "deps", "needs", "modules", "run"
  };
  struct vrun_run *run = vrun_lua_run(L);
  struct vrun_task *t, *old;
  size_t cnt[F_N] = { 0 };
  int slot[F_N] = { 0 };
  int err, i, ref = LUA_NOREF, top = lua_gettop(L);
  char *where;

  if(lua_type(L, spec) == LUA_TTABLE) {
    lua_pushnil(L);
    while(lua_next(L, spec)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ?
                      lua_tostring(L, -2) : "?";
      for(i = 1; i < F_N; i++) {
        if(strcmp(k, fields[i]) == 0)
          break;
      }
      if(i == F_DESC && lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "task '%s': desc must be a string", name);
      else if(i == F_RUN && lua_type(L, -1) != LUA_TFUNCTION)
        luaL_error(L, "task '%s': run must be a function", name);
      else if(i >= F_DEPS && i <= F_MODULES)
        cnt[i] = check_list(L, lua_gettop(L), name, fields[i]);
      else if(i == F_N) {
        char *w = where_of(L);
        vrun_log(VRUN_LOG_WARN, "%s: task '%s': unknown field '%s'",
                 w ? w : "?", name, k);
        free(w);
      }
      if(i < F_N) {
        /* keep the value on the stack, below the iteration key */
        lua_pushvalue(L, -1);
        lua_insert(L, -3);
        slot[i] = lua_gettop(L) - 2;
      }
      lua_pop(L, 1);
    }
  }
  else if(lua_type(L, spec) == LUA_TFUNCTION)
    slot[F_RUN] = spec;
  else if(!lua_isnoneornil(L, spec))
    luaL_error(L, "task '%s': expected a table or a function", name);
  if(slot[F_RUN]) {
    lua_pushvalue(L, slot[F_RUN]);
    ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  /* from here on, nothing raises until the task is in the graph */
  where = where_of(L);
  t = vrun_task_new(name);
  if(!t || !where)
    goto oom;
  t->where = where;
  where = NULL;
  t->is_file = is_file;
  t->run_ref = ref;
  if(slot[F_DESC]) {
    t->desc = strdup(lua_tostring(L, slot[F_DESC]));
    if(!t->desc)
      goto oom;
  }
#define COPY(f, field, n) do {                                          \
    if(slot[f]) {                                                       \
      t->field = copy_list(L, slot[f], cnt[f]);                         \
      t->n = cnt[f];                                                    \
      if(!t->field)                                                     \
        goto oom;                                                       \
    }                                                                   \
  } while(0)
  COPY(F_DEPS, deps, ndeps);
  COPY(F_NEEDS, needs, nneeds);
  COPY(F_MODULES, modules, nmodules);
#undef COPY
  old = vrun_graph_add(run->graph, t, &err);
  t = NULL;
  if(err)
    goto oom;
  lua_settop(L, top);
  if(old) {
    if(run->ctx->verbose)
      vrun_log(VRUN_LOG_WARN, "%s: overriding task '%s' (from %s)",
               vrun_graph_find(run->graph, name)->where, name,
               old->where ? old->where : "?");
    luaL_unref(L, LUA_REGISTRYINDEX, old->run_ref);
    vrun_task_free(old);
  }
  return;
oom:
  free(where);
  if(t) {
    t->run_ref = LUA_NOREF;
    vrun_task_free(t);
  }
  luaL_unref(L, LUA_REGISTRYINDEX, ref);
  luaL_error(L, "out of memory");
}

static int l_task_spec(lua_State *L)
{
  add_task(L, lua_tostring(L, lua_upvalueindex(1)), 1,
           (int)lua_toboolean(L, lua_upvalueindex(2)));
  return 0;
}

static int define(lua_State *L, int is_file)
{
  luaL_checkstring(L, 1);
  if(lua_gettop(L) == 1) {
    /* task "name" { ... }: return the function taking the spec */
    lua_pushvalue(L, 1);
    lua_pushboolean(L, is_file);
    lua_pushcclosure(L, l_task_spec, 2);
    return 1;
  }
  add_task(L, lua_tostring(L, 1), 2, is_file);
  return 0;
}

/* task "name" { desc=, deps=, needs=, modules=, run= } */
static int l_task(lua_State *L)
{
  return define(L, 0);
}

/* file "path" { deps=, run= }: rebuilt when older than a dependency */
static int l_file(lua_State *L)
{
  return define(L, 1);
}
/* }====== */

/* {====== variables ====== */

static int l_var_index(lua_State *L)
{
  struct vrun_run *run = vrun_lua_run(L);
  const char *v = vrun_var_lookup(run->ctx, luaL_checkstring(L, 2));

  if(v)
    lua_pushstring(L, v);
  else
    lua_pushnil(L);
  return 1;
}

static int l_var_newindex(lua_State *L)
{
  struct vrun_run *run = vrun_lua_run(L);
  const char *name = luaL_checkstring(L, 2), *val = NULL;

  if(!vrun_vars_valid_name(name))
    return luaL_error(L, "invalid variable name '%s'", name);
  if(!lua_isnil(L, 3))
    val = luaL_tolstring(L, 3, NULL);
  if(val && (vrun_redact_is_secret_name(name) ||
             vrun_redact_is_secret_value(val)))
    vrun_redact_add(val);
  if(vrun_vars_set(run->ctx->vars, VRUN_VAR_FILE, name, val))
    return luaL_error(L, "out of memory");
  return 0;
}

/* default { X = "..." } sets defaults (make's ?=); default "name" is
** default_target "name". */
static int l_default(lua_State *L)
{
  struct vrun_run *run = vrun_lua_run(L);

  if(lua_type(L, 1) == LUA_TSTRING) {
    free(run->graph->default_target);
    run->graph->default_target = strdup(lua_tostring(L, 1));
    return 0;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushnil(L);
  while(lua_next(L, 1)) {
    const char *name, *val;
    if(lua_type(L, -2) != LUA_TSTRING)
      return luaL_error(L, "default: keys must be variable names");
    name = lua_tostring(L, -2);
    if(!vrun_vars_valid_name(name))
      return luaL_error(L, "invalid variable name '%s'", name);
    val = luaL_tolstring(L, -1, NULL);
    if(vrun_redact_is_secret_name(name) || vrun_redact_is_secret_value(val))
      vrun_redact_add(val);
    if(vrun_vars_set(run->ctx->vars, VRUN_VAR_DEFAULT, name, val))
      return luaL_error(L, "out of memory");
    lua_pop(L, 2);
  }
  return 0;
}

static int l_default_target(lua_State *L)
{
  struct vrun_run *run = vrun_lua_run(L);

  free(run->graph->default_target);
  run->graph->default_target = strdup(luaL_checkstring(L, 1));
  return 0;
}
/* }====== */

/* {====== include and helpers ====== */

static int is_file(const char *p)
{
  struct stat st;

  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* include "name": share_dir/tasks/name.lua, else a path next to the task
** file (with or without .lua). Each file is loaded once. */
static int l_include(lua_State *L)
{
  struct vrun_run *run = vrun_lua_run(L);
  const char *name = luaL_checkstring(L, 1);
  char real[PATH_MAX];
  const char *path;
  const char *tries[3];
  char t0[PATH_MAX + 16], t1[PATH_MAX], t2[PATH_MAX + 8];
  int i, n = 0, found = -1;
  struct vrun_strmap *inc = run->included;

  if(!strchr(name, '/')) {
    snprintf(t0, sizeof(t0), "%s/tasks/%s.lua", run->ctx->share_dir, name);
    tries[n++] = t0;
  }
  if(name[0] == '/')
    snprintf(t1, sizeof(t1), "%s", name);
  else
    snprintf(t1, sizeof(t1), "%s/%s", run->taskdir, name);
  tries[n++] = t1;
  snprintf(t2, sizeof(t2), "%s.lua", t1);
  tries[n++] = t2;
  for(i = 0; i < n && found < 0; i++) {
    if(is_file(tries[i]))
      found = i;
  }
  if(found < 0)
    return luaL_error(L, "include '%s': not found (tried %s%s%s%s%s)", name,
                      tries[0], n > 1 ? ", " : "", n > 1 ? tries[1] : "",
                      n > 2 ? ", " : "", n > 2 ? tries[2] : "");
  path = tries[found];
  if(!realpath(path, real))
    snprintf(real, sizeof(real), "%s", path);
  if(vrun_strmap_get(inc, real))
    return 0;
  if(vrun_strmap_put(inc, real, (void *)1, NULL))
    return luaL_error(L, "out of memory");
  if(luaL_loadfilex(L, path, "t"))
    return lua_error(L);
  lua_call(L, 0, 0);
  return 0;
}

static int l_secret(lua_State *L)
{
  const char *v = luaL_checkstring(L, 1);

  vrun_redact_add(v);
  lua_settop(L, 1);
  return 1;
}

static int l_dry_run(lua_State *L)
{
  lua_pushboolean(L, vrun_lua_run(L)->ctx->dry_run);
  return 1;
}

/* The arguments as strings, tab-separated like print does. */
static const char *joined(lua_State *L, size_t *len)
{
  luaL_Buffer b;
  int i, n = lua_gettop(L);

  luaL_buffinit(L, &b);
  for(i = 1; i <= n; i++) {
    if(i > 1)
      luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return lua_tolstring(L, -1, len);
}

/* log(...): an INFO line (hidden by -s). */
static int l_log(lua_State *L)
{
  vrun_log(VRUN_LOG_INFO, "%s", joined(L, NULL));
  return 0;
}

/* print(...): as Lua's, but masked and kept with its task under -j. */
static int l_print(lua_State *L)
{
  size_t len;
  const char *s = joined(L, &len);

  lua_pushliteral(L, "\n");
  lua_concat(L, 2);
  s = lua_tolstring(L, -1, &len);
  vrun_log_write(1, s, len);
  return 0;
}
/* }====== */

/* {====== the Lua allocator ======
** Task files make many small objects (a closure, a table and strings per
** task); malloc's bookkeeping was a quarter of a 10,000-task run. Blocks
** up to POOL_MAX bytes come from size-class free lists carved out of big
** chunks; Lua tells the size on free, so blocks need no header. Under
** AddressSanitizer plain malloc is kept, so it still sees Lua's heap. */
#if defined(__SANITIZE_ADDRESS__)
#define VRUN_LUA_POOL 0
#else
#define VRUN_LUA_POOL 1
#endif
#define POOL_GRAIN 16
#define POOL_MAX 256
#define POOL_CHUNK (256 * 1024)

static struct {
  void *free[POOL_MAX / POOL_GRAIN];
  char *cur;
  size_t left;
  void **chunks;
  size_t nchunks, capchunks;
} pool;

static size_t pool_class(size_t n)
{
  return (n + POOL_GRAIN - 1) / POOL_GRAIN - 1;
}

static void *pool_get(size_t n)
{
  size_t c = pool_class(n), sz = (c + 1) * POOL_GRAIN;
  void *b = pool.free[c];

  if(b) {
    pool.free[c] = *(void **)b;
    return b;
  }
  if(pool.left < sz) {
    char *chunk;
    if(pool.nchunks == pool.capchunks) {
      size_t ncap = pool.capchunks ? pool.capchunks * 2 : 16;
      void **nc = realloc(pool.chunks, ncap * sizeof(*nc));
      if(!nc)
        return NULL;
      pool.chunks = nc;
      pool.capchunks = ncap;
    }
    chunk = malloc(POOL_CHUNK);
    if(!chunk)
      return NULL;
    pool.chunks[pool.nchunks++] = chunk;
    pool.cur = chunk;
    pool.left = POOL_CHUNK;
  }
  b = pool.cur;
  pool.cur += sz;
  pool.left -= sz;
  return b;
}

static void pool_put(void *b, size_t n)
{
  size_t c = pool_class(n);

  *(void **)b = pool.free[c];
  pool.free[c] = b;
}

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  void *nb;

  (void)ud;
  if(!ptr)
    osize = 0;  /* then osize is a type tag, not a size */
  if(!VRUN_LUA_POOL) {
    if(!nsize) {
      free(ptr);
      return NULL;
    }
    nb = realloc(ptr, nsize);
    return !nb && ptr && nsize <= osize ? ptr : nb;
  }
  if(!nsize) {
    if(ptr && osize <= POOL_MAX)
      pool_put(ptr, osize);
    else
      free(ptr);
    return NULL;
  }
  if(ptr && osize <= POOL_MAX && nsize <= POOL_MAX &&
     pool_class(osize) == pool_class(nsize))
    return ptr;
  if(ptr && osize > POOL_MAX && nsize > POOL_MAX) {
    nb = realloc(ptr, nsize);
    return !nb && nsize <= osize ? ptr : nb;  /* a shrink must not fail */
  }
  nb = nsize <= POOL_MAX ? pool_get(nsize) : malloc(nsize);
  if(!nb)
    return nsize <= osize ? ptr : NULL;  /* a shrink must not fail */
  if(ptr) {
    memcpy(nb, ptr, osize < nsize ? osize : nsize);
    if(osize <= POOL_MAX)
      pool_put(ptr, osize);
    else
      free(ptr);
  }
  return nb;
}

static int l_panic(lua_State *L)
{
  const char *msg = lua_tostring(L, -1);

  vrun_log(VRUN_LOG_ERROR, "*** unprotected Lua error: %s.  Stop.",
           msg ? msg : "?");
  return 0;  /* Lua aborts */
}

static void l_warn(void *ud, const char *msg, int tocont)
{
  (void)ud;
  (void)msg;
  (void)tocont;  /* Lua's warnings are off, as in lua.c by default */
}

void vrun_lua_close(lua_State *L)
{
  size_t i;

  if(L)
    lua_close(L);
  for(i = 0; i < pool.nchunks; i++)
    free(pool.chunks[i]);
  free(pool.chunks);
  memset(&pool, 0, sizeof(pool));
}
/* }====== */

lua_State *vrun_lua_new(struct vrun_run *run)
{
  lua_State *L = lua_newstate(l_alloc, NULL);

  if(!L)
    return NULL;
  lua_atpanic(L, l_panic);
  lua_setwarnf(L, l_warn, NULL);
  lua_pushlightuserdata(L, run);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &RUNKEY);
  return L;
}

void vrun_lua_install(lua_State *L, struct vrun_run *run)
{
  static const luaL_Reg dsl[] = {
    { "task", l_task }, { "file", l_file }, { "default", l_default },
    { "default_target", l_default_target }, { "include", l_include },
    { "secret", l_secret }, { "dry_run", l_dry_run }, { "log", l_log },
    { "print", l_print },
    { NULL, NULL }
  };
  const luaL_Reg *r;
  char prelude[PATH_MAX];

  luaL_openlibs(L);
  luaL_newmetatable(L, "vrun.fatal");
  lua_pushcfunction(L, l_fatal_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);

  /* require "vrun.project" finds share_dir/lua/vrun/project.lua */
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;", run->ctx->share_dir,
                  run->ctx->share_dir);
  lua_getfield(L, -2, "path");
  lua_concat(L, 2);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  vrun_modload_install(L, run->ctx);

  for(r = dsl; r->name; r++)
    lua_register(L, r->name, r->func);
  vrun_jobs_open_dsl(L);
  lua_newtable(L);                       /* var */
  lua_newtable(L);
  lua_pushcfunction(L, l_var_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_var_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_setglobal(L, "var");
  lua_newtable(L);                       /* vrun */
  lua_pushstring(L, VRUN_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushinteger(L, run->ctx->jobs);
  lua_setfield(L, -2, "jobs");
  lua_pushstring(L, run->ctx->share_dir);
  lua_setfield(L, -2, "share_dir");
  lua_setglobal(L, "vrun");

  snprintf(prelude, sizeof(prelude), "%s/lua/vrun/prelude.lua",
           run->ctx->share_dir);
  if(is_file(prelude)) {
    if(luaL_loadfilex(L, prelude, "t"))
      vrun_fatal(L, NULL, "%s", lua_tostring(L, -1));
    lua_call(L, 0, 0);
  }
}

/* Message handler: a traceback under -v. */
static int msgh(lua_State *L)
{
  struct vrun_run *run = vrun_lua_run(L);

  if(lua_type(L, 1) == LUA_TSTRING && run->ctx->verbose)
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
  return 1;
}

void vrun_lua_load_taskfile(lua_State *L, struct vrun_run *run)
{
  int base;

  lua_pushcfunction(L, msgh);
  base = lua_gettop(L);
  if(luaL_loadfilex(L, run->taskfile, "t")) {
    vrun_fatal(L, NULL, "%s", lua_tostring(L, -1));
  }
  if(lua_pcall(L, 0, 0, base)) {
    if(lua_type(L, -1) == LUA_TSTRING)
      vrun_fatal(L, NULL, "%s", lua_tostring(L, -1));
    {
      int fatal = 0;
      if(luaL_getmetafield(L, -1, "__name") != LUA_TNIL) {
        fatal = lua_type(L, -1) == LUA_TSTRING &&
                strcmp(lua_tostring(L, -1), "vrun.fatal") == 0;
        lua_pop(L, 1);
      }
      if(fatal)
        lua_error(L);
      vrun_fatal(L, NULL, "%s", luaL_tolstring(L, -1, NULL));
    }
  }
  lua_settop(L, base - 1);
}
