/*
** jobs.c: running the graph. Each task body is a Lua coroutine; a task
** instance (a task under an overlay of variables) waits for its
** dependencies, then runs if make's rule says so; the scheduler resumes
** ready instances in -j1 order, up to -j at once, and waits on the
** children (child.c) when nothing else can move. The DSL's sh, capture
** and invoke (shell.c) yield back here.
** SPDX-License-Identifier: MIT
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "child.h"
#include "jobs.h"
#include "jobs_int.h"
#include "log.h"
#include "strmap.h"

struct vrun_jobs *vrun_jobs_active;

/* {====== instances ====== */

static void heap_swap(struct vrun_jobs *j, size_t a, size_t b)
{
  struct inst *t = j->heap[a];

  j->heap[a] = j->heap[b];
  j->heap[b] = t;
  j->heap[a]->heappos = a;
  j->heap[b]->heappos = b;
}

void vrun_jobs_push_ready(struct vrun_jobs *j, struct inst *x)
{
  size_t i;

  if(vrun_jobs_grow((void **)&j->heap, &j->capheap, j->nheap + 1,
                    sizeof(*j->heap)))
    return;  /* out of memory: the run ends with the task not done */
  x->state = x->started ? I_ACTIVE : I_READY;
  i = j->nheap++;
  j->heap[i] = x;
  x->heappos = i;
  while(i > 0 && j->heap[(i - 1) / 2]->seq > j->heap[i]->seq) {
    heap_swap(j, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static struct inst *pop_ready(struct vrun_jobs *j)
{
  struct inst *top;
  size_t i = 0;

  if(!j->nheap)
    return NULL;
  top = j->heap[0];
  j->heap[0] = j->heap[--j->nheap];
  j->heap[0]->heappos = 0;
  for(;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if(l < j->nheap && j->heap[l]->seq < j->heap[m]->seq)
      m = l;
    if(r < j->nheap && j->heap[r]->seq < j->heap[m]->seq)
      m = r;
    if(m == i)
      break;
    heap_swap(j, i, m);
    i = m;
  }
  return top;
}

static void finish(struct vrun_jobs *j, struct inst *x, int state);

/* A dependency (or invoked target) of w finished. */
static void dep_done(struct vrun_jobs *j, struct inst *w, int ok)
{
  if(!ok)
    w->dep_failed = 1;
  if(--w->npending)
    return;
  if(w->dep_failed && !w->started)
    finish(j, w, I_SKIPPED);
  else
    vrun_jobs_push_ready(j, w);
}

static void finish(struct vrun_jobs *j, struct inst *x, int state)
{
  size_t i;
  struct inst **w = x->waiters;
  size_t nw = x->nwaiters;

  x->state = state;
  if(x->coref != LUA_NOREF) {
    if(state == I_DONE && lua_status(x->co) == LUA_OK &&
       lua_gettop(x->co) == 0 &&
       !vrun_jobs_grow((void **)&j->pool, &j->cappool, j->npool + 1,
             sizeof(*j->pool))) {
      j->pool[j->npool].co = x->co;
      j->pool[j->npool++].ref = x->coref;
    }
    else
      luaL_unref(j->L, LUA_REGISTRYINDEX, x->coref);
    x->coref = LUA_NOREF;
    x->co = NULL;
  }
  x->waiters = NULL;
  x->nwaiters = x->capwaiters = 0;
  for(i = 0; i < nw; i++)
    dep_done(j, w[i], state == I_DONE);
  free(w);
}

static void inst_free(struct inst *x)
{
  free(x->deps);
  free(x->waiters);
  free(x->alldeps);
  free(x->out.p);
  free(x->out.segs);
  vrun_child_free(x->child);
  free(x);
}

static char *inst_key(const struct vrun_task *t, const struct vrun_overlay *ov)
{
  size_t a = strlen(t->name), b = ov ? strlen(ov->key) : 0;
  char *k = malloc(a + b + 2);

  if(!k)
    return NULL;
  memcpy(k, t->name, a);
  k[a] = '\x1f';
  if(b)
    memcpy(k + a + 1, ov->key, b);
  k[a + 1 + b] = '\0';
  return k;
}

static struct inst *inst_find(struct vrun_jobs *j, struct vrun_task *t,
                              const struct vrun_overlay *ov, int create)
{
  char *k;
  struct inst *x;

  if(!ov && (t->inst0 || !create))
    return t->inst0;  /* the common case needs no key */
  k = NULL;
  if(ov) {
    k = inst_key(t, ov);
    if(!k)
      return NULL;
    x = vrun_strmap_get(&j->insts, k);
    if(x || !create) {
      free(k);
      return x;
    }
  }
  x = calloc(1, sizeof(*x));
  if(x && t->ndeps)
    x->deps = calloc(t->ndeps, sizeof(*x->deps));
  if(!x || (t->ndeps && !x->deps) ||
     vrun_jobs_grow((void **)&j->all, &j->capall, j->nall + 1,
                    sizeof(*j->all)) ||
     (k && vrun_strmap_put(&j->insts, k, x, NULL))) {
    if(x)
      free(x->deps);
    free(x);
    free(k);
    return NULL;
  }
  free(k);
  if(!ov)
    t->inst0 = x;
  x->t = t;
  x->ov = ov;
  x->coref = LUA_NOREF;
  x->state = I_NEW;
  j->all[j->nall++] = x;
  return x;
}

int vrun_jobs_add_waiter(struct inst *d, struct inst *w)
{
  if(vrun_jobs_grow((void **)&d->waiters, &d->capwaiters, d->nwaiters + 1,
          sizeof(*d->waiters)))
    return -1;
  d->waiters[d->nwaiters++] = w;
  return 0;
}

struct inst *vrun_jobs_instantiate(struct vrun_jobs *j, struct vrun_task *t,
                                   const struct vrun_overlay *ov)
{
  struct frame {
    struct inst *x;
    size_t next;
  } *stack = NULL;
  size_t sp = 0, cap = 0;
  struct inst *root = inst_find(j, t, ov, 1);

  if(!root || root->state != I_NEW)
    return root;
  root->state = I_WAIT;
  if(vrun_jobs_grow((void **)&stack, &cap, 1, sizeof(*stack)))
    return NULL;
  stack[sp].x = root;
  stack[sp++].next = 0;
  while(sp) {
    struct frame *f = &stack[sp - 1];
    struct inst *x = f->x, *d;
    struct vrun_task *dt;
    if(f->next == x->t->ndeps) {
      sp--;
      x->seq = j->seq++;
      if(!x->npending) {
        if(x->dep_failed)
          finish(j, x, I_SKIPPED);
        else
          vrun_jobs_push_ready(j, x);
      }
      continue;
    }
    dt = x->t->dept ? x->t->dept[f->next] :
         vrun_graph_find(j->run->graph, x->t->deps[f->next]);
    if(!dt) {
      f->next++;
      continue;  /* a plain file */
    }
    d = inst_find(j, dt, ov, 1);
    if(!d)
      goto oom;
    x->deps[f->next++] = d;
    if(d->state == I_DONE)
      continue;
    if(d->state == I_FAILED || d->state == I_SKIPPED) {
      x->dep_failed = 1;
      continue;
    }
    if(vrun_jobs_add_waiter(d, x))
      goto oom;
    x->npending++;
    if(d->state == I_NEW) {
      d->state = I_WAIT;
      if(vrun_jobs_grow((void **)&stack, &cap, sp + 1, sizeof(*stack)))
        goto oom;
      stack[sp].x = d;
      stack[sp++].next = 0;
    }
  }
  free(stack);
  return root;
oom:
  free(stack);
  return NULL;
}
/* }====== */

/* {====== deciding and running ====== */

static int mtime_of(const char *path, struct timespec *ts)
{
  struct stat st;

  if(stat(path, &st))
    return -1;
  *ts = st.st_mtim;
  return 0;
}

static int newer(const struct timespec *a, const struct timespec *b)
{
  return a->tv_sec > b->tv_sec ||
         (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* make's rule: does x have to run? */
static int needs_run(struct vrun_jobs *j, struct inst *x)
{
  struct vrun_task *t = x->t;
  struct timespec mine, theirs;
  size_t i;
  int any_updated = 0;

  for(i = 0; i < t->ndeps; i++) {
    if(x->deps[i] && x->deps[i]->updated)
      any_updated = 1;
  }
  if(t->is_make)
    return 1;
  if(!t->is_file)
    return t->run_ref != LUA_NOREF || any_updated;
  if(j->ctx->always_make || any_updated || mtime_of(t->name, &mine))
    return 1;
  for(i = 0; i < t->ndeps; i++) {
    if(x->deps[i] && !x->deps[i]->t->is_file)
      continue;
    if(mtime_of(t->deps[i], &theirs) || newer(&theirs, &mine))
      return 1;
  }
  return 0;
}

static void set_current(struct vrun_jobs *j, struct inst *x)
{
  j->current = x;
  vrun_vars_set_overlay(j->ctx->vars, x ? x->ov : NULL);
}

static void report_failure(struct vrun_jobs *j, struct inst *x,
                           const char *what)
{
  vrun_log(VRUN_LOG_ERROR, "*** [%s] %s", x->t->name, what);
  if(!vrun_jobs_grow((void **)&j->failed, &j->capfailed, j->nfailed + 1,
           sizeof(*j->failed)))
    j->failed[j->nfailed++] = x;
  j->failures++;
  if(!j->ctx->keep_going && !j->stop) {
    j->stop = 1;
    if(j->running)
      vrun_log(VRUN_LOG_ERROR, "*** Waiting for unfinished jobs....");
  }
}

static void task_failed(struct vrun_jobs *j, struct inst *x)
{
  lua_State *co = x->co;
  char what[64];

  if(x->out.len)
    vrun_out_flush(&x->out);
  if(lua_type(co, -1) == LUA_TTABLE) {
    /* sh's failure ({vrun_status = N}), or a table with a message */
    if(lua_getfield(co, -1, "vrun_status") == LUA_TNUMBER) {
      snprintf(what, sizeof(what), "Error %d", (int)lua_tointeger(co, -1));
      report_failure(j, x, what);
      if(x->t->is_file)
        vrun_cleanup_remove(x->t->name);
      finish(j, x, I_FAILED);
      return;
    }
    lua_pop(co, 1);
    if(lua_getfield(co, -1, "msg") != LUA_TSTRING)
      lua_pop(co, 1);
  }
  {
    const char *msg;
    msg = luaL_tolstring(co, -1, NULL);
    if(j->ctx->verbose) {
      luaL_traceback(co, co, msg, 0);
      msg = lua_tostring(co, -1);
    }
    report_failure(j, x, msg ? msg : "(error object is not a string)");
  }
  if(x->t->is_file)
    vrun_cleanup_remove(x->t->name);
  finish(j, x, I_FAILED);
}

static void task_done(struct vrun_jobs *j, struct inst *x)
{
  if(x->out.len)
    vrun_out_flush(&x->out);
  if(x->t->is_file)
    vrun_cleanup_remove(x->t->name);
  x->updated = 1;
  finish(j, x, I_DONE);
}

static void push_t(lua_State *co, struct inst *x)
{
  size_t i;

  lua_createtable(co, 0, 4);
  lua_pushstring(co, x->t->name);
  lua_setfield(co, -2, "name");
  lua_pushstring(co, x->t->name);
  lua_setfield(co, -2, "target");
  lua_createtable(co, (int)x->t->ndeps, 0);
  for(i = 0; i < x->t->ndeps; i++) {
    lua_pushstring(co, x->t->deps[i]);
    lua_rawseti(co, -2, (lua_Integer)i + 1);
  }
  lua_setfield(co, -2, "deps");
}

/* Resume (or start) x's coroutine and act on how it stopped. */
static void resume(struct vrun_jobs *j, struct inst *x, int nargs)
{
  int st, nres = 0;

  set_current(j, x);
  if(j->buffered)
    vrun_log_set_sink(vrun_out_sink, &x->out);
  st = lua_resume(x->co, j->L, nargs, &nres);
  vrun_out_base_sink(j);
  set_current(j, NULL);
  if(st == LUA_YIELD) {
    lua_pop(x->co, nres);
    if(x->child || x->npending)
      return;  /* waiting for its child or an invoked target */
    lua_pushstring(x->co, "a task body may not yield outside sh, "
                   "capture or invoke");
    task_failed(j, x);
    return;
  }
  if(st != LUA_OK) {
    task_failed(j, x);
    return;
  }
  lua_pop(x->co, nres);
  task_done(j, x);
}

static void run_make(struct vrun_jobs *j, struct inst *x)
{
  char **argv = vrun_make_argv(j->run, x->t->name);
  struct child *c;
  size_t i, len = 0;
  char line[1024];

  if(!argv) {
    report_failure(j, x, "out of memory");
    finish(j, x, I_FAILED);
    return;
  }
  line[0] = '\0';
  for(i = 0; argv[i] && len < sizeof(line); i++)
    len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s",
                            i ? " " : "", argv[i]);
  if(!j->ctx->silent && !j->ctx->question)
    vrun_log(VRUN_LOG_INFO, "%s", line);
  set_current(j, x);
  c = vrun_child_spawn(j, NULL, argv, 0);
  set_current(j, NULL);
  vrun_make_argv_free(argv);
  if(!c) {
    snprintf(line, sizeof(line), "cannot run make: %s", strerror(errno));
    report_failure(j, x, line);
    finish(j, x, I_FAILED);
    return;
  }
  c->inst = x;
  x->child = c;
  x->started = 1;
  x->state = I_ACTIVE;
  j->running++;
}

/* A make child ended. */
static void make_done(struct vrun_jobs *j, struct inst *x)
{
  int status = x->child->status;
  char what[64];

  vrun_child_free(x->child);
  x->child = NULL;
  if(x->out.len)
    vrun_out_flush(&x->out);
  if(status == 1 && j->ctx->question) {
    j->would_run = 1;
    x->updated = 1;
    finish(j, x, I_DONE);
  }
  else if(status) {
    snprintf(what, sizeof(what), "Error %d", status);
    report_failure(j, x, what);
    finish(j, x, I_FAILED);
  }
  else {
    x->updated = 1;
    finish(j, x, I_DONE);
  }
}

/* Start a ready task, or resume one whose child or invoke finished. */
static void step(struct vrun_jobs *j, struct inst *x)
{
  struct vrun_task *t = x->t;

  if(x->started) {
    if(t->is_make) {
      make_done(j, x);
      return;
    }
    resume(j, x, 0);
    return;
  }
  if(!needs_run(j, x)) {
    if(x->goal && !j->ctx->question) {
      if(t->is_file)
        vrun_log(VRUN_LOG_INFO, "vrun: '%s' is up to date.", t->name);
      else
        vrun_log(VRUN_LOG_INFO, "vrun: Nothing to be done for '%s'.",
                 t->name);
    }
    finish(j, x, I_DONE);
    return;
  }
  if(t->is_make && !j->ctx->question) {
    run_make(j, x);
    return;
  }
  if(j->ctx->question) {
    if(t->is_make) {
      run_make(j, x);
      return;
    }
    if(t->run_ref != LUA_NOREF)
      j->would_run = 1;
    x->updated = 1;
    finish(j, x, I_DONE);
    return;
  }
  if(t->run_ref == LUA_NOREF) {
    x->updated = 1;
    finish(j, x, I_DONE);
    return;
  }
  if(j->npool) {
    j->npool--;
    x->co = j->pool[j->npool].co;
    x->coref = j->pool[j->npool].ref;
  }
  else {
    x->co = lua_newthread(j->L);
    x->coref = luaL_ref(j->L, LUA_REGISTRYINDEX);
  }
  x->started = 1;
  x->state = I_ACTIVE;
  if(t->is_file && !j->ctx->dry_run)
    vrun_cleanup_add(t->name);
  lua_rawgeti(x->co, LUA_REGISTRYINDEX, t->run_ref);
  push_t(x->co, x);
  resume(j, x, 1);
}
/* }====== */

/* {====== checks before anything runs ====== */

static int unknown_dep(void *ud, const char *name)
{
  struct vrun_run *run = ud;
  struct stat st;

  if(stat(name, &st) == 0)
    return 1;
  if(vrun_make_defines(run, name))
    return vrun_make_task(run, name) != NULL;
  return 0;
}

int vrun_jobs_prepare(struct vrun_run *run, lua_State *L, char **goals,
                      size_t ngoals, char **msg)
{
  struct vrun_task **order = NULL;
  size_t norder = 0, i, k;
  char buf[1024];
  struct vrun_err err;

  *msg = NULL;
  for(i = 0; i < ngoals; i++) {
    if(!vrun_graph_find(run->graph, goals[i]) &&
       !(vrun_make_defines(run, goals[i]) &&
         vrun_make_task(run, goals[i]))) {
      snprintf(buf, sizeof(buf), "No rule to make target '%s'", goals[i]);
      *msg = strdup(buf);
      return -1;
    }
  }
  if(vrun_graph_check(run->graph, goals, ngoals, unknown_dep, run, &order,
                      &norder, msg))
    return -1;
  for(i = 0; i < norder; i++) {
    for(k = 0; k < order[i]->nneeds; k++) {
      if(!vrun_var_lookup(run->ctx, order[i]->needs[k])) {
        snprintf(buf, sizeof(buf), "%s is not set (needed by %s)",
                 order[i]->needs[k], order[i]->name);
        *msg = strdup(buf);
        free(order);
        return -1;
      }
    }
  }
  for(i = 0; i < norder; i++) {
    for(k = 0; k < order[i]->nmodules; k++) {
      memset(&err, 0, sizeof(err));
      if(vrun_modload_preload(L, run->ctx, order[i]->modules[k], &err)) {
        *msg = strdup(err.msg[0] ? err.msg : "module failed to load");
        free(order);
        return -1;
      }
    }
  }
  free(order);
  return 0;
}
/* }====== */

/* {====== the scheduler ====== */

struct vrun_jobs *vrun_jobs_new(struct vrun_run *run)
{
  struct vrun_jobs *j = calloc(1, sizeof(*j));

  if(!j)
    return NULL;
  j->run = run;
  j->ctx = run->ctx;
  j->L = run->ctx->L;
  j->buffered = run->ctx->jobs > 1;
  if(pipe2(j->sigpipe, O_CLOEXEC | O_NONBLOCK)) {
    free(j);
    return NULL;
  }
  vrun_jobs_active = j;
  vrun_child_setup(j);
  return j;
}

void vrun_jobs_free(struct vrun_jobs *j)
{
  size_t i;

  if(!j)
    return;
  vrun_child_teardown(j);
  for(i = 0; i < j->nall; i++)
    inst_free(j->all[i]);
  free(j->all);
  free(j->heap);
  free(j->failed);
  free(j->batch.p);
  free(j->batch.segs);
  free(j->pool);
  vrun_strmap_free(&j->insts, NULL);
  for(i = 0; i < j->novs; i++)
    vrun_overlay_free(j->ovs[i]);
  free(j->ovs);
  close(j->sigpipe[0]);
  close(j->sigpipe[1]);
  if(vrun_jobs_active == j)
    vrun_jobs_active = NULL;
  free(j);
}

int vrun_jobs_goal(struct vrun_jobs *j, struct vrun_task *t)
{
  struct inst *x = vrun_jobs_instantiate(j, t, NULL);

  if(!x)
    return -1;
  x->goal = 1;
  return 0;
}

int vrun_jobs_run(struct vrun_jobs *j)
{
  size_t i;
  int interrupted;

  j->batching = j->ctx->dry_run && !j->buffered;
  vrun_out_base_sink(j);
  for(;;) {
    while(!j->ctx->interrupted && j->nheap && j->running < j->ctx->jobs) {
      struct inst *x = pop_ready(j);
      /* After a failure nothing new starts, but a task waiting on an
      ** invoke is resumed: invoke raises there, so the task's pcall can
      ** undo what it began (publish-release restores the checkout). */
      if(j->stop && !x->started)
        continue;
      step(j, x);
    }
    if(!j->running && (j->ctx->interrupted || !j->nheap))
      break;
    if(j->running)
      vrun_child_pump(j);
  }
  j->batching = 0;
  vrun_out_base_sink(j);
  if(j->batch.len)
    vrun_out_flush(&j->batch);
  interrupted = j->ctx->interrupted != 0;
  for(i = 0; i < j->nall; i++) {
    struct inst *x = j->all[i];
    if(x->out.len)
      vrun_out_flush(&x->out);
    if(interrupted && x->state == I_ACTIVE) {
      if(x->t->is_file && !j->ctx->dry_run)
        vrun_log(VRUN_LOG_ERROR, "*** Deleting file '%s'", x->t->name);
      vrun_log(VRUN_LOG_ERROR, "*** [%s] Interrupt", x->t->name);
    }
  }
  if(interrupted)
    return 2;
  if(j->failures) {
    if(j->ctx->keep_going) {
      char list[1024];
      size_t len = 0;
      for(i = 0; i < j->nall; i++) {
        if(j->all[i]->goal && j->all[i]->state != I_DONE)
          vrun_log(VRUN_LOG_ERROR, "Target '%s' not remade because of "
                   "errors.", j->all[i]->t->name);
      }
      list[0] = '\0';
      for(i = 0; i < j->nfailed && len < sizeof(list); i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
                                i ? ", " : "", j->failed[i]->t->name);
      vrun_log(VRUN_LOG_ERROR, "*** %d task%s failed: %s.", j->failures,
               j->failures == 1 ? "" : "s", list);
    }
    return 2;
  }
  for(i = 0; i < j->nall; i++) {
    if(j->all[i]->state != I_DONE && j->all[i]->state != I_NEW) {
      vrun_log(VRUN_LOG_ERROR, "*** '%s' never became ready (an invoke "
               "cycle?)", j->all[i]->t->name);
      return 2;
    }
  }
  return j->would_run ? 1 : 0;
}
/* }====== */
