/*
** jobs_int.h: the runner's shared state, private to jobs.c (instances,
** deciding, checks, the scheduler), child.c (children, signals, output)
** and shell.c (the DSL's sh, capture and invoke).
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_JOBS_INT_H
#define VRUN_JOBS_INT_H

#include <signal.h>
#include <stdlib.h>

#include <lua.h>

#include "child.h"
#include "graph.h"
#include "luahost.h"
#include "strmap.h"
#include "vars.h"

enum { I_NEW, I_WAIT, I_READY, I_ACTIVE, I_DONE, I_FAILED, I_SKIPPED };

struct inst {
  struct vrun_task *t;
  const struct vrun_overlay *ov;
  size_t seq;             /* post-order number: the -j1 running order */
  int state;
  size_t npending;        /* unfinished deps (or invoked targets) */
  int dep_failed;
  int started;            /* its coroutine exists */
  int updated;            /* it ran (or would have): dependents rebuild */
  int goal;
  struct inst **deps;     /* per t->deps; NULL for plain files */
  struct inst **waiters;
  size_t nwaiters, capwaiters;
  lua_State *co;
  int coref;
  struct child *child;
  int sh_flags;           /* for the continuation of sh/capture */
  struct inst *invoked;   /* target of a pending invoke */
  struct obuf out;
  char *alldeps;          /* $^ */
  size_t heappos;
  unsigned visit;         /* stamp for reaches() */
};

struct vrun_jobs {
  struct vrun_run *run;
  struct vrun_ctx *ctx;
  lua_State *L;
  struct vrun_strmap insts;
  struct inst **all;
  size_t nall, capall;
  struct inst **heap;
  size_t nheap, capheap;
  struct child **children;
  size_t nchildren;
  struct vrun_overlay **ovs;
  size_t novs;
  size_t seq;
  int running;
  int stop;
  int failures;
  struct inst **failed;   /* in the order they failed, for -k's summary */
  size_t nfailed, capfailed;
  int would_run;
  int buffered;
  struct inst *current;
  int sigpipe[2];
  struct sigaction old_int, old_term, old_chld;
  /* -n at -j1: output gathered and written in big blocks, as make's
  ** stdio does; nothing waits long under -n, and vrun_child_pump()
  ** flushes before any wait */
  int batching;
  struct obuf batch;
  /* finished coroutines, reused: creating one per task costs more than
  ** running most task bodies */
  struct pooled {
    lua_State *co;
    int ref;
  } *pool;
  size_t npool, cappool;
};

/*
** The run in progress, set by vrun_jobs_new and cleared by
** vrun_jobs_free. One run per process: the signal handlers and the DSL
** functions need the scheduler, and neither gets it as an argument.
*/
extern struct vrun_jobs *vrun_jobs_active;

/*
** Make room for need elements of size elem in *p (capacity *cap),
** doubling. Returns 0, or -1 when out of memory with *p untouched.
*/
static inline int vrun_jobs_grow(void **p, size_t *cap, size_t need,
                                 size_t elem)
{
  size_t ncap = *cap ? *cap : 16;
  void *np;

  if(need <= *cap)
    return 0;
  while(ncap < need)
    ncap *= 2;
  np = realloc(*p, ncap * elem);
  if(!np)
    return -1;
  *p = np;
  *cap = ncap;
  return 0;
}

/*
** Put x on the ready heap (lowest sequence number runs first), as
** I_ACTIVE when it started, else I_READY. Out of memory, x is left off
** and the run ends with it not done.
*/
void vrun_jobs_push_ready(struct vrun_jobs *j, struct inst *x);

/*
** The instance of t under ov (NULL: none) with all its dependencies,
** created in post-order (deps get lower sequence numbers, so -j1 runs
** them first, left to right, as make does); those with nothing pending
** go on the ready heap. j owns it. Returns NULL when out of memory.
*/
struct inst *vrun_jobs_instantiate(struct vrun_jobs *j, struct vrun_task *t,
                                   const struct vrun_overlay *ov);

/* Make w wait for d (d finishing calls w's dep_done). Returns 0 or -1
** (out of memory, nothing added). The caller counts w->npending. */
int vrun_jobs_add_waiter(struct inst *d, struct inst *w);

#endif
