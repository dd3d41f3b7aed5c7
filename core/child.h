/*
** child.h: the children of a run: starting them, their pipes, the
** signals forwarded to them, and each task's output kept until it ends.
** Private to the runner (jobs.c, child.c, shell.c).
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_CHILD_H
#define VRUN_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct vrun_jobs;

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
  int slot;            /* index in the signal handler's pgid table */
  struct inst *inst;   /* the task waiting for it; NULL when synchronous */
};

/*
** Set up j's children side once j->ctx and j->sigpipe exist: whether
** children get their own process group, which outputs are terminals,
** and the SIGINT/SIGTERM/SIGCHLD handlers (old ones saved in j). The
** handlers reach the run through vrun_jobs_active. Cannot fail.
*/
void vrun_child_setup(struct vrun_jobs *j);

/*
** Undo vrun_child_setup: restore SIGCHLD, detach the handlers from
** j->sigpipe, and free every child still tracked (and the array).
*/
void vrun_child_teardown(struct vrun_jobs *j);

/*
** Start argv (or "/bin/sh -c cmd" when argv is NULL) with the run's
** environment and stdout and stderr piped to us; capture collects
** stdout for capture(). The child is tracked in j->children until it
** is reaped. Returns it (free with vrun_child_free once it exited), or
** NULL with errno set and nothing left open.
*/
struct child *vrun_child_spawn(struct vrun_jobs *j, const char *cmd,
                               char *const *argv, int capture);

/* Free a child that exited (or was never tracked); NULL is fine. */
void vrun_child_free(struct child *c);

/*
** Wait for output or an exit, and handle what happened: output goes to
** its task, the task waiting for a reaped child goes back on the ready
** heap (j->running drops). Never fails: out of memory, it still reaps.
*/
void vrun_child_pump(struct vrun_jobs *j);

/* Run child c to its end right here (outside a yieldable task). */
void vrun_child_wait(struct vrun_jobs *j, struct child *c);

/*
** Write out what o holds, in order, each piece to its fd (bypassing any
** sink), then free it and leave o empty.
*/
void vrun_out_flush(struct obuf *o);

/* A vrun_log sink appending to the struct obuf ud (a task's output). */
void vrun_out_sink(void *ud, int fd, const char *buf, size_t len);

/* Install the sink used when no task is being resumed: -n's batch at
** -j1, else none (straight to the fds). */
void vrun_out_base_sink(struct vrun_jobs *j);

#endif
