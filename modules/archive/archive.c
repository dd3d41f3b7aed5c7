/*
** archive.c: the `archive` module's Lua side: reproducible tar.gz/zip
** archives with sha256sum-format checksum files, built on worker threads.
** SPDX-License-Identifier: MIT
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "pack.h"
#include "vrun_module.h"

#define BATCH_MT "vrun.archive.batch"
#define MAX_JOBS 64

static const struct vrun_host *host;

/* Jobs being built by one call; a userdata so a Lua error frees them. */
struct batch {
  struct archive_job *jobs;
  size_t n;
  size_t next;              /* next job a worker takes */
  int registered;           /* temp names handed to host->cleanup_add */
  volatile int stop;        /* set on the first failure */
  pthread_mutex_t mu;
};

static int batch_gc(lua_State *L)
{
  struct batch *b = luaL_checkudata(L, 1, BATCH_MT);
  size_t i;

  for(i = 0; i < b->n; i++) {
    if(b->registered && b->jobs[i].tmp && host->cleanup_remove)
      host->cleanup_remove(host->ctx, b->jobs[i].tmp);
    archive_job_free(&b->jobs[i]);
  }
  free(b->jobs);
  b->jobs = NULL;
  b->n = 0;
  return 0;
}

static struct batch *batch_new(lua_State *L, size_t n)
{
  struct batch *b = lua_newuserdatauv(L, sizeof(*b), 0);

  memset(b, 0, sizeof(*b));
  luaL_setmetatable(L, BATCH_MT);
  b->jobs = calloc(n ? n : 1, sizeof(*b->jobs));
  if(!b->jobs)
    luaL_error(L, "archive: out of memory");
  b->n = n;
  return b;
}

static char *xstrdup(lua_State *L, const char *s)
{
  char *d = strdup(s);

  if(!d)
    luaL_error(L, "archive: out of memory");
  return d;
}

static int ends_with(const char *s, const char *suf)
{
  size_t a = strlen(s), b = strlen(suf);

  return a >= b && !strcmp(s + a - b, suf);
}

/* An in-archive name must stay inside the folder it is unpacked in. */
static int bad_name(const char *n)
{
  const char *p = n;

  if(!*n || *n == '/')
    return 1;
  while(p) {
    if(!strncmp(p, "..", 2) && (p[2] == '/' || !p[2]))
      return 1;
    p = strchr(p, '/');
    if(p)
      p++;
  }
  return 0;
}

static int int_field(lua_State *L, int t, const char *k, lua_Integer def,
                     lua_Integer lo, lua_Integer hi, const char *what)
{
  lua_Integer v = def;
  int isnum;

  lua_getfield(L, t, k);
  if(!lua_isnil(L, -1)) {
    v = lua_tointegerx(L, -1, &isnum);
    if(!isnum || v < lo || v > hi)
      luaL_error(L, "archive: %s: '%s' must be an integer from %I to %I",
                 what, k, lo, hi);
  }
  lua_pop(L, 1);
  return (int)v;
}

/* mtime: the spec's, else SOURCE_DATE_EPOCH, else an error. */
static int64_t spec_mtime(lua_State *L, int t, const char *what)
{
  const char *s;
  char *end;
  long long v;
  int isnum;

  lua_getfield(L, t, "mtime");
  if(!lua_isnil(L, -1)) {
    lua_Integer i = lua_tointegerx(L, -1, &isnum);
    if(!isnum || i < 0)
      luaL_error(L, "archive: %s: 'mtime' must be a non-negative integer",
                 what);
    lua_pop(L, 1);
    return (int64_t)i;
  }
  lua_pop(L, 1);
  s = host->var_get ? host->var_get(host->ctx, "SOURCE_DATE_EPOCH") : NULL;
  if(!s || !*s)
    s = getenv("SOURCE_DATE_EPOCH");
  if(!s || !*s)
    luaL_error(L, "archive: %s: no 'mtime' given and SOURCE_DATE_EPOCH "
               "is not set", what);
  errno = 0;
  v = strtoll(s, &end, 10);
  if(errno || *end || end == s || v < 0)
    luaL_error(L, "archive: SOURCE_DATE_EPOCH '%s' is not a number of "
               "seconds", s);
  return (int64_t)v;
}

