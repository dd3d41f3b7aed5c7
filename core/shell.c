/*
** shell.c: the task-file DSL's commands: sh and capture (a child per
** command; inside a task body they yield until it exits, elsewhere they
** wait right there), invoke (another target under extra variables, the
** body yielding until it is done) and expand.
** SPDX-License-Identifier: MIT
**
** These run inside Lua with no handle of their own: they reach the
** scheduler through vrun_jobs_active (jobs_int.h).
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "child.h"
#include "expand.h"
#include "jobs.h"
#include "jobs_int.h"
#include "log.h"
#include "redact.h"

#define SH_IGNORE   0x1   /* "-cmd" or {nofail = true} */
#define SH_CAPTURE  0x2
#define SH_REPORT   0x4   /* "-cmd": say the failure was ignored */

/* {====== sh and capture ====== */

static const char *lookup_var(void *ud, const char *name)
{
  return vrun_var_lookup(ud, name);
}

static const char *all_deps(struct inst *x)
{
  size_t i, k, len = 1;
  char *s;

  if(x->alldeps)
    return x->alldeps;
  for(i = 0; i < x->t->ndeps; i++)
    len += strlen(x->t->deps[i]) + 1;
  s = malloc(len);
  if(!s)
    return "";
  s[0] = '\0';
  len = 0;
  for(i = 0; i < x->t->ndeps; i++) {
    /* $^ lists each dependency once, like make */
    for(k = 0; k < i; k++) {
      if(strcmp(x->t->deps[k], x->t->deps[i]) == 0)
        break;
    }
    if(k < i)
      continue;
    len += (size_t)snprintf(s + len, strlen(x->t->deps[i]) + 2, "%s%s",
                            len ? " " : "", x->t->deps[i]);
  }
  x->alldeps = s;
  return s;
}

/* Expand s for the current task; raises on an unset variable. */
static char *expand_or_raise(lua_State *L, const char *s)
{
  struct vrun_jobs *j = vrun_jobs_active;
  struct vrun_expand_auto a, *ap = NULL;
  struct inst *x = j->current;
  char bad[256], *out;
  int rc;

  if(x) {
    a.target = x->t->name;
    a.first_dep = x->t->ndeps ? x->t->deps[0] : "";
    a.all_deps = strstr(s, "$^") ? all_deps(x) : "";
    ap = &a;
  }
  rc = vrun_expand(s, lookup_var, j->ctx, ap, &out, bad, sizeof(bad));
  if(rc == VRUN_ENOENT)
    luaL_error(L, "variable '%s' is not set%s%s%s", bad,
               x ? " (used by '" : "", x ? x->t->name : "", x ? "')" : "");
  else if(rc == VRUN_EINVAL)
    luaL_error(L, "%s", bad);
  else if(rc)
    luaL_error(L, "out of memory");
  return out;
}

static int opt_bool(lua_State *L, int idx, const char *name)
{
  int v;

  if(lua_type(L, idx) != LUA_TTABLE)
    return 0;
  lua_getfield(L, idx, name);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* What sh/capture return once the child is done. */
static int child_result(lua_State *L, struct child *c, int flags,
                        const char *cmdname)
{
  struct vrun_jobs *j = vrun_jobs_active;
  int status = c->status;

  if(flags & SH_CAPTURE) {
    size_t n = c->caplen;
    while(n && c->cap[n - 1] == '\n')
      n--;
    lua_pushlstring(L, c->cap ? c->cap : "", n);
  }
  vrun_child_free(c);
  if(j->ctx->interrupted)
    return luaL_error(L, "Interrupt");
  if(status && !(flags & SH_IGNORE)) {
    if(flags & SH_CAPTURE)
      return luaL_error(L, "command in %s exited with status %d", cmdname,
                        status);
    lua_createtable(L, 0, 1);
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "vrun_status");
    luaL_setmetatable(L, "vrun.failure");
    return lua_error(L);
  }
  if(status && (flags & SH_REPORT)) {
    struct inst *x = j->current;
    vrun_log(VRUN_LOG_ERROR, "[%s] Error %d (ignored)",
             x ? x->t->name : "?", status);
  }
  if(flags & SH_CAPTURE) {
    lua_pushinteger(L, status);
    return 2;
  }
  lua_pushinteger(L, status);
  return 1;
}

static int sh_k(lua_State *L, int status, lua_KContext kctx)
{
  struct inst *x = vrun_jobs_active->current;
  struct child *c = x->child;

  (void)status;
  x->child = NULL;
  return child_result(L, c, (int)kctx, (int)kctx & SH_CAPTURE ?
                      "capture" : "sh");
}

