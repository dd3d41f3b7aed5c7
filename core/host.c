/*
** host.c: the services table lent to every module (struct vrun_host).
** SPDX-License-Identifier: MIT
**
** Services that need libcurl or libcrypto are trampolines: the first call
** dlopens lib/vrun-svc.so and forwards, so a run that needs neither never
** pays for loading them. Everything else is served by the core directly.
*/
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "log.h"
#include "progress.h"
#include "proc.h"
#include "redact.h"
#include "svc.h"

#ifndef VRUN_VERSION
#define VRUN_VERSION "0.0.0"
#endif
#ifndef VRUN_PREFIX
#define VRUN_PREFIX "/usr/local"
#endif

static struct vrun_host host;
static struct vrun_ctx *host_ctx;

/* {====== the svc library, loaded on first use ====== */
static pthread_mutex_t svc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vrun_svc svc;
static int svc_state;            /* 0 untried, 1 loaded, -1 failed */
static char svc_error[VRUN_ERR_MSG_SIZE];

static int core_dry_run(struct vrun_ctx *ctx)
{
  return ctx ? ctx->dry_run : 0;
}

static int core_interrupted(struct vrun_ctx *ctx)
{
  return ctx ? (int)ctx->interrupted : 0;
}

static const struct vrun_svc_core svc_core = {
  VRUN_SVC_VERSION,
  VRUN_VERSION,
  vrun_log_v,
  core_dry_run,
  core_interrupted,
  vrun_cleanup_add,
  vrun_cleanup_remove,
  vrun_progress_start,
  vrun_progress_update,
  vrun_progress_set_total,
  vrun_progress_end
};

/* printf at the end of what buf already holds, truncating quietly. */
static void appendf(char *buf, size_t size, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t size, const char *fmt, ...)
{
  size_t used = strlen(buf);
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(buf + used, size - used, fmt, ap);
  va_end(ap);
}

/* Try one candidate; returns 1 when loaded. Appends failures to why. */
static int svc_try(const char *path, char *why, size_t whysize)
{
  void *h;
  vrun_svc_init_fn init;
  struct vrun_err e;

  if(access(path, F_OK))
    return 0;
  h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if(!h) {
    appendf(why, whysize, "; %s", dlerror());
    return 0;
  }
  init = (vrun_svc_init_fn)(uintptr_t)dlsym(h, VRUN_SVC_INIT_SYMBOL);
  memset(&e, 0, sizeof(e));
  if(!init || init(&svc_core, &svc, &e) != VRUN_OK) {
    appendf(why, whysize, "; %s: %s", path,
            init ? e.msg : "no " VRUN_SVC_INIT_SYMBOL);
    dlclose(h);
    return 0;
  }
  /* Kept open for the life of the process: curl owns threads and
  ** OpenSSL registers exit handlers. */
  return 1;
}

static int svc_load(struct vrun_err *err)
{
  char cand[3][4096], tried[1024] = "", why[1024] = "";
  const char *env = getenv("VRUN_SVC_LIB");
  int n = 0, i;

  pthread_mutex_lock(&svc_lock);
  if(svc_state == 0) {
    svc_state = -1;
    if(env && *env)
      snprintf(cand[n++], sizeof(cand[0]), "%s", env);
    else if(host_ctx && host_ctx->lib_dir) {
      snprintf(cand[n++], sizeof(cand[0]), "%s/lib/vrun-svc.so",
               host_ctx->lib_dir);
      snprintf(cand[n++], sizeof(cand[0]), "%s/vrun-svc.so",
               host_ctx->lib_dir);
    }
    if(!env || !*env)
      snprintf(cand[n++], sizeof(cand[0]), "%s",
               VRUN_PREFIX "/lib/vrun/vrun-svc.so");
    for(i = 0; i < n && svc_state < 0; i++) {
      appendf(tried, sizeof(tried), "%s%s", i ? ", " : "", cand[i]);
      if(svc_try(cand[i], why, sizeof(why)))
        svc_state = 1;
    }
    if(svc_state < 0) {
      svc_error[0] = '\0';
      appendf(svc_error, sizeof(svc_error), "HTTP and digest services are "
              "unavailable: cannot load vrun-svc.so (tried %s)%s", tried,
              why);
    }
  }
  pthread_mutex_unlock(&svc_lock);
  if(svc_state < 0)
    return VRUN_SET_ERR(err, VRUN_ENOTSUP, "%s", svc_error);
  return VRUN_OK;
}

static int t_http_perform(struct vrun_ctx *ctx,
                          const struct vrun_http_request *req,
                          struct vrun_http_response *resp,
                          struct vrun_err *err)
{
  int rc = svc_load(err);

  if(rc)
    return rc;
  return svc.http_perform(ctx, req, resp, err);
}

static int t_http_perform_many(struct vrun_ctx *ctx,
                               const struct vrun_http_request *const *reqs,
                               struct vrun_http_response *const *resps,
                               size_t n, int concurrency,
                               struct vrun_err *err)
{
  int rc = svc_load(err);

  if(rc)
    return rc;
  return svc.http_perform_many(ctx, reqs, resps, n, concurrency, err);
}

static int t_sha256_file(struct vrun_ctx *ctx, const char *path,
                         unsigned char out[32], struct vrun_err *err)
{
  int rc = svc_load(err);

  if(rc)
    return rc;
  return svc.sha256_file(ctx, path, out, err);
}