static int cmp_member(const void *a, const void *b)
{
  const struct archive_member *x = a, *y = b;

  return strcmp(x->name, y->name);
}

static const char *const spec_keys[] = {
  "output", "format", "files", "mtime", "owner", "group", "mode", "level",
  "checksums", NULL
};

/* Fill job from the spec table at index t. Raises on a bad spec. */
static void parse_spec(lua_State *L, int t, struct archive_job *job)
{
  static unsigned counter;
  const char *out, *fmt = NULL;
  size_t i, n;
  unsigned rnd;
  char tmp[PATH_MAX];

  luaL_checktype(L, t, LUA_TTABLE);
  /* a typo'd field would silently do nothing: refuse it */
  lua_pushnil(L);
  while(lua_next(L, t)) {
    int known = 0, k;
    if(lua_type(L, -2) == LUA_TSTRING) {
      for(k = 0; spec_keys[k]; k++)
        if(!strcmp(lua_tostring(L, -2), spec_keys[k]))
          known = 1;
    }
    if(!known)
      luaL_error(L, "archive: unknown field '%s'",
                 lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) :
                 luaL_typename(L, -2));
    lua_pop(L, 1);
  }
  lua_getfield(L, t, "output");
  out = lua_tostring(L, -1);
  if(!out || !*out)
    luaL_error(L, "archive: 'output' (the archive's path) is required");
  job->output = xstrdup(L, out);
  lua_pop(L, 1);

  lua_getfield(L, t, "format");
  if(!lua_isnil(L, -1))
    fmt = lua_tostring(L, -1);
  if(fmt ? !strcmp(fmt, "zip") : ends_with(job->output, ".zip"))
    job->format = ARCHIVE_FMT_ZIP;
  else if(fmt ? (!strcmp(fmt, "tar.gz") || !strcmp(fmt, "tgz")) :
          (ends_with(job->output, ".tar.gz") ||
           ends_with(job->output, ".tgz")))
    job->format = ARCHIVE_FMT_TGZ;
  else
    luaL_error(L, "archive: %s: format '%s' is not tar.gz or zip",
               job->output, fmt ? fmt : "(from the name)");
  lua_pop(L, 1);

  job->mtime = spec_mtime(L, t, job->output);
  /* the original packs with --owner=1000 --group=1000 */
  job->uid = int_field(L, t, "owner", 1000, 0, 2097151, job->output);
  job->gid = int_field(L, t, "group", 1000, 0, 2097151, job->output);
  job->mode = int_field(L, t, "mode", 0755, 0, 07777, job->output);
  /* gzip's default level, as `tar czf` uses */
  job->level = int_field(L, t, "level", 6, 0, 9, job->output);

  lua_getfield(L, t, "checksums");
  if(!lua_isnil(L, -1)) {
    const char *c = lua_tostring(L, -1);
    if(!c || !*c)
      luaL_error(L, "archive: %s: 'checksums' must be a path",
                 job->output);
    job->checksums = xstrdup(L, c);
  }
  lua_pop(L, 1);

  lua_getfield(L, t, "files");
  if(!lua_istable(L, -1))
    luaL_error(L, "archive: %s: 'files' must be a list", job->output);
  n = (size_t)luaL_len(L, -1);
  if(!n)
    luaL_error(L, "archive: %s: 'files' is empty", job->output);
  job->members = calloc(n, sizeof(*job->members));
  if(!job->members)
    luaL_error(L, "archive: out of memory");
  for(i = 0; i < n; i++) {
    const char *path = NULL, *name = NULL, *slash;
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    if(lua_type(L, -1) == LUA_TSTRING)
      path = lua_tostring(L, -1);
    else if(lua_istable(L, -1)) {
      lua_getfield(L, -1, "path");
      path = lua_tostring(L, -1);
      lua_getfield(L, -2, "name");
      name = lua_tostring(L, -1);
      lua_pop(L, 2);    /* the strings stay alive in the table */
    }
    if(!path || !*path)
      luaL_error(L, "archive: %s: files[%d] needs a path", job->output,
                 (int)i + 1);
    if(!name) {
      slash = strrchr(path, '/');
      name = slash ? slash + 1 : path;
    }
    if(bad_name(name))
      luaL_error(L, "archive: %s: bad name '%s' inside the archive",
                 job->output, name);
    job->members[i].path = xstrdup(L, path);
    job->members[i].name = xstrdup(L, name);
    job->n_members = i + 1;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  /* sorted entries: the order of `files` does not change the bytes */
  qsort(job->members, n, sizeof(*job->members), cmp_member);
  for(i = 1; i < n; i++)
    if(!strcmp(job->members[i].name, job->members[i - 1].name))
      luaL_error(L, "archive: %s: two files named '%s'", job->output,
                 job->members[i].name);

  rnd = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL) ^
        (++counter * 40503u);
  snprintf(tmp, sizeof(tmp), "%s.tmp-%06x", job->output, rnd & 0xffffff);
  job->tmp = xstrdup(L, tmp);
  job->rc = -1;   /* not run yet */
}