/* Start cmd for the running task and wait (yielding when we can). */
static int run_child(lua_State *L, const char *cmd, int flags)
{
  struct vrun_jobs *j = vrun_jobs_active;
  struct inst *x = j->current;
  struct child *c = vrun_child_spawn(j, cmd, NULL, flags & SH_CAPTURE);

  if(!c)
    return luaL_error(L, "cannot run /bin/sh: %s", strerror(errno));
  if(x && lua_isyieldable(L)) {
    c->inst = x;
    x->child = c;
    j->running++;
    return lua_yieldk(L, 0, (lua_KContext)flags, sh_k);
  }
  vrun_child_wait(j, c);
  return child_result(L, c, flags, flags & SH_CAPTURE ? "capture" : "sh");
}

static void echo(const char *s)
{
  size_t n = strlen(s);
  char *line = malloc(n + 2);

  if(!line)
    return;
  memcpy(line, s, n);
  line[n] = '\n';
  vrun_log_write(1, line, n + 1);
  free(line);
}

/* sh "cmd" [, {quiet = bool, nofail = bool}]: run cmd with /bin/sh. */
static int l_sh(lua_State *L)
{
  struct vrun_jobs *j = vrun_jobs_active;
  const char *cmd = luaL_checkstring(L, 1), *p = cmd;
  int quiet = opt_bool(L, 2, "quiet"), force = 0, flags = 0, r;
  char *line;

  if(opt_bool(L, 2, "nofail"))
    flags |= SH_IGNORE;
  /* make's prefixes: @ no echo, - ignore errors, + run even under -n */
  for(;; p++) {
    if(*p == '@')
      quiet = 1;
    else if(*p == '-')
      flags |= SH_IGNORE | SH_REPORT;
    else if(*p == '+')
      force = 1;
    else if(*p != ' ' && *p != '\t')
      break;
  }
  line = expand_or_raise(L, p);
  if(j->ctx->dry_run || (!quiet && !j->ctx->silent))
    echo(line);
  if(j->ctx->dry_run && !force) {
    free(line);
    lua_pushinteger(L, 0);
    return 1;
  }
  lua_pushstring(L, line);  /* anchored: run_child may yield or raise */
  free(line);
  r = run_child(L, lua_tostring(L, -1), flags);
  return r;
}

/* capture "cmd" [, {readonly = bool, nofail = bool}]: stdout, chomped. */
static int l_capture(lua_State *L)
{
  struct vrun_jobs *j = vrun_jobs_active;
  const char *cmd = luaL_checkstring(L, 1);
  int flags = SH_CAPTURE;
  char *line;

  if(opt_bool(L, 2, "nofail"))
    flags |= SH_IGNORE;
  line = expand_or_raise(L, cmd);
  if(j->ctx->dry_run && !opt_bool(L, 2, "readonly")) {
    echo(line);
    free(line);
    lua_pushliteral(L, "");
    lua_pushinteger(L, 0);
    return 2;
  }
  if(j->ctx->verbose)
    vrun_log(VRUN_LOG_VERBOSE, "capture: %s", line);
  lua_pushstring(L, line);
  free(line);
  return run_child(L, lua_tostring(L, -1), flags);
}

/* }====== */

/* {====== invoke ====== */

static int invoke_k(lua_State *L, int status, lua_KContext kctx)
{
  struct inst *x = vrun_jobs_active->current, *d = x->invoked;

  (void)status;
  (void)kctx;
  x->invoked = NULL;
  x->dep_failed = 0;
  if(d->state != I_DONE)
    return luaL_error(L, "invoked target '%s' failed", d->t->name);
  return 0;
}

/* Does d (or what it depends on) need x? Then invoking d from x would
** wait forever. Writes the path "d -> ... -> x" into buf. */
static int reaches(struct vrun_jobs *j, struct inst *d, struct inst *x,
                   char *buf, size_t len)
{
  static unsigned stamp;
  struct frame {
    struct inst *i;
    size_t next;
  } *stack = NULL;
  size_t sp = 0, cap = 0, k, o = 0;
  int found = 0;

  (void)j;
  stamp++;
  if(vrun_jobs_grow((void **)&stack, &cap, 1, sizeof(*stack)))
    return 0;
  stack[sp].i = d;
  stack[sp++].next = 0;
  d->visit = stamp;
  while(sp && !found) {
    struct frame *f = &stack[sp - 1];
    struct inst *n;
    if(f->i == x) {
      found = 1;
      break;
    }
    if(f->next == f->i->t->ndeps) {
      sp--;
      continue;
    }
    n = f->i->deps[f->next++];
    if(!n || n->visit == stamp)
      continue;
    n->visit = stamp;
    if(vrun_jobs_grow((void **)&stack, &cap, sp + 1, sizeof(*stack)))
      break;
    stack[sp].i = n;
    stack[sp++].next = 0;
  }
  if(found) {
    buf[0] = '\0';
    for(k = 0; k < sp && o < len; k++)
      o += (size_t)snprintf(buf + o, len - o, "%s%s", k ? " -> " : "",
                            stack[k].i->t->name);
  }
  free(stack);
  return found;
}