static int t_sha256(const void *data, size_t len, unsigned char out[32])
{
  int rc = svc_load(NULL);

  if(rc)
    return rc;
  return svc.sha256(data, len, out);
}

static int t_hmac(const char *algo, const void *key, size_t keylen,
                  const void *data, size_t len, unsigned char out[64],
                  unsigned int *outlen, struct vrun_err *err)
{
  int rc = svc_load(err);

  if(rc)
    return rc;
  return svc.hmac(algo, key, keylen, data, len, out, outlen, err);
}
/* }====== */

/* {====== services served by the core ====== */
static void h_log(struct vrun_ctx *ctx, int level, const char *fmt, ...)
{
  va_list ap;

  (void)ctx;
  va_start(ap, fmt);
  vrun_log_v(level, fmt, ap);
  va_end(ap);
}

static void h_secret(struct vrun_ctx *ctx, const char *value)
{
  (void)ctx;
  vrun_redact_add(value);
}

static const char *h_var_get(struct vrun_ctx *ctx, const char *name)
{
  if(!name)
    return NULL;
  return vrun_var_lookup(ctx, name);
}

static void h_cleanup_add(struct vrun_ctx *ctx, const char *path)
{
  (void)ctx;
  if(path)
    vrun_cleanup_add(path);
}

static void h_cleanup_remove(struct vrun_ctx *ctx, const char *path)
{
  (void)ctx;
  if(path)
    vrun_cleanup_remove(path);
}

static void h_http_response_free(struct vrun_http_response *resp)
{
  if(!resp)
    return;
  free(resp->body);
  free(resp->headers);
  resp->body = NULL;
  resp->headers = NULL;
  resp->body_len = 0;
  resp->headers_len = 0;
}

/* A response exists only if the library made it, so it is loaded. */
static int h_http_header(const struct vrun_http_response *resp,
                         const char *name, char *buf, size_t bufsize)
{
  if(!svc.http_header)
    return VRUN_ENOENT;
  return svc.http_header(resp, name, buf, bufsize);
}

static int h_run(struct vrun_ctx *ctx, const char *const *argv,
                 const char *cwd, int flags, char **out, size_t *outlen,
                 int *exit_status, struct vrun_err *err)
{
  return vrun_proc_run(ctx, argv, cwd, flags, out, outlen, exit_status,
                       err);
}

static int write_all(int fd, const char *p, size_t len)
{
  ssize_t n;

  while(len) {
    n = write(fd, p, len);
    if(n < 0) {
      if(errno == EINTR)
        continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int h_write_file(struct vrun_ctx *ctx, const char *path,
                        const void *data, size_t len, struct vrun_err *err)
{
  char tmp[4096];
  int fd, e;

  if(!path || (!data && len))
    return VRUN_SET_ERR(err, VRUN_EINVAL, "write_file: no path or data");
  if(ctx && ctx->dry_run)
    return VRUN_OK;
  if((size_t)snprintf(tmp, sizeof(tmp), "%s.vrun-XXXXXX", path) >=
     sizeof(tmp))
    return VRUN_SET_ERR(err, VRUN_EINVAL, "%s: path too long", path);
  fd = mkostemp(tmp, O_CLOEXEC);
  if(fd < 0)
    return VRUN_SET_ERR(err, VRUN_EIO, "cannot write %s: %s", path,
                        strerror(errno));
  vrun_cleanup_add(tmp);
  /* mkstemp makes 0600; a written file should get the usual mode. */
  {
    mode_t um = umask(022);
    umask(um);
    fchmod(fd, 0666 & ~um);
  }
  if(write_all(fd, data, len) || fsync(fd)) {
    e = errno;
    close(fd);
    goto fail;
  }
  if(close(fd)) {
    e = errno;
    goto fail;
  }
  if(rename(tmp, path)) {
    e = errno;
    goto fail;
  }
  vrun_cleanup_remove(tmp);
  return VRUN_OK;
fail:
  unlink(tmp);
  vrun_cleanup_remove(tmp);
  return VRUN_SET_ERR(err, VRUN_EIO, "cannot write %s: %s", path,
                      strerror(e));
}
/* }====== */

const struct vrun_host *vrun_host_get(struct vrun_ctx *ctx)
{
  if(!host.size) {
    host.abi = VRUN_ABI_VERSION;
    host.vrun_version = VRUN_VERSION;
    host.log = h_log;
    host.secret = h_secret;
    host.dry_run = core_dry_run;
    host.interrupted = core_interrupted;
    host.var_get = h_var_get;
    host.cleanup_add = h_cleanup_add;
    host.cleanup_remove = h_cleanup_remove;
    host.progress_start = vrun_progress_start;
    host.progress_update = vrun_progress_update;
    host.progress_end = vrun_progress_end;
    host.http_perform = t_http_perform;
    host.http_perform_many = t_http_perform_many;
    host.http_response_free = h_http_response_free;
    host.http_header = h_http_header;
    host.sha256_file = t_sha256_file;
    host.sha256 = t_sha256;
    host.hmac = t_hmac;
    host.run = h_run;
    host.write_file = h_write_file;
    host.free = free;
    host.size = (uint32_t)sizeof(host);
  }
  host.ctx = ctx;
  host_ctx = ctx;
  return &host;
}