static void push_hex(lua_State *L, const unsigned char sha[32])
{
  char hex[65];

  archive_hex(sha, hex);
  lua_pushstring(L, hex);
}

/* The result table of one job (placeholders under -n). */
static void push_result(lua_State *L, const struct archive_job *job,
                        int dry)
{
  size_t i;

  lua_createtable(L, 0, 6);
  lua_pushstring(L, job->output);
  lua_setfield(L, -2, "output");
  lua_pushinteger(L, (lua_Integer)job->out_size);
  lua_setfield(L, -2, "size");
  push_hex(L, job->sha);
  lua_setfield(L, -2, "sha256");
  if(job->checksums) {
    lua_pushstring(L, job->checksums);
    lua_setfield(L, -2, "checksums");
  }
  lua_pushboolean(L, dry);
  lua_setfield(L, -2, "dry_run");
  lua_createtable(L, (int)job->n_members, 0);
  for(i = 0; i < job->n_members; i++) {
    lua_createtable(L, 0, 4);
    lua_pushstring(L, job->members[i].name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, job->members[i].path);
    lua_setfield(L, -2, "path");
    lua_pushinteger(L, (lua_Integer)job->members[i].size);
    lua_setfield(L, -2, "size");
    push_hex(L, job->members[i].sha);
    lua_setfield(L, -2, "sha256");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "files");
}

/* Under -n: say what would be built and what the checksum file holds. */
static void plan(const struct archive_job *job)
{
  const char *base = strrchr(job->output, '/');
  struct stat st;
  size_t i;

  base = base ? base + 1 : job->output;
  host->log(host->ctx, VRUN_LOG_INFO,
            "archive: would create %s (%s, level %d, mtime %lld, "
            "owner %d:%d, mode %04o):", job->output,
            job->format == ARCHIVE_FMT_ZIP ? "zip" : "tar.gz", job->level,
            (long long)job->mtime, job->uid, job->gid, job->mode);
  for(i = 0; i < job->n_members; i++) {
    const struct archive_member *m = &job->members[i];
    if(!stat(m->path, &st))
      host->log(host->ctx, VRUN_LOG_INFO, "  %s <- %s (%lld bytes)",
                m->name, m->path, (long long)st.st_size);
    else
      host->log(host->ctx, VRUN_LOG_INFO, "  %s <- %s (not built yet)",
                m->name, m->path);
  }
  if(job->checksums) {
    host->log(host->ctx, VRUN_LOG_INFO, "archive: would write %s:",
              job->checksums);
    host->log(host->ctx, VRUN_LOG_INFO, "  <sha256>  %s", base);
    for(i = 0; i < job->n_members; i++)
      host->log(host->ctx, VRUN_LOG_INFO, "  <sha256>  %s",
                job->members[i].name);
  }
}