static const struct vrun_overlay *intern(struct vrun_jobs *j,
                                         struct vrun_overlay *ov)
{
  size_t i;
  struct vrun_overlay **n;

  for(i = 0; i < j->novs; i++) {
    if(strcmp(j->ovs[i]->key, ov->key) == 0) {
      vrun_overlay_free(ov);
      return j->ovs[i];
    }
  }
  n = realloc(j->ovs, (j->novs + 1) * sizeof(*n));
  if(!n) {
    vrun_overlay_free(ov);
    return NULL;
  }
  j->ovs = n;
  j->ovs[j->novs++] = ov;
  return ov;
}

/* invoke("target", {VAR = "value"}): run target with those variables. */
static int l_invoke(lua_State *L)
{
  struct vrun_jobs *j = vrun_jobs_active;
  const char *name = luaL_checkstring(L, 1);
  struct inst *x = j->current, *d;
  struct vrun_overlay *ov;
  const struct vrun_overlay *iov;
  const char *names[64], *values[64];
  size_t n = 0;
  char *goal[1], *msg;
  struct vrun_task *t;
  const struct vrun_overlay *saved;
  int rc;

  if(!x || !lua_isyieldable(L))
    return luaL_error(L, "invoke can only be called from a task's run "
                      "function");
  if(!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lua_newtable(L);  /* 3: keeps the value strings alive */
    lua_pushnil(L);
    while(lua_next(L, 2)) {
      if(lua_type(L, -2) != LUA_TSTRING || n == 64)
        return luaL_error(L, "invoke: variables must be NAME = value "
                          "(at most 64)");
      names[n] = lua_tostring(L, -2);
      luaL_tolstring(L, -1, NULL);
      values[n] = lua_tostring(L, -1);
      if(vrun_redact_is_secret_name(names[n]) ||
         vrun_redact_is_secret_value(values[n]))
        vrun_redact_add(values[n]);
      lua_rawseti(L, 3, (lua_Integer)++n);
      lua_pop(L, 1);
    }
  }
  ov = vrun_overlay_new(x->ov, names, values, n);
  if(!ov)
    return luaL_error(L, "out of memory");
  iov = intern(j, ov);
  if(!iov)
    return luaL_error(L, "out of memory");
  goal[0] = (char *)name;
  saved = vrun_vars_overlay(j->ctx->vars);
  vrun_vars_set_overlay(j->ctx->vars, iov);
  rc = vrun_jobs_prepare(j->run, L, goal, 1, &msg);
  vrun_vars_set_overlay(j->ctx->vars, saved);
  if(rc) {
    lua_pushstring(L, msg);
    free(msg);
    return lua_error(L);
  }
  t = vrun_graph_find(j->run->graph, name);
  d = vrun_jobs_instantiate(j, t, iov);
  if(!d)
    return luaL_error(L, "out of memory");
  if(d->state == I_DONE)
    return 0;
  if(d->state == I_FAILED || d->state == I_SKIPPED)
    return luaL_error(L, "invoked target '%s' failed", name);
  if(d == x)
    return luaL_error(L, "'%s' invokes itself", name);
  {
    char path[1024];
    if(reaches(j, d, x, path, sizeof(path)))
      return luaL_error(L, "Circular dependency: %s -> %s (through invoke)",
                        x->t->name, path);
  }
  if(vrun_jobs_add_waiter(d, x))
    return luaL_error(L, "out of memory");
  x->npending++;
  x->invoked = d;
  return lua_yieldk(L, 0, 0, invoke_k);
}

/* }====== */

/* {====== expand, and registering them all ====== */

/* expand "str": $(VAR), $@, $<, $^ and $$ as sh would expand them. */
static int l_expand(lua_State *L)
{
  char *s = expand_or_raise(L, luaL_checkstring(L, 1));

  lua_pushstring(L, s);
  free(s);
  return 1;
}

static int l_failure_tostring(lua_State *L)
{
  lua_getfield(L, 1, "vrun_status");
  lua_pushfstring(L, "command failed: Error %d", (int)lua_tointeger(L, -1));
  return 1;
}

void vrun_jobs_open_dsl(lua_State *L)
{
  luaL_newmetatable(L, "vrun.failure");
  lua_pushcfunction(L, l_failure_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  lua_register(L, "sh", l_sh);
  lua_register(L, "capture", l_capture);
  lua_register(L, "invoke", l_invoke);
  lua_register(L, "expand", l_expand);
}
/* }====== */
