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

/* A string or a list of strings at idx, copied into *out. */
static void strlist(lua_State *L, int idx, const char *task,
                    const char *field, char ***out, size_t *n)
{
  size_t i, len;

  if(lua_type(L, idx) == LUA_TSTRING) {
    *out = calloc(1, sizeof(**out));
    if(!*out)
      luaL_error(L, "out of memory");
    **out = strdup(lua_tostring(L, idx));
    if(!**out)
      luaL_error(L, "out of memory");
    *n = 1;
    return;
  }
  if(lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L, "task '%s': %s must be a string or a list of strings",
               task, field);
  len = (size_t)luaL_len(L, idx);
  *out = calloc(len + 1, sizeof(**out));
  if(!*out)
    luaL_error(L, "out of memory");
  for(i = 0; i < len; i++) {
    if(lua_rawgeti(L, idx, (lua_Integer)i + 1) != LUA_TSTRING)
      luaL_error(L, "task '%s': %s[%d] is not a string", task, field,
                 (int)i + 1);
    (*out)[i] = strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    if(!(*out)[i])
      luaL_error(L, "out of memory");
    *n = i + 1;
  }
}

/* Free a half-built task if a field raises: it sits in a userdata. */
static int l_taskbox_gc(lua_State *L)
{
  struct vrun_task **box = lua_touserdata(L, 1);

  vrun_task_free(*box);
  *box = NULL;
  return 0;
}

static void add_task(lua_State *L, const char *name, int spec, int is_file)
{
  struct vrun_run *run = vrun_lua_run(L);
  struct vrun_task **box, *t, *old;
  lua_Debug ar;
  char where[PATH_MAX + 32];
  int err;

  box = lua_newuserdatauv(L, sizeof(*box), 0);
  *box = NULL;
  luaL_setmetatable(L, "vrun.taskbox");
  t = *box = vrun_task_new(name);
  if(!t)
    luaL_error(L, "out of memory");
  t->is_file = is_file;
  if(lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) &&
     ar.currentline > 0)
    snprintf(where, sizeof(where), "%s:%d", ar.short_src, ar.currentline);
  else
    snprintf(where, sizeof(where), "?");
  t->where = strdup(where);
  if(lua_type(L, spec) == LUA_TFUNCTION) {
    lua_pushvalue(L, spec);
    t->run_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  else if(lua_type(L, spec) == LUA_TTABLE) {
    lua_pushnil(L);
    while(lua_next(L, spec)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ?
                      lua_tostring(L, -2) : "";
      int v = lua_gettop(L);
      if(strcmp(k, "desc") == 0) {
        if(lua_type(L, v) != LUA_TSTRING)
          luaL_error(L, "task '%s': desc must be a string", name);
        t->desc = strdup(lua_tostring(L, v));
      }
      else if(strcmp(k, "deps") == 0)
        strlist(L, v, name, "deps", &t->deps, &t->ndeps);
      else if(strcmp(k, "needs") == 0)
        strlist(L, v, name, "needs", &t->needs, &t->nneeds);
      else if(strcmp(k, "modules") == 0)
        strlist(L, v, name, "modules", &t->modules, &t->nmodules);
      else if(strcmp(k, "run") == 0) {
        if(lua_type(L, v) != LUA_TFUNCTION)
          luaL_error(L, "task '%s': run must be a function", name);
        lua_pushvalue(L, v);
        t->run_ref = luaL_ref(L, LUA_REGISTRYINDEX);
      }
      else
        vrun_log(VRUN_LOG_WARN, "%s: task '%s': unknown field '%s'",
                 where, name, lua_type(L, -2) == LUA_TSTRING ? k : "?");
      lua_pop(L, 1);
    }
  }
  else if(!lua_isnoneornil(L, spec))
    luaL_error(L, "task '%s': expected a table or a function", name);
  *box = NULL;  /* the graph owns it now */
  old = vrun_graph_add(run->graph, t, &err);
  if(err)
    luaL_error(L, "out of memory");
  if(old) {
    if(run->ctx->verbose)
      vrun_log(VRUN_LOG_WARN, "%s: overriding task '%s' (from %s)", where,
               name, old->where ? old->where : "?");
    luaL_unref(L, LUA_REGISTRYINDEX, old->run_ref);
    vrun_task_free(old);
  }
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

lua_State *vrun_lua_new(struct vrun_run *run)
{
  lua_State *L = luaL_newstate();

  if(!L)
    return NULL;
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
  luaL_newmetatable(L, "vrun.taskbox");
  lua_pushcfunction(L, l_taskbox_gc);
  lua_setfield(L, -2, "__gc");
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