static void *worker(void *ud)
{
  struct batch *b = ud;

  for(;;) {
    struct archive_job *job;
    pthread_mutex_lock(&b->mu);
    if(b->next >= b->n || b->stop) {
      pthread_mutex_unlock(&b->mu);
      break;
    }
    job = &b->jobs[b->next++];
    pthread_mutex_unlock(&b->mu);
    if(archive_job_run(job, &b->stop, host))
      b->stop = 1;   /* fail fast: the others stop at their next block */
  }
  return NULL;
}

/* Write a checksum file atomically: temp file, then rename. Not through
** host->write_file: its fsync would make the kernel flush the archives
** just written (hundreds of MiB) first, and the archives themselves are
** not synced either (the original's tar and sha256sum sync nothing). */
static int write_small(const char *path, const char *data,
                       struct vrun_err *err)
{
  static unsigned counter;
  char tmp[PATH_MAX];
  size_t len = strlen(data);
  ssize_t w = -1;
  int fd, rc = VRUN_OK;

  snprintf(tmp, sizeof(tmp), "%s.tmp-%d-%u", path, (int)getpid(),
           ++counter);
  if(host->cleanup_add)
    host->cleanup_add(host->ctx, tmp);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if(fd >= 0) {
    w = write(fd, data, len);
    if(close(fd))
      w = -1;
  }
  if(fd < 0 || w != (ssize_t)len)
    rc = VRUN_SET_ERR(err, VRUN_EIO, "%.400s: %s", tmp, strerror(errno));
  else if(rename(tmp, path))
    rc = VRUN_SET_ERR(err, VRUN_EIO, "%.400s: %s", path, strerror(errno));
  if(rc)
    unlink(tmp);
  if(host->cleanup_remove)
    host->cleanup_remove(host->ctx, tmp);
  return rc;
}

/* Build every job of b (at most `threads` at once), then checksums.
** Pushes the list of results, or raises with the first failure. */
static int run_batch(lua_State *L, struct batch *b, int threads)
{
  pthread_t tid[MAX_JOBS];
  int started = 0, i, failed = -1;
  size_t j;
  struct vrun_err err;

  if(host->dry_run(host->ctx)) {
    lua_createtable(L, (int)b->n, 0);
    for(j = 0; j < b->n; j++) {
      plan(&b->jobs[j]);
      push_result(L, &b->jobs[j], 1);
      lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    return 1;
  }
  /* registered before the files exist, so Ctrl-C never leaves one */
  for(j = 0; j < b->n; j++)
    if(host->cleanup_add)
      host->cleanup_add(host->ctx, b->jobs[j].tmp);
  b->registered = 1;
  if(pthread_mutex_init(&b->mu, NULL))
    return luaL_error(L, "archive: cannot create a mutex");
  if(threads > (int)b->n)
    threads = (int)b->n;
  /* the calling thread is a worker too */
  for(i = 1; i < threads; i++) {
    if(pthread_create(&tid[started], NULL, worker, b))
      break;
    started++;
  }
  worker(b);
  for(i = 0; i < started; i++)
    pthread_join(tid[i], NULL);
  pthread_mutex_destroy(&b->mu);
  /* every temp file is renamed or removed by now */
  for(j = 0; j < b->n; j++)
    if(host->cleanup_remove)
      host->cleanup_remove(host->ctx, b->jobs[j].tmp);
  b->registered = 0;

  for(j = 0; j < b->n; j++) {
    struct archive_job *job = &b->jobs[j];
    if(job->rc > 0) {
      /* an interrupt seen by one job is not the first failure's cause */
      if(failed < 0 || (b->jobs[failed].rc == VRUN_EINTR &&
                        job->rc != VRUN_EINTR))
        failed = (int)j;
      continue;
    }
    if(job->rc < 0)
      continue;   /* never started: a sibling failed first */
    host->log(host->ctx, VRUN_LOG_INFO, "archive: %s (%llu bytes, %zu "
              "file%s)", job->output, (unsigned long long)job->out_size,
              job->n_members, job->n_members == 1 ? "" : "s");
    if(job->checksums) {
      char *sums = archive_job_sums(job);
      int rc;
      if(!sums)
        return luaL_error(L, "archive: out of memory");
      rc = write_small(job->checksums, sums, &err);
      free(sums);
      if(rc) {
        job->rc = rc;
        job->err = err;
        if(failed < 0)
          failed = (int)j;
        continue;
      }
      host->log(host->ctx, VRUN_LOG_INFO, "archive: %s", job->checksums);
    }
  }
  if(failed >= 0)
    return luaL_error(L, "archive: %s", b->jobs[failed].err.msg);
  lua_createtable(L, (int)b->n, 0);
  for(j = 0; j < b->n; j++) {
    push_result(L, &b->jobs[j], 0);
    lua_rawseti(L, -2, (lua_Integer)j + 1);
  }
  return 1;
}

/* archive.create{ output=, files=, ... } -> result */
static int l_create(lua_State *L)
{
  struct batch *b;

  luaL_checktype(L, 1, LUA_TTABLE);
  b = batch_new(L, 1);
  parse_spec(L, 1, &b->jobs[0]);
  run_batch(L, b, 1);
  lua_rawgeti(L, -1, 1);
  return 1;
}

static int online_cpus(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);

  return n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (int)n;
}

