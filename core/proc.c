/*
** proc.c: run a subprocess from an argv (no shell) for modules.
** SPDX-License-Identifier: MIT
**
** posix_spawnp, two pipes, one poll loop. Output that is not captured is
** forwarded whole lines at a time, so a secret never straddles two writes
** and escapes the masking in vrun_log_write.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx.h"
#include "log.h"
#include "proc.h"

extern char **environ;

#define LINE_MAX_HOLD 65536  /* forward a partial line past this size */

struct stream {
  int fd;
  int outfd;        /* 1 or 2 when forwarding; 0 when capturing */
  char *buf;
  size_t len, cap;
};

static int safe_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || strchr("-_./=:,+@%", c);
}

void vrun_proc_format(const char *const *argv, char *buf, size_t size)
{
  size_t o = 0, i;
  const char *a;
  int quote;

  if(!size)
    return;
  buf[0] = '\0';
  for(i = 0; argv[i]; i++) {
    a = argv[i];
    quote = !*a;
    for(const char *p = a; *p && !quote; p++)
      quote = !safe_char(*p);
    if(i && o + 1 < size)
      buf[o++] = ' ';
    if(quote && o + 1 < size)
      buf[o++] = '\'';
    for(; *a && o + 5 < size; a++) {
      if(*a == '\'' && quote) {
        memcpy(buf + o, "'\\''", 4);
        o += 4;
      }
      else
        buf[o++] = *a;
    }
    if(quote && o + 1 < size)
      buf[o++] = '\'';
    buf[o] = '\0';
  }
}

static int grow(struct stream *s, size_t need)
{
  size_t cap = s->cap ? s->cap : 4096;
  char *nb;

  while(cap < need)
    cap *= 2;
  if(cap == s->cap)
    return 0;
  nb = realloc(s->buf, cap);
  if(!nb)
    return -1;
  s->buf = nb;
  s->cap = cap;
  return 0;
}

/* Forward complete lines (all of it when `all`). */
static void flush_lines(struct stream *s, int all)
{
  size_t end = s->len;

  if(!all) {
    while(end && s->buf[end - 1] != '\n')
      end--;
    if(!end && s->len < LINE_MAX_HOLD)
      return;
    if(!end)
      end = s->len;
  }
  if(end) {
    vrun_log_write(s->outfd, s->buf, end);
    memmove(s->buf, s->buf + end, s->len - end);
    s->len -= end;
  }
}

/* Read what is there; returns 1 at EOF, 0 otherwise, -1 out of memory. */
static int drain(struct stream *s)
{
  ssize_t n;

  if(grow(s, s->len + 65536 + 1))
    return -1;
  n = read(s->fd, s->buf + s->len, s->cap - s->len - 1);
  if(n < 0)
    return errno == EINTR || errno == EAGAIN ? 0 : 1;
  if(n == 0)
    return 1;
  s->len += (size_t)n;
  if(s->outfd)
    flush_lines(s, 0);
  return 0;
}

int vrun_proc_run(struct vrun_ctx *ctx, const char *const *argv,
                  const char *cwd, int flags, char **out, size_t *outlen,
                  int *exit_status, struct vrun_err *err)
{
  char line[4096];
  int opipe[2] = { -1, -1 }, epipe[2] = { -1, -1 };
  struct stream st[2];
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int rc, status = 0, open_n = 2, i, killed = 0, result = VRUN_OK;
  struct pollfd pfd[2];

  if(out)
    *out = NULL;
  if(outlen)
    *outlen = 0;
  if(exit_status)
    *exit_status = 0;
  if(!argv || !argv[0])
    return VRUN_SET_ERR(err, VRUN_EINVAL, "run: empty command");
  if((flags & VRUN_RUN_CAPTURE) && !out)
    return VRUN_SET_ERR(err, VRUN_EINVAL, "run: CAPTURE needs an output");
  vrun_proc_format(argv, line, sizeof(line));
  if(!(flags & VRUN_RUN_QUIET))
    vrun_log(VRUN_LOG_INFO, "%s", line);
  if(ctx && ctx->dry_run && !(flags & VRUN_RUN_READONLY)) {
    if(flags & VRUN_RUN_CAPTURE) {
      *out = calloc(1, 1);
      if(!*out)
        return VRUN_SET_ERR(err, VRUN_ENOMEM, "run: out of memory");
    }
    return VRUN_OK;
  }
  if(pipe2(opipe, O_CLOEXEC) || pipe2(epipe, O_CLOEXEC)) {
    rc = errno;
    if(opipe[0] >= 0) {
      close(opipe[0]);
      close(opipe[1]);
    }
    return VRUN_SET_ERR(err, VRUN_EPROC, "cannot run '%s': %s", argv[0],
                        strerror(rc));
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, opipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, epipe[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if(cwd)
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
  rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
                    environ);
  posix_spawn_file_actions_destroy(&fa);
  close(opipe[1]);
  close(epipe[1]);
  if(rc) {
    close(opipe[0]);
    close(epipe[0]);
    return VRUN_SET_ERR(err, VRUN_EPROC, "cannot run '%s': %s", argv[0],
                        strerror(rc));
  }
  memset(st, 0, sizeof(st));
  st[0].fd = opipe[0];
  st[0].outfd = (flags & VRUN_RUN_CAPTURE) ? 0 : 1;
  st[1].fd = epipe[0];
  st[1].outfd = 2;
  while(open_n > 0) {
    int n = 0;
    int map[2];
    for(i = 0; i < 2; i++) {
      if(st[i].fd >= 0) {
        pfd[n].fd = st[i].fd;
        pfd[n].events = POLLIN;
        map[n++] = i;
      }
    }
    rc = poll(pfd, (nfds_t)n, 200);
    if(ctx && ctx->interrupted && !killed) {
      kill(pid, SIGTERM);
      killed = 1;
    }
    if(rc <= 0)
      continue;
    for(i = 0; i < n; i++) {
      struct stream *s = &st[map[i]];
      if(!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      rc = drain(s);
      if(rc < 0 && result == VRUN_OK)
        result = VRUN_SET_ERR(err, VRUN_ENOMEM, "run: out of memory");
      if(rc) {
        close(s->fd);
        s->fd = -1;
        open_n--;
      }
    }
  }
  while(waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  for(i = 0; i < 2; i++) {
    if(st[i].outfd)
      flush_lines(&st[i], 1);
  }
  if(WIFEXITED(status))
    status = WEXITSTATUS(status);
  else if(WIFSIGNALED(status))
    status = 128 + WTERMSIG(status);
  if(exit_status)
    *exit_status = status;
  if(result == VRUN_OK && (killed || (ctx && ctx->interrupted)))
    result = VRUN_SET_ERR(err, VRUN_EINTR, "'%s' interrupted", argv[0]);
  if(result == VRUN_OK && status && !(flags & VRUN_RUN_NOFAIL))
    result = VRUN_SET_ERR(err, VRUN_EPROC, "'%.440s' exited with status %d",
                          line, status);
  if(result == VRUN_OK && (flags & VRUN_RUN_CAPTURE)) {
    if(!st[0].buf) {
      st[0].buf = calloc(1, 1);
      if(!st[0].buf)
        result = VRUN_SET_ERR(err, VRUN_ENOMEM, "run: out of memory");
    }
    if(st[0].buf) {
      st[0].buf[st[0].len] = '\0';
      *out = st[0].buf;
      if(outlen)
        *outlen = st[0].len;
      st[0].buf = NULL;
    }
  }
  free(st[0].buf);
  free(st[1].buf);
  return result;
}
