/*
** progress.c: a progress bar on a TTY, 10% lines elsewhere, nothing
** under -s.
** SPDX-License-Identifier: MIT
**
** Updates come from transfer callbacks many times a second, so an update
** that draws nothing costs one clock read. Output goes through the masked
** log writer like every other byte vrun prints.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "progress.h"

#define REDRAW_NS 100000000LL  /* 10 redraws a second at most */

struct vrun_progress {
  char label[128];
  uint64_t total;
  uint64_t done;
  long long start_ns;
  long long last_draw_ns;
  int tty;
  int off;
  int last_decile;   /* last 10% step printed (non-TTY) */
  int drawn;         /* a bar is on screen (TTY) */
};

static long long now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Format n bytes as "12.3 MiB" into buf. */
static void human(char *buf, size_t size, double n)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  int u = 0;

  while(n >= 1024.0 && u < 4) {
    n /= 1024.0;
    u++;
  }
  if(u == 0)
    snprintf(buf, size, "%.0f %s", n, units[u]);
  else
    snprintf(buf, size, "%.1f %s", n, units[u]);
}

struct vrun_progress *vrun_progress_start(struct vrun_ctx *ctx,
                                          const char *label,
                                          uint64_t total_bytes)
{
  struct vrun_progress *p = calloc(1, sizeof(*p));

  (void)ctx;
  if(!p)
    return NULL;
  snprintf(p->label, sizeof(p->label), "%s", label ? label : "progress");
  p->total = total_bytes;
  p->start_ns = now_ns();
  p->off = vrun_log_silent();
  p->tty = isatty(2);
  return p;
}

void vrun_progress_set_total(struct vrun_progress *p, uint64_t total)
{
  if(p)
    p->total = total;
}

static double rate(const struct vrun_progress *p, long long now)
{
  double secs = (double)(now - p->start_ns) / 1e9;

  return secs > 0 ? (double)p->done / secs : 0.0;
}

static void draw_bar(struct vrun_progress *p, long long now, int final)
{
  char line[256], done[32], total[32], rt[32], bar[31];
  int pct = p->total ? (int)(p->done * 100 / p->total) : 0;
  int fill = p->total ? (int)(p->done * 30 / p->total) : 0;
  int n;

  if(fill > 30)
    fill = 30;
  memset(bar, '#', (size_t)fill);
  memset(bar + fill, ' ', (size_t)(30 - fill));
  bar[30] = '\0';
  human(done, sizeof(done), (double)p->done);
  human(total, sizeof(total), (double)p->total);
  human(rt, sizeof(rt), rate(p, now));
  if(p->total)
    n = snprintf(line, sizeof(line), "\r%s [%s] %3d%% %s/%s %s/s\033[K%s",
                 p->label, bar, pct, done, total, rt, final ? "\n" : "");
  else
    n = snprintf(line, sizeof(line), "\r%s %s %s/s\033[K%s", p->label,
                 done, rt, final ? "\n" : "");
  if(n > 0)
    vrun_log_write_direct(2, line, (size_t)n < sizeof(line) ?
                          (size_t)n : sizeof(line) - 1);
  p->drawn = !final;
  p->last_draw_ns = now;
}

void vrun_progress_update(struct vrun_progress *p, uint64_t done_bytes)
{
  long long now;
  int decile;

  if(!p || p->off)
    return;
  p->done = done_bytes;
  if(p->tty) {
    now = now_ns();
    if(now - p->last_draw_ns >= REDRAW_NS)
      draw_bar(p, now, 0);
    return;
  }
  if(!p->total)
    return;
  decile = (int)(done_bytes * 10 / p->total);
  if(decile > 10)
    decile = 10;
  if(decile > p->last_decile && decile < 10) {
    char d[32], t[32];
    p->last_decile = decile;
    human(d, sizeof(d), (double)done_bytes);
    human(t, sizeof(t), (double)p->total);
    vrun_log(VRUN_LOG_INFO, "%s: %d%% (%s of %s)", p->label, decile * 10,
             d, t);
  }
}

void vrun_progress_end(struct vrun_progress *p, int ok)
{
  long long now;
  char d[32], rt[32];

  if(!p)
    return;
  if(!p->off) {
    now = now_ns();
    if(p->tty) {
      draw_bar(p, now, 1);
      if(!ok)
        vrun_log(VRUN_LOG_INFO, "%s: failed", p->label);
    }
    else {
      human(d, sizeof(d), (double)p->done);
      human(rt, sizeof(rt), rate(p, now));
      if(ok)
        vrun_log(VRUN_LOG_INFO, "%s: done, %s in %.1f s (%s/s)", p->label,
                 d, (double)(now - p->start_ns) / 1e9, rt);
      else
        vrun_log(VRUN_LOG_INFO, "%s: failed after %s", p->label, d);
    }
  }
  free(p);
}
