/*
** cache.c: the run's layers, built by background worker threads.
** Compression is the slow step of a daemonless publish, so layers are
** asked for early (docker.prepare) and built while earlier images are
** being pushed. A layer is keyed by its inputs, file identity included,
** so the plain and -scratch images and every registry share one build.
** SPDX-License-Identifier: MIT
*/
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "docker.h"
#include "cache.h"

#define MAX_WORKERS 8

enum { QUEUED, BUILDING, DONE, FAILED };

struct docker_cache_entry {
  struct docker_cache_entry *next;    /* all entries */
  struct docker_cache_entry *qnext;   /* the work queue */
  char *key;
  struct docker_layer_file *files;    /* deep copies */
  size_t n;
  long long epoch;
  int level;
  char *out;
  int state;
  struct docker_layer layer;
  struct vrun_err err;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static struct docker_cache_entry *entries, *qhead, *qtail;
static pthread_t workers[MAX_WORKERS];
static size_t nworkers;
static int stopping;
static char *dir;
static unsigned seq;

static void *worker(void *ud)
{
  struct docker_cache_entry *e;
  int rc;

  (void)ud;
  for(;;) {
    pthread_mutex_lock(&mu);
    while(!qhead && !stopping)
      pthread_cond_wait(&work, &mu);
    if(stopping) {
      pthread_mutex_unlock(&mu);
      return NULL;
    }
    e = qhead;
    qhead = e->qnext;
    if(!qhead)
      qtail = NULL;
    e->state = BUILDING;
    pthread_mutex_unlock(&mu);
    rc = docker_layer_build(e->files, e->n, e->epoch, e->level, e->out,
                            &e->layer, &e->err);
    pthread_mutex_lock(&mu);
    e->state = rc ? FAILED : DONE;
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&mu);
  }
}

static char *layer_key(const struct docker_layer_file *f, size_t n,
                       long long epoch, int level, struct vrun_err *err)
{
  char *key = docker_aprintf("%lld:%d", epoch, level), *k2;
  struct stat st;
  size_t i;

  for(i = 0; i < n && key; i++) {
    if(stat(f[i].src, &st) || !S_ISREG(st.st_mode)) {
      VRUN_SET_ERR(err, VRUN_EIO, "cannot read %s: %s", f[i].src,
                   errno ? strerror(errno) : "not a regular file");
      free(key);
      return NULL;
    }
    k2 = docker_aprintf("%s\n%s\n%s\n%o\n%ju:%ju:%jd:%lld.%ld", key,
                        f[i].src, f[i].dest, (unsigned)f[i].mode,
                        (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
                        (intmax_t)st.st_size, (long long)st.st_mtim.tv_sec,
                        st.st_mtim.tv_nsec);
    free(key);
    key = k2;
  }
  if(!key)
    VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  return key;
}

static void entry_free(struct docker_cache_entry *e)
{
  size_t i;

  for(i = 0; i < e->n; i++) {
    free((char *)e->files[i].src);
    free((char *)e->files[i].dest);
  }
  free(e->files);
  free(e->key);
  free(e->out);
  free(e->layer.file);
  free(e);
}

static int start_workers(struct vrun_err *err)
{
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

  if(ncpu < 1)
    ncpu = 1;
  while(nworkers < (size_t)ncpu && nworkers < MAX_WORKERS) {
    if(pthread_create(&workers[nworkers], NULL, worker, NULL))
      break;
    nworkers++;
  }
  if(!nworkers)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "cannot start a worker thread");
  return VRUN_OK;
}

const char *docker_cache_dir(struct vrun_err *err)
{
  const char *tmp = getenv("TMPDIR");

  if(dir)
    return dir;
  dir = docker_aprintf("%s/vrun-docker.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if(!dir || !mkdtemp(dir)) {
    free(dir);
    dir = NULL;
    VRUN_SET_ERR(err, VRUN_EIO, "cannot create a temp folder: %s",
                 strerror(errno));
  }
  return dir;
}