/* archive.create_many{ {spec}, {spec}, ..., jobs = N } -> { result... } */
static int l_create_many(lua_State *L)
{
  struct batch *b;
  size_t n, i;
  int threads;

  luaL_checktype(L, 1, LUA_TTABLE);
  n = (size_t)luaL_len(L, 1);
  threads = online_cpus();
  lua_getfield(L, 1, "jobs");
  if(!lua_isnil(L, -1)) {
    int isnum;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    if(!isnum || v < 1 || v > MAX_JOBS)
      return luaL_error(L, "archive: 'jobs' must be an integer from 1 to "
                        "%d", MAX_JOBS);
    threads = (int)v;
  }
  lua_pop(L, 1);
  b = batch_new(L, n);
  for(i = 0; i < n; i++) {
    size_t k;
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    parse_spec(L, lua_gettop(L), &b->jobs[i]);
    lua_pop(L, 1);
    for(k = 0; k < i; k++)
      if(!strcmp(b->jobs[k].output, b->jobs[i].output))
        return luaL_error(L, "archive: %s is listed twice",
                          b->jobs[i].output);
  }
  if(!n) {
    lua_newtable(L);
    return 1;
  }
  return run_batch(L, b, threads);
}

/* archive.sha256(path) -> lower-case hex (a read-only query: runs
** under -n too) */
static int l_sha256(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  unsigned char sha[32];
  struct vrun_err err;
  int rc;

  memset(&err, 0, sizeof(err));
  if(VRUN_HOST_HAS(host, sha256_file))
    rc = host->sha256_file(host->ctx, path, sha, &err);
  else
    rc = archive_sha256_file(path, sha, NULL, host, &err);
  if(rc)
    return luaL_error(L, "archive: %s", err.msg);
  push_hex(L, sha);
  return 1;
}

/* State of one verify call: what the members of the listed archives
** hash to, filled on first need. */
struct verify_state {
  lua_State *L;
  int members;    /* stack index of a name -> hex table */
};

static void member_cb(void *ud, const char *name, const unsigned char sha[32])
{
  struct verify_state *vs = ud;

  push_hex(vs->L, sha);
  lua_setfield(vs->L, vs->members, name);
}

static int is_archive_name(const char *s)
{
  return ends_with(s, ".tar.gz") || ends_with(s, ".tgz") ||
         ends_with(s, ".zip");
}

