/*
** jobs.c: running the graph. Each task body is a Lua coroutine; `sh`
** starts a child and yields, the scheduler polls the children's pipes and
** a self-pipe written by the SIGCHLD/SIGINT/SIGTERM handlers, and resumes
** the task when its child exits. Up to -j children run at once.
** SPDX-License-Identifier: MIT
**
** One run per process: the signal handlers need the scheduler, so it is
** a file-level pointer (J).
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>

#include "expand.h"
#include "jobs.h"
#include "log.h"
#include "redact.h"
#include "strmap.h"

#define MAX_CHILDREN 1100   /* -j is capped at 1024 by cli.c */

enum { I_NEW, I_WAIT, I_READY, I_ACTIVE, I_DONE, I_FAILED, I_SKIPPED };

struct seg {
  int fd;
  size_t len;
};

/* Output of one task under -j > 1, kept until the task ends. */
struct obuf {
  char *p;
  size_t len, cap;
  struct seg *segs;
  size_t nsegs, capsegs;
};

struct child {
  pid_t pid;
  int fd[3];           /* read ends for stdout (1) and stderr (2) */
  int capture;         /* collect stdout in cap */
  char *cap;
  size_t caplen, capcap;
  char *line[3];       /* partial lines when writing straight through */
  size_t linelen[3], linecap[3];
  int status;          /* exit code, or 128 + signal */
  int exited;
  int slot;            /* index in pgids[] */
  struct inst *inst;   /* the task waiting for it; NULL when synchronous */
};

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
  /* finished coroutines, reused: creating one per task costs more than
  ** running most task bodies */
  /* -n at -j1: output gathered and written in big blocks, as make's
  ** stdio does; nothing waits long under -n, and pump() flushes before
  ** any wait */
  int batching;
  struct obuf batch;
  struct pooled {
    lua_State *co;
    int ref;
  } *pool;
  size_t npool, cappool;
};

static struct vrun_jobs *J;
static volatile sig_atomic_t pgids[MAX_CHILDREN];
static volatile sig_atomic_t sigpipe_w = -1;
/* Children get their own process group (so a signal reaches a whole
** pipeline), except at -j1 on a terminal: there they stay in vrun's
** foreground group so a command can prompt (git, gpg, docker login). */
static int own_group = 1;

#define SH_IGNORE   0x1   /* "-cmd" or {nofail = true} */
#define SH_CAPTURE  0x2
#define SH_REPORT   0x4   /* "-cmd": say the failure was ignored */

/* {====== signals ====== */

static void on_signal(int sig)
{
  int saved = errno, i, again = J && J->ctx->interrupted;
  char c = 'i';

  if(J)
    J->ctx->interrupted = sig;
  for(i = 0; i < MAX_CHILDREN; i++) {
    if(pgids[i] > 0)
      kill(own_group ? -(pid_t)pgids[i] : (pid_t)pgids[i],
           again ? SIGKILL : sig);
  }
  vrun_cleanup_run_signal();
  if(again) {
    /* a second Ctrl-C while something (a module call, say) ignores the
    ** first: children are killed, vrun goes too */
    signal(sig, SIG_DFL);
    raise(sig);
  }
  if(sigpipe_w >= 0 && write(sigpipe_w, &c, 1) < 0) {
    /* the pipe is full: the loop wakes up anyway */
  }
  errno = saved;
}

static void on_chld(int sig)
{
  int saved = errno;
  char c = 'c';

  (void)sig;
  if(sigpipe_w >= 0 && write(sigpipe_w, &c, 1) < 0) {
    /* full pipe: already woken */
  }
  errno = saved;
}

static void install_handlers(struct vrun_jobs *j)
{
  struct sigaction sa;

  memset(&sa, 0, sizeof(sa));
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sa.sa_flags = SA_RESTART;
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, &j->old_int);
  sigaction(SIGTERM, &sa, &j->old_term);
  sa.sa_handler = on_chld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, &j->old_chld);
}
/* }====== */

/* {====== output ====== */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
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

static void obuf_add(struct obuf *o, int fd, const char *buf, size_t len)
{
  if(grow((void **)&o->p, &o->cap, o->len + len, 1))
    return;
  memcpy(o->p + o->len, buf, len);
  o->len += len;
  if(o->nsegs && o->segs[o->nsegs - 1].fd == fd) {
    o->segs[o->nsegs - 1].len += len;
    return;
  }
  if(grow((void **)&o->segs, &o->capsegs, o->nsegs + 1, sizeof(*o->segs)))
    return;
  o->segs[o->nsegs].fd = fd;
  o->segs[o->nsegs++].len = len;
}