struct docker_cache_entry *docker_cache_want(struct docker_ctx *dc,
                                             const struct docker_layer_file
                                             *files, size_t n,
                                             long long epoch, int level,
                                             struct vrun_err *err)
{
  struct docker_cache_entry *e;
  char *key = layer_key(files, n, epoch, level, err);
  size_t i;
  int ok;

  if(!key)
    return NULL;
  /* only this (the Lua) thread adds entries: reading the list is safe */
  for(e = entries; e; e = e->next)
    if(!strcmp(e->key, key)) {
      free(key);
      return e;
    }
  if(!nworkers && start_workers(err)) {
    free(key);
    return NULL;
  }
  if(!docker_cache_dir(err)) {
    free(key);
    return NULL;
  }
  e = calloc(1, sizeof(*e));
  if(e)
    e->files = calloc(n, sizeof(*e->files));
  if(!e || !e->files) {
    free(e);
    free(key);
    VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    return NULL;
  }
  e->key = key;
  e->n = n;
  e->epoch = epoch;
  e->level = level;
  e->out = docker_aprintf("%s/layer-%u.tar.gz", dir, seq++);
  ok = e->out != NULL;
  for(i = 0; i < n; i++) {
    e->files[i].src = strdup(files[i].src);
    e->files[i].dest = strdup(files[i].dest);
    e->files[i].mode = files[i].mode;
    if(!e->files[i].src || !e->files[i].dest)
      ok = 0;
  }
  if(!ok) {
    entry_free(e);
    VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    return NULL;
  }
  dc->host->cleanup_add(dc->vc, e->out);
  pthread_mutex_lock(&mu);
  e->next = entries;
  entries = e;
  if(qtail)
    qtail->qnext = e;
  else
    qhead = e;
  qtail = e;
  pthread_cond_signal(&work);
  pthread_mutex_unlock(&mu);
  return e;
}

int docker_cache_wait(struct docker_ctx *dc, struct docker_cache_entry *e,
                      const struct docker_layer **layer,
                      struct vrun_err *err)
{
  struct timespec ts;
  int rc = VRUN_OK;

  pthread_mutex_lock(&mu);
  while(e->state == QUEUED || e->state == BUILDING) {
    /* wake up now and then to notice Ctrl-C */
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 200000000L;
    if(ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&done, &mu, &ts);
    if(dc->host->interrupted(dc->vc)) {
      rc = VRUN_SET_ERR(err, VRUN_EINTR, "interrupted");
      break;
    }
  }
  if(!rc && e->state == FAILED)
    rc = VRUN_SET_ERR(err, e->err.code ? e->err.code : VRUN_EIO, "%s",
                      e->err.msg);
  pthread_mutex_unlock(&mu);
  *layer = rc ? NULL : &e->layer;
  return rc;
}

int docker_cache_ready(struct docker_cache_entry *e)
{
  int r;

  pthread_mutex_lock(&mu);
  r = e->state == DONE || e->state == FAILED;
  pthread_mutex_unlock(&mu);
  return r;
}

void docker_cache_clear(const struct vrun_host *h, struct vrun_ctx *vc)
{
  struct docker_cache_entry *e;
  size_t i;

  /* workers finish the layer in hand; queued ones are dropped */
  pthread_mutex_lock(&mu);
  stopping = 1;
  pthread_cond_broadcast(&work);
  pthread_mutex_unlock(&mu);
  for(i = 0; i < nworkers; i++)
    pthread_join(workers[i], NULL);
  nworkers = 0;
  stopping = 0;
  qhead = qtail = NULL;
  while(entries) {
    e = entries;
    entries = e->next;
    unlink(e->out);
    if(h)
      h->cleanup_remove(vc, e->out);
    entry_free(e);
  }
  if(dir)
    rmdir(dir);
  free(dir);
  dir = NULL;
}
