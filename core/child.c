/*
** child.c: the children of a run. Starting them (posix_spawn, own
** process group, stdout and stderr piped to us), reading their pipes
** and reaping them, forwarding SIGINT/SIGTERM to them, and keeping each
** task's output until it ends when several run at once (-j > 1).
** SPDX-License-Identifier: MIT
**
** The signal handlers only touch what is here (the pgid table, the
** self-pipe's write end) and the run's interrupted flag.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "jobs.h"
#include "jobs_int.h"
#include "log.h"

#define MAX_CHILDREN 1100   /* -j is capped at 1024 by cli.c */

static volatile sig_atomic_t pgids[MAX_CHILDREN];
static volatile sig_atomic_t sigpipe_w = -1;
/* Children get their own process group (so a signal reaches a whole
** pipeline), except at -j1 on a terminal: there they stay in vrun's
** foreground group so a command can prompt (git, gpg, docker login). */
static int own_group = 1;
/* On a terminal, a prompt without a newline ("Password: ") must show
** before we wait: flush partial lines then. In logs, lines stay whole. */
static int tty_fd[3];

/* {====== signals ====== */

static void on_signal(int sig)
{
  struct vrun_jobs *j = vrun_jobs_active;
  int saved = errno, i, again = j && j->ctx->interrupted;
  char c = 'i';

  if(j)
    j->ctx->interrupted = sig;
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


static void obuf_add(struct obuf *o, int fd, const char *buf, size_t len)
{
  if(vrun_jobs_grow((void **)&o->p, &o->cap, o->len + len, 1))
    return;
  memcpy(o->p + o->len, buf, len);
  o->len += len;
  if(o->nsegs && o->segs[o->nsegs - 1].fd == fd) {
    o->segs[o->nsegs - 1].len += len;
    return;
  }
  if(vrun_jobs_grow((void **)&o->segs, &o->capsegs, o->nsegs + 1,
                    sizeof(*o->segs)))
    return;
  o->segs[o->nsegs].fd = fd;
  o->segs[o->nsegs++].len = len;
}

void vrun_out_flush(struct obuf *o)
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

void vrun_out_sink(void *ud, int fd, const char *buf, size_t len)
{
  obuf_add(ud, fd, buf, len);
}

static void batch_sink(void *ud, int fd, const char *buf, size_t len)
{
  struct vrun_jobs *j = ud;

  obuf_add(&j->batch, fd, buf, len);
  if(j->batch.len >= 65536)
    vrun_out_flush(&j->batch);
}

void vrun_out_base_sink(struct vrun_jobs *j)
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
    if(vrun_jobs_grow((void **)&c->cap, &c->capcap, c->caplen + len + 1,
                      1))
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
  if(vrun_jobs_grow((void **)&c->line[fd], &c->linecap[fd],
                    c->linelen[fd] + len, 1))
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

void vrun_child_free(struct child *c)
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

/* Start /bin/sh -c cmd with vfork. glibc's posix_spawn resets all 64
** signal dispositions in the child (~124 syscalls while the parent is
** suspended, ~4% of a run of short commands); execve resets caught
** handlers by itself, so only the signals a command must see as default
** are reset here. All signals stay blocked until just before execve, so
** no handler of ours runs in the child. Returns 0 or an errno. */
static int sh_spawn(pid_t *pid, char *const *argv, char *const *envp,
                    int outfd, int errfd, int pgroup)
{
  static const int dfl[] = { SIGINT, SIGTERM, SIGCHLD, SIGPIPE, SIGQUIT };
  volatile int child_errno = 0;  /* vfork: written by the child */
  sigset_t all, old, none;
  size_t k;
  pid_t p;

  sigfillset(&all);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &all, &old);
  p = vfork();
  if(p == 0) {
    for(k = 0; k < sizeof(dfl) / sizeof(dfl[0]); k++)
      signal(dfl[k], SIG_DFL);
    /* dup2 onto itself keeps close-on-exec: clear it by hand then */
    if((pgroup && setpgid(0, 0)) ||
       (outfd == 1 ? fcntl(1, F_SETFD, 0) : dup2(outfd, 1)) < 0 ||
       (errfd == 2 ? fcntl(2, F_SETFD, 0) : dup2(errfd, 2)) < 0) {
      child_errno = errno;
      _exit(127);
    }
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(argv[0], argv, envp);
    child_errno = errno;
    _exit(127);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  if(p < 0)
    return errno;
  if(child_errno) {
    waitpid(p, NULL, 0);
    return child_errno;
  }
  *pid = p;
  return 0;
}

/* Start argv (looked up on PATH) with posix_spawnp: the general case,
** where the few calls saved by sh_spawn matter less. */
static int argv_spawn(pid_t *pid, char *const *argv, char *const *envp,
                      int outfd, int errfd, int pgroup)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, def;
  int rc;

  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, outfd, 1);
  posix_spawn_file_actions_adddup2(&fa, errfd, 2);
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
  posix_spawnattr_setflags(&attr, (pgroup ? POSIX_SPAWN_SETPGROUP : 0) |
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return rc;
}

struct child *vrun_child_spawn(struct vrun_jobs *j, const char *cmd,
                               char *const *argv, int capture)
{
  struct child *c = calloc(1, sizeof(*c));
  int out[2] = { -1, -1 }, err[2] = { -1, -1 }, rc, i, saved;
  sigset_t block, old;
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
  /* no signal between the spawn and the pgid being recorded */
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  if(argv)
    rc = argv_spawn(&c->pid, argv, envp, out[1], err[1], own_group);
  else
    rc = sh_spawn(&c->pid, shargv, envp, out[1], err[1], own_group);
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
    vrun_jobs_push_ready(j, c->inst);
  }
}

void vrun_child_pump(struct vrun_jobs *j)
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
    vrun_out_flush(&j->batch);
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
    int k;
    /* Both pipes at EOF: the child is exiting and its zombie appears
    ** within microseconds; look again rather than sleep in poll. */
    for(k = 0; k < 50 && r == 0 && c->fd[1] < 0 && c->fd[2] < 0; k++) {
      sched_yield();
      r = waitpid(c->pid, &st, WNOHANG);
    }
    if(r < 0 && errno == ECHILD)
      st = 1 << 8;  /* reaped behind our back (SIGCHLD ignored): unknown */
    if(r == c->pid || (r < 0 && errno == ECHILD))
      child_exited(j, c, st);  /* removes c from the array */
    else
      i++;
  }
}

void vrun_child_wait(struct vrun_jobs *j, struct child *c)
{
  while(!c->exited)
    vrun_child_pump(j);
}
/* }====== */

/* {====== setting up ====== */

void vrun_child_setup(struct vrun_jobs *j)
{
  own_group = !(isatty(STDIN_FILENO) && j->ctx->jobs == 1);
  tty_fd[1] = isatty(1);
  tty_fd[2] = isatty(2);
  sigpipe_w = j->sigpipe[1];
  install_handlers(j);
}

void vrun_child_teardown(struct vrun_jobs *j)
{
  size_t i;

  sigaction(SIGCHLD, &j->old_chld, NULL);
  sigpipe_w = -1;
  for(i = 0; i < j->nchildren; i++)
    vrun_child_free(j->children[i]);
  free(j->children);
  j->children = NULL;
  j->nchildren = 0;
}
/* }====== */