static void obuf_flush(struct obuf *o)
{
  size_t i, off = 0;

  for(i = 0; i < o->nsegs; i++) {
    vrun_log_write_direct(o->segs[i].fd, o->p + off, o->segs[i].len);
    off += o->segs[i].len;
  }
  free(o->p);
  free(o->segs);
  memset(o, 0, sizeof(*o));
}

static void sink(void *ud, int fd, const char *buf, size_t len)
{
  obuf_add(&((struct inst *)ud)->out, fd, buf, len);
}

static void batch_sink(void *ud, int fd, const char *buf, size_t len)
{
  struct vrun_jobs *j = ud;

  obuf_add(&j->batch, fd, buf, len);
  if(j->batch.len >= 65536)
    obuf_flush(&j->batch);
}

/* The sink when no task is being resumed. */
static void base_sink(struct vrun_jobs *j)
{
  if(j->batching)
    vrun_log_set_sink(batch_sink, j);
  else
    vrun_log_set_sink(NULL, NULL);
}

/* Output of a child: captured, kept with its task, or written by line. */
static void deliver(struct vrun_jobs *j, struct child *c, int fd,
                    const char *buf, size_t len)
{
  char *nl;

  if(c->capture && fd == 1) {
    if(grow((void **)&c->cap, &c->capcap, c->caplen + len + 1, 1))
      return;
    memcpy(c->cap + c->caplen, buf, len);
    c->caplen += len;
    c->cap[c->caplen] = '\0';
    return;
  }
  if(c->inst && j->buffered) {
    obuf_add(&c->inst->out, fd, buf, len);
    return;
  }
  /* whole lines only, so a secret split across reads is still masked */
  if(grow((void **)&c->line[fd], &c->linecap[fd], c->linelen[fd] + len, 1))
    return;
  memcpy(c->line[fd] + c->linelen[fd], buf, len);
  c->linelen[fd] += len;
  nl = memrchr(c->line[fd], '\n', c->linelen[fd]);
  if(!nl && c->linelen[fd] < 65536)
    return;
  len = nl ? (size_t)(nl - c->line[fd]) + 1 : c->linelen[fd];
  vrun_log_write(fd, c->line[fd], len);
  memmove(c->line[fd], c->line[fd] + len, c->linelen[fd] - len);
  c->linelen[fd] -= len;
}

/* On a terminal, a prompt without a newline ("Password: ") must show
** before we wait: flush partial lines then. In logs, lines stay whole. */
static int tty_fd[3];

static void flush_partial(struct vrun_jobs *j)
{
  size_t i;
  int fd;

  for(i = 0; i < j->nchildren; i++) {
    struct child *c = j->children[i];
    if(c->inst && j->buffered)
      continue;
    for(fd = 1; fd <= 2; fd++) {
      if(tty_fd[fd] && c->linelen[fd]) {
        vrun_log_write(fd, c->line[fd], c->linelen[fd]);
        c->linelen[fd] = 0;
      }
    }
  }
}

static void flush_lines(struct child *c)
{
  int fd;

  for(fd = 1; fd <= 2; fd++) {
    if(c->linelen[fd])
      vrun_log_write(fd, c->line[fd], c->linelen[fd]);
    c->linelen[fd] = 0;
  }
}
/* }====== */

/* {====== children ====== */

static void child_free(struct child *c)
{
  int fd;

  if(!c)
    return;
  for(fd = 1; fd <= 2; fd++) {
    if(c->fd[fd] >= 0)
      close(c->fd[fd]);
    free(c->line[fd]);
  }
  free(c->cap);
  free(c);
}

