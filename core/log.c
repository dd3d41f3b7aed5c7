/*
** log.c: every byte vrun prints goes through here, masked.
** SPDX-License-Identifier: MIT
*/
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "redact.h"
#include "vrun_module.h"

static int silent;
static int verbose;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread vrun_log_sink_fn sink;
static __thread void *sink_ud;

void vrun_log_setup(int s, int v)
{
  silent = s;
  verbose = v;
}

int vrun_log_silent(void)
{
  return silent;
}

int vrun_log_verbose(void)
{
  return verbose;
}

void vrun_log_set_sink(vrun_log_sink_fn fn, void *ud)
{
  sink = fn;
  sink_ud = ud;
}

static void write_all(int fd, const char *buf, size_t len)
{
  ssize_t n;

  while(len) {
    n = write(fd, buf, len);
    if(n < 0) {
      if(errno == EINTR)
        continue;
      return;  /* nowhere left to report a failing stdout */
    }
    buf += n;
    len -= (size_t)n;
  }
}

void vrun_log_write_direct(int fd, const char *buf, size_t len)
{
  size_t mlen;
  int oom;
  char *masked = vrun_redact(buf, len, &mlen, &oom);

  if(oom)
    return;  /* better silent than leaking a secret */
  pthread_mutex_lock(&write_lock);
  if(masked)
    write_all(fd, masked, mlen);
  else
    write_all(fd, buf, len);
  pthread_mutex_unlock(&write_lock);
  free(masked);
}

void vrun_log_write(int fd, const char *buf, size_t len)
{
  if(sink)
    sink(sink_ud, fd, buf, len);
  else
    vrun_log_write_direct(fd, buf, len);
}

void vrun_log_v(int level, const char *fmt, va_list ap)
{
  char stackbuf[1024];
  char *buf = stackbuf;
  const char *prefix = "";
  int fd = 1, n, plen;
  va_list ap2;

  if(level == VRUN_LOG_INFO && silent)
    return;
  if(level >= VRUN_LOG_VERBOSE && !verbose)
    return;
  if(level == VRUN_LOG_ERROR) {
    prefix = "vrun: ";
    fd = 2;
  }
  else if(level == VRUN_LOG_WARN) {
    prefix = "vrun: warning: ";
    fd = 2;
  }
  plen = (int)strlen(prefix);
  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if(n < 0)
    return;
  if((size_t)n + (size_t)plen + 2 > sizeof(stackbuf)) {
    buf = malloc((size_t)n + (size_t)plen + 2);
    if(!buf)
      return;
  }
  memcpy(buf, prefix, (size_t)plen);
  vsnprintf(buf + plen, (size_t)n + 1, fmt, ap);
  buf[plen + n] = '\n';
  vrun_log_write(fd, buf, (size_t)plen + (size_t)n + 1);
  if(buf != stackbuf)
    free(buf);
}

void vrun_log(int level, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vrun_log_v(level, fmt, ap);
  va_end(ap);
}