/* archive.verify(checksums_file) -> ok, { {name=, ok=, error=}... }
** A line is checked against the file of that name next to the checksum
** file; when there is none (the original deletes the raw binaries), it
** is checked against the member of that name in the archives listed. */
static int l_verify(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  char dir[PATH_MAX], full[PATH_MAX * 2], line[PATH_MAX + 80];
  const char *slash = strrchr(path, '/');
  struct verify_state vs;
  struct vrun_err err;
  int all_ok = 1, nres = 0, loaded = 0, lineno = 0, lines;
  FILE *f;

  if(slash)
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
  else
    snprintf(dir, sizeof(dir), ".");
  f = fopen(path, "r");
  if(!f)
    return luaL_error(L, "archive: %s: %s", path, strerror(errno));
  /* read all lines into a Lua table first: no FILE* across a raise */
  lua_newtable(L);
  lines = lua_gettop(L);
  while(fgets(line, sizeof(line), f)) {
    size_t len = strlen(line);
    while(len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = 0;
    if(len)
      lua_pushstring(L, line);
    else
      continue;
    lua_rawseti(L, lines, ++lineno);
  }
  fclose(f);
  for(int i = 1; i <= lineno; i++) {
    const char *l;
    size_t k;
    lua_rawgeti(L, lines, i);
    l = lua_tostring(L, -1);
    for(k = 0; k < 64; k++)
      if(!l[k] || !strchr("0123456789abcdefABCDEF", l[k]))
        break;
    if(k != 64 || l[64] != ' ' || (l[65] != ' ' && l[65] != '*') ||
       !l[66])
      return luaL_error(L, "archive: %s:%d: not a sha256sum line", path,
                        i);
    lua_pop(L, 1);
  }

  lua_newtable(L);
  vs.L = L;
  vs.members = lua_gettop(L);
  lua_newtable(L);    /* results */
  for(int i = 1; i <= lineno; i++) {
    const char *l, *name, *want = NULL, *why = NULL;
    unsigned char sha[32];
    char got[65];

    lua_rawgeti(L, lines, i);
    l = lua_tostring(L, -1);
    name = l + 66;
    snprintf(full, sizeof(full), "%s/%s", dir, name);
    memset(&err, 0, sizeof(err));
    if(!access(full, F_OK)) {
      if(archive_sha256_file(full, sha, NULL, host, &err))
        why = err.msg;
      else {
        archive_hex(sha, got);
        want = got;
      }
    }
    else {
      if(!loaded) {
        /* hash the members of every archive the file lists */
        for(int j = 1; j <= lineno; j++) {
          const char *an;
          lua_rawgeti(L, lines, j);
          an = lua_tostring(L, -1) + 66;
          snprintf(full, sizeof(full), "%s/%s", dir, an);
          if(is_archive_name(an) && !access(full, F_OK) &&
             archive_hash_members(full, member_cb, &vs, &err)) {
            lua_pop(L, 1);
            return luaL_error(L, "archive: %s", err.msg);
          }
          lua_pop(L, 1);
        }
        loaded = 1;
      }
      lua_getfield(L, vs.members, name);
      if(lua_isstring(L, -1)) {
        snprintf(got, sizeof(got), "%s", lua_tostring(L, -1));
        want = got;
      }
      else
        why = "missing";
      lua_pop(L, 1);
    }
    if(want && strncasecmp(want, l, 64))
      why = "mismatch";
    lua_createtable(L, 0, 3);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    lua_pushboolean(L, !why);
    lua_setfield(L, -2, "ok");
    if(why) {
      lua_pushstring(L, why);
      lua_setfield(L, -2, "error");
      all_ok = 0;
    }
    lua_rawseti(L, -3, ++nres);
    lua_pop(L, 1);    /* the line */
  }
  lua_pushboolean(L, all_ok);
  lua_insert(L, -2);
  return 2;
}

static const luaL_Reg archive_funcs[] = {
  {"create", l_create},
  {"create_many", l_create_many},
  {"sha256", l_sha256},
  {"verify", l_verify},
  {NULL, NULL}
};

static int archive_open(lua_State *L, const struct vrun_host *h,
                        struct vrun_err *err)
{
  if(!h || !h->log || !h->dry_run)
    return VRUN_SET_ERR(err, VRUN_ENOTSUP, "host lacks log/dry_run");
  host = h;
  if(luaL_newmetatable(L, BATCH_MT)) {
    lua_pushcfunction(L, batch_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, archive_funcs);
  return VRUN_OK;
}

const struct vrun_module vrun_module = {
  .abi = VRUN_ABI_VERSION,
  .name = "archive",
  .version = "1.0.0",
  .summary = "Reproducible tar.gz/zip archives and sha256sum files",
  .open = archive_open
};