/*
** Start argv (or "/bin/sh -c cmd") in its own process group with stdout
** and stderr piped to us. Returns the child or NULL with errno set.
*/
static struct child *spawn(struct vrun_jobs *j, const char *cmd,
                           char *const *argv, int capture)
{
  struct child *c = calloc(1, sizeof(*c));
  int out[2] = { -1, -1 }, err[2] = { -1, -1 }, rc, i, saved;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t block, old, none, def;
  char *shargv[4];
  char **envp;

  if(!c)
    return NULL;
  c->fd[0] = c->fd[1] = c->fd[2] = -1;
  c->slot = -1;
  c->capture = capture;
  envp = vrun_vars_environ(j->ctx->vars);
  if(!envp || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    saved = envp ? errno : ENOMEM;
    goto fail;
  }
  shargv[0] = "/bin/sh";
  shargv[1] = "-c";
  shargv[2] = (char *)cmd;
  shargv[3] = NULL;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawnattr_init(&attr);
  sigemptyset(&none);
  sigemptyset(&def);
  sigaddset(&def, SIGINT);
  sigaddset(&def, SIGTERM);
  sigaddset(&def, SIGCHLD);
  sigaddset(&def, SIGPIPE);
  sigaddset(&def, SIGQUIT);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, (own_group ? POSIX_SPAWN_SETPGROUP : 0) |
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  /* no signal between the spawn and the pgid being recorded */
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  if(argv)
    rc = posix_spawnp(&c->pid, argv[0], &fa, &attr, argv, envp);
  else
    rc = posix_spawn(&c->pid, "/bin/sh", &fa, &attr, shargv, envp);
  if(!rc) {
    for(i = 0; i < MAX_CHILDREN; i++) {
      if(pgids[i] == 0) {
        pgids[i] = c->pid;
        c->slot = i;
        break;
      }
    }
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  close(err[1]);
  out[1] = err[1] = -1;
  if(rc) {
    saved = rc;
    goto fail;
  }
  c->fd[1] = out[0];
  c->fd[2] = err[0];
  {
    struct child **nc = realloc(j->children,
                                (j->nchildren + 1) * sizeof(*nc));
    if(!nc) {
      /* cannot track it: wait for it here rather than lose it */
      c->fd[1] = c->fd[2] = -1;
      close(out[0]);
      close(err[0]);
      waitpid(c->pid, NULL, 0);
      if(c->slot >= 0)
        pgids[c->slot] = 0;
      free(c);
      errno = ENOMEM;
      return NULL;
    }
    j->children = nc;
    j->children[j->nchildren++] = c;
  }
  return c;
fail:
  for(i = 0; i < 2; i++) {
    if(out[i] >= 0)
      close(out[i]);
    if(err[i] >= 0)
      close(err[i]);
  }
  free(c);
  errno = saved;
  return NULL;
}

static void push_ready(struct vrun_jobs *j, struct inst *x);

static void child_exited(struct vrun_jobs *j, struct child *c, int st)
{
  char buf[65536];
  ssize_t n;
  size_t i;
  int fd;

  c->exited = 1;
  c->status = WIFEXITED(st) ? WEXITSTATUS(st) :
              WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
  if(c->slot >= 0)
    pgids[c->slot] = 0;
  /* what the child wrote before exiting is in the pipes; a background
  ** grandchild holding them open must not keep the task waiting */
  for(fd = 1; fd <= 2; fd++) {
    if(c->fd[fd] < 0)
      continue;
    fcntl(c->fd[fd], F_SETFL, O_NONBLOCK);
    for(;;) {
      n = read(c->fd[fd], buf, sizeof(buf));
      if(n > 0) {
        deliver(j, c, fd, buf, (size_t)n);
        continue;
      }
      if(n < 0 && errno == EINTR)
        continue;
      break;
    }
    close(c->fd[fd]);
    c->fd[fd] = -1;
  }
  flush_lines(c);
  for(i = 0; i < j->nchildren; i++) {
    if(j->children[i] == c) {
      j->children[i] = j->children[--j->nchildren];
      break;
    }
  }
  if(c->inst) {
    j->running--;
    push_ready(j, c->inst);
  }
}

/* Wait for output or an exit, and handle what happened. */
static void pump(struct vrun_jobs *j)
{
  struct pollfd *pfd;
  struct child **who;
  int *whofd;
  size_t np = 1, i;
  char buf[65536];
  ssize_t n;

  pfd = malloc((2 * j->nchildren + 1) * sizeof(*pfd));
  who = malloc((2 * j->nchildren + 1) * sizeof(*who));
  whofd = malloc((2 * j->nchildren + 1) * sizeof(*whofd));
  if(!pfd || !who || !whofd) {
    free(pfd);
    free(who);
    free(whofd);
    usleep(10000);  /* out of memory: still reap below */
    goto reap;
  }
  pfd[0].fd = j->sigpipe[0];
  pfd[0].events = POLLIN;
  for(i = 0; i < j->nchildren; i++) {
    int fd;
    for(fd = 1; fd <= 2; fd++) {
      if(j->children[i]->fd[fd] < 0)
        continue;
      pfd[np].fd = j->children[i]->fd[fd];
      pfd[np].events = POLLIN;
      who[np] = j->children[i];
      whofd[np++] = fd;
    }
  }
  flush_partial(j);
  if(j->batch.len)
    obuf_flush(&j->batch);
  if(poll(pfd, np, -1) > 0) {
    for(i = 1; i < np; i++) {
      if(!pfd[i].revents)
        continue;
      n = read(pfd[i].fd, buf, sizeof(buf));
      if(n > 0)
        deliver(j, who[i], whofd[i], buf, (size_t)n);
      else if(n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(who[i]->fd[whofd[i]]);
        who[i]->fd[whofd[i]] = -1;
      }
    }
    if(pfd[0].revents) {
      while(read(j->sigpipe[0], buf, sizeof(buf)) > 0)
        ;
    }
  }
  free(pfd);
  free(who);
  free(whofd);
reap:
  for(i = 0; i < j->nchildren;) {
    struct child *c = j->children[i];
    int st;
    pid_t r = waitpid(c->pid, &st, WNOHANG);
    if(r < 0 && errno == ECHILD)
      st = 1 << 8;  /* reaped behind our back (SIGCHLD ignored): unknown */
    if(r == c->pid || (r < 0 && errno == ECHILD))
      child_exited(j, c, st);  /* removes c from the array */
    else
      i++;
  }
}

/* Run a child to its end right here (outside a yieldable task). */
static void wait_child(struct vrun_jobs *j, struct child *c)
{
  while(!c->exited)
    pump(j);
}
/* }====== */

/* {====== instances ====== */

static void heap_swap(struct vrun_jobs *j, size_t a, size_t b)
{
  struct inst *t = j->heap[a];

  j->heap[a] = j->heap[b];
  j->heap[b] = t;
  j->heap[a]->heappos = a;
  j->heap[b]->heappos = b;
}

static void push_ready(struct vrun_jobs *j, struct inst *x)
{
  size_t i;

  if(grow((void **)&j->heap, &j->capheap, j->nheap + 1, sizeof(*j->heap)))
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
    push_ready(j, w);
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
       !grow((void **)&j->pool, &j->cappool, j->npool + 1,
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
  child_free(x->child);
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
     grow((void **)&j->all, &j->capall, j->nall + 1, sizeof(*j->all)) ||
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

static int add_waiter(struct inst *d, struct inst *w)
{
  if(grow((void **)&d->waiters, &d->capwaiters, d->nwaiters + 1,
          sizeof(*d->waiters)))
    return -1;
  d->waiters[d->nwaiters++] = w;
  return 0;
}

/*
** The instance of t under ov with all its dependencies, created in
** post-order (deps get lower sequence numbers, so -j1 runs them first,
** left to right, as make does). Returns NULL when out of memory.
*/
static struct inst *instantiate(struct vrun_jobs *j, struct vrun_task *t,
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
  if(grow((void **)&stack, &cap, 1, sizeof(*stack)))
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
          push_ready(j, x);
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
    if(add_waiter(d, x))
      goto oom;
    x->npending++;
    if(d->state == I_NEW) {
      d->state = I_WAIT;
      if(grow((void **)&stack, &cap, sp + 1, sizeof(*stack)))
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
  if(!grow((void **)&j->failed, &j->capfailed, j->nfailed + 1,
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
    obuf_flush(&x->out);
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
    obuf_flush(&x->out);
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
    vrun_log_set_sink(sink, x);
  st = lua_resume(x->co, j->L, nargs, &nres);
  base_sink(j);
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
  c = spawn(j, NULL, argv, 0);
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

  child_free(x->child);
  x->child = NULL;
  if(x->out.len)
    obuf_flush(&x->out);
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

/* {====== the DSL's sh, capture and invoke ====== */

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
  struct vrun_expand_auto a, *ap = NULL;
  struct inst *x = J->current;
  char bad[256], *out;
  int rc;

  if(x) {
    a.target = x->t->name;
    a.first_dep = x->t->ndeps ? x->t->deps[0] : "";
    a.all_deps = strstr(s, "$^") ? all_deps(x) : "";
    ap = &a;
  }
  rc = vrun_expand(s, lookup_var, J->ctx, ap, &out, bad, sizeof(bad));
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
  int status = c->status;

  if(flags & SH_CAPTURE) {
    size_t n = c->caplen;
    while(n && c->cap[n - 1] == '\n')
      n--;
    lua_pushlstring(L, c->cap ? c->cap : "", n);
  }
  child_free(c);
  if(J->ctx->interrupted)
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
    struct inst *x = J->current;
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
  struct inst *x = J->current;
  struct child *c = x->child;

  (void)status;
  x->child = NULL;
  return child_result(L, c, (int)kctx, (int)kctx & SH_CAPTURE ?
                      "capture" : "sh");
}

/* Start cmd for the running task and wait (yielding when we can). */
static int run_child(lua_State *L, const char *cmd, int flags)
{
  struct inst *x = J->current;
  struct child *c = spawn(J, cmd, NULL, flags & SH_CAPTURE);

  if(!c)
    return luaL_error(L, "cannot run /bin/sh: %s", strerror(errno));
  if(x && lua_isyieldable(L)) {
    c->inst = x;
    x->child = c;
    J->running++;
    return lua_yieldk(L, 0, (lua_KContext)flags, sh_k);
  }
  wait_child(J, c);
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
  if(J->ctx->dry_run || (!quiet && !J->ctx->silent))
    echo(line);
  if(J->ctx->dry_run && !force) {
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
  const char *cmd = luaL_checkstring(L, 1);
  int flags = SH_CAPTURE;
  char *line;

  if(opt_bool(L, 2, "nofail"))
    flags |= SH_IGNORE;
  line = expand_or_raise(L, cmd);
  if(J->ctx->dry_run && !opt_bool(L, 2, "readonly")) {
    echo(line);
    free(line);
    lua_pushliteral(L, "");
    lua_pushinteger(L, 0);
    return 2;
  }
  if(J->ctx->verbose)
    vrun_log(VRUN_LOG_VERBOSE, "capture: %s", line);
  lua_pushstring(L, line);
  free(line);
  return run_child(L, lua_tostring(L, -1), flags);
}

static int invoke_k(lua_State *L, int status, lua_KContext kctx)
{
  struct inst *x = J->current, *d = x->invoked;

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
  if(grow((void **)&stack, &cap, 1, sizeof(*stack)))
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
    if(grow((void **)&stack, &cap, sp + 1, sizeof(*stack)))
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
  const char *name = luaL_checkstring(L, 1);
  struct inst *x = J->current, *d;
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
  iov = intern(J, ov);
  if(!iov)
    return luaL_error(L, "out of memory");
  goal[0] = (char *)name;
  saved = vrun_vars_overlay(J->ctx->vars);
  vrun_vars_set_overlay(J->ctx->vars, iov);
  rc = vrun_jobs_prepare(J->run, L, goal, 1, &msg);
  vrun_vars_set_overlay(J->ctx->vars, saved);
  if(rc) {
    lua_pushstring(L, msg);
    free(msg);
    return lua_error(L);
  }
  t = vrun_graph_find(J->run->graph, name);
  d = instantiate(J, t, iov);
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
    if(reaches(J, d, x, path, sizeof(path)))
      return luaL_error(L, "Circular dependency: %s -> %s (through invoke)",
                        x->t->name, path);
  }
  if(add_waiter(d, x))
    return luaL_error(L, "out of memory");
  x->npending++;
  x->invoked = d;
  return lua_yieldk(L, 0, 0, invoke_k);
}

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
  J = j;
  own_group = !(isatty(STDIN_FILENO) && run->ctx->jobs == 1);
  tty_fd[1] = isatty(1);
  tty_fd[2] = isatty(2);
  sigpipe_w = j->sigpipe[1];
  install_handlers(j);
  return j;
}

void vrun_jobs_free(struct vrun_jobs *j)
{
  size_t i;

  if(!j)
    return;
  sigaction(SIGCHLD, &j->old_chld, NULL);
  sigpipe_w = -1;
  for(i = 0; i < j->nchildren; i++)
    child_free(j->children[i]);
  free(j->children);
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
  if(J == j)
    J = NULL;
  free(j);
}

int vrun_jobs_goal(struct vrun_jobs *j, struct vrun_task *t)
{
  struct inst *x = instantiate(j, t, NULL);

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
  base_sink(j);
  for(;;) {
    while(!j->stop && !j->ctx->interrupted && j->nheap &&
          j->running < j->ctx->jobs)
      step(j, pop_ready(j));
    if(!j->running &&
       (j->stop || j->ctx->interrupted || !j->nheap))
      break;
    if(j->running)
      pump(j);
  }
  j->batching = 0;
  base_sink(j);
  if(j->batch.len)
    obuf_flush(&j->batch);
  interrupted = j->ctx->interrupted != 0;
  for(i = 0; i < j->nall; i++) {
    struct inst *x = j->all[i];
    if(x->out.len)
      obuf_flush(&x->out);
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
