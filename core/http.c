/*
** http.c: the HTTP service (host->http_perform, http_perform_many) on
** libcurl's multi interface. Part of lib/vrun-svc.so.
** SPDX-License-Identifier: MIT
**
** One engine serves both calls: each request is a transfer with its own
** attempts; at most `concurrency` run at once; a transfer waiting out a
** back-off or a rate limit just sits until its time comes. Bodies stream
** from files with pread (exact Content-Length, never chunked, never whole
** in memory); a 2xx body meant for a file goes to a temp file in the same
** folder, renamed into place when complete.
*/
#define VRUN_SVC_LIBRARY
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "svc.h"

#define POLL_MS 100             /* how often waits look at Ctrl-C */
#define UPLOAD_BUFFER (512 * 1024)

enum { X_WAITING, X_RUNNING, X_DONE };

struct xfer {
  struct vrun_http_request req;   /* the caller's, read up to its size */
  struct vrun_http_response *resp;
  struct vrun_ctx *ctx;
  CURL *easy;
  struct curl_slist *slist;
  int state;
  int attempts;
  int max_attempts;
  long long not_before;           /* monotonic ns */
  /* body from a file */
  int body_fd;
  curl_off_t body_size;
  curl_off_t body_off;
  int read_failed;
  /* response */
  char *mem;
  size_t mem_len, mem_cap;
  char *hdr;
  size_t hdr_len, hdr_cap;
  int sink;                       /* 0 undecided, 1 memory, 2 file */
  int out_fd;
  curl_off_t out_off;
  char tmp[4096];
  int write_failed;
  /* idle timeout */
  long long last_activity;
  curl_off_t last_ul, last_dl;
  int idle_fired;
  struct vrun_progress *prog;
  uint64_t moved;                 /* bytes this attempt, for batch bars */
  int rc;
  char error[256];
  char errbuf[CURL_ERROR_SIZE];
};

/* Rate-limit gate shared by every transfer of the process: once a
** response says the window is spent, nothing starts before it resets. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static long long gate_until;

static long long now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int grow(char **buf, size_t *cap, size_t need)
{
  size_t c = *cap ? *cap : 1024;
  char *nb;

  if(need <= *cap)
    return 0;
  while(c < need)
    c *= 2;
  nb = realloc(*buf, c);
  if(!nb)
    return -1;
  *buf = nb;
  *cap = c;
  return 0;
}

static const char *method_of(const struct xfer *x)
{
  return x->req.method && *x->req.method ? x->req.method : "GET";
}

static int has_body(const struct xfer *x)
{
  return x->req.body_file || x->req.body;
}

/* {====== curl callbacks ====== */
static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
  struct xfer *x = ud;
  size_t want = size * nitems;
  curl_off_t left = x->body_size - x->body_off;
  ssize_t n;

  if(left <= 0)
    return 0;
  if((curl_off_t)want > left)
    want = (size_t)left;
  do
    n = pread(x->body_fd, buf, want, (off_t)x->body_off);
  while(n < 0 && errno == EINTR);
  if(n <= 0) {
    /* the file shrank or failed under us: the promised length is a lie */
    x->read_failed = n < 0 ? errno : EIO;
    return CURL_READFUNC_ABORT;
  }
  x->body_off += n;
  return (size_t)n;
}

static int seek_cb(void *ud, curl_off_t offset, int origin)
{
  struct xfer *x = ud;

  if(origin != SEEK_SET || offset < 0 || offset > x->body_size)
    return CURL_SEEKFUNC_FAIL;
  x->body_off = offset;
  return CURL_SEEKFUNC_OK;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
  struct xfer *x = ud;
  size_t n = size * nitems;

  x->last_activity = now_ns();
  /* A new status line starts a new response (after 100, a redirect):
  ** keep only the last block, and let its body choose its own sink. */
  if(n > 5 && !strncmp(buf, "HTTP/", 5)) {
    x->hdr_len = 0;
    x->sink = 0;
    x->mem_len = 0;
    x->out_off = 0;
    if(x->out_fd >= 0 && ftruncate(x->out_fd, 0)) {
      x->write_failed = errno;
      return 0;
    }
  }
  if(grow(&x->hdr, &x->hdr_cap, x->hdr_len + n + 1))
    return 0;
  memcpy(x->hdr + x->hdr_len, buf, n);
  x->hdr_len += n;
  x->hdr[x->hdr_len] = '\0';
  return n;
}

static int open_temp(struct xfer *x)
{
  int n = snprintf(x->tmp, sizeof(x->tmp), "%s.vrun-XXXXXX",
                   x->req.response_file);
  mode_t um;

  if(n < 0 || (size_t)n >= sizeof(x->tmp))
    return -1;
  x->out_fd = mkostemp(x->tmp, O_CLOEXEC);
  if(x->out_fd < 0) {
    x->tmp[0] = '\0';
    return -1;
  }
  /* mkstemp makes 0600; a downloaded file gets the usual mode */
  um = umask(022);
  umask(um);
  if(fchmod(x->out_fd, 0666 & ~um)) {
    /* keeps 0600: safe, merely stricter */
  }
  vrun_svc_core->cleanup_add(x->tmp);
  return 0;
}

static size_t write_cb(char *buf, size_t size, size_t nitems, void *ud)
{
  struct xfer *x = ud;
  size_t n = size * nitems, off = 0;
  long status = 0;
  ssize_t w;

  x->last_activity = now_ns();
  if(!x->sink) {
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    x->sink = 1;
    if(x->req.response_file && status >= 200 && status < 300) {
      if(x->out_fd < 0 && open_temp(x)) {
        x->write_failed = errno ? errno : EIO;
        return 0;
      }
      x->sink = 2;
    }
  }
  if(x->sink == 1) {
    if(grow(&x->mem, &x->mem_cap, x->mem_len + n + 1)) {
      x->write_failed = ENOMEM;
      return 0;
    }
    memcpy(x->mem + x->mem_len, buf, n);
    x->mem_len += n;
    x->mem[x->mem_len] = '\0';
    return n;
  }
  while(off < n) {
    w = pwrite(x->out_fd, buf + off, n - off, (off_t)x->out_off);
    if(w < 0 && errno == EINTR)
      continue;
    if(w < 0) {
      x->write_failed = errno;
      return 0;
    }
    off += (size_t)w;
    x->out_off += w;
  }
  return n;
}

static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
  struct xfer *x = ud;
  long long now = now_ns();

  (void)ultotal;
  if(ulnow != x->last_ul || dlnow != x->last_dl) {
    x->last_ul = ulnow;
    x->last_dl = dlnow;
    x->last_activity = now;
  }
  else if(now - x->last_activity > x->req.idle_timeout_ms * 1000000LL) {
    x->idle_fired = 1;
    return 1;
  }
  x->moved = (uint64_t)(has_body(x) ? ulnow : dlnow);
  if(x->prog) {
    if(has_body(x))
      vrun_svc_core->progress_update(x->prog, (uint64_t)ulnow);
    else {
      if(dltotal > 0)
        vrun_svc_core->progress_set_total(x->prog, (uint64_t)dltotal);
      vrun_svc_core->progress_update(x->prog, (uint64_t)dlnow);
    }
  }
  if(vrun_svc_core->interrupted(x->ctx))
    return 1;
  return 0;
}
/* }====== */

/* {====== one attempt ====== */
static int setup_easy(struct xfer *x, struct vrun_err *err)
{
  CURL *e = x->easy;
  char ua[64];
  const char *m = method_of(x);
  const char *const *h;
  struct curl_slist *s = NULL, *t;
  int has_ct = 0;

  curl_easy_reset(e);
  snprintf(ua, sizeof(ua), "vrun/%s", vrun_svc_core->vrun_version);
  for(h = x->req.headers; h && *h; h++) {
    if(!strncasecmp(*h, "Content-Type:", 13))
      has_ct = 1;
    t = curl_slist_append(s, *h);
    if(!t)
      goto oom;
    s = t;
  }
  /* No "Expect: 100-continue" round trip before a large body. */
  t = curl_slist_append(s, "Expect:");
  if(!t)
    goto oom;
  s = t;
  if(has_body(x) && !has_ct) {
    /* else curl would say application/x-www-form-urlencoded */
    t = curl_slist_append(s, "Content-Type: application/octet-stream");
    if(!t)
      goto oom;
    s = t;
  }
  curl_slist_free_all(x->slist);
  x->slist = s;
  curl_easy_setopt(e, CURLOPT_URL, x->req.url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, ua);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->slist);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, x->req.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  if(!strcmp(m, "HEAD"))
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  else if(has_body(x) || strcmp(m, "GET")) {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    if(x->req.body_file) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, x->body_size);
      curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
      curl_easy_setopt(e, CURLOPT_READDATA, x);
      curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_cb);
      curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
      curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)UPLOAD_BUFFER);
    }
    else {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                       (curl_off_t)x->req.body_len);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS,
                       x->req.body ? x->req.body : "");
    }
    if(strcmp(m, "POST"))
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
  }
  /* a fresh attempt starts from a clean slate */
  x->body_off = 0;
  x->read_failed = 0;
  x->mem_len = 0;
  x->hdr_len = 0;
  x->sink = 0;
  x->out_off = 0;
  x->write_failed = 0;
  x->idle_fired = 0;
  x->last_ul = x->last_dl = 0;
  x->moved = 0;
  x->last_activity = now_ns();
  x->errbuf[0] = '\0';
  if(x->out_fd >= 0 && ftruncate(x->out_fd, 0))
    return VRUN_SET_ERR(err, VRUN_EIO, "cannot write %s: %s",
                        x->req.response_file, strerror(errno));
  return VRUN_OK;
oom:
  curl_slist_free_all(s);
  return VRUN_SET_ERR(err, VRUN_ENOMEM, "http: out of memory");
}

/* Drop the temp file of a response that will not be kept. */
static void drop_temp(struct xfer *x)
{
  if(x->out_fd >= 0) {
    close(x->out_fd);
    x->out_fd = -1;
  }
  if(x->tmp[0]) {
    unlink(x->tmp);
    vrun_svc_core->cleanup_remove(x->tmp);
    x->tmp[0] = '\0';
  }
}

static void finish(struct xfer *x, int rc, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void finish(struct xfer *x, int rc, const char *fmt, ...)
{
  va_list ap;

  x->state = X_DONE;
  x->rc = rc;
  if(fmt) {
    va_start(ap, fmt);
    vsnprintf(x->error, sizeof(x->error), fmt, ap);
    va_end(ap);
  }
  if(x->prog) {
    vrun_svc_core->progress_end(x->prog, rc == VRUN_OK &&
                                x->resp->status < 400);
    x->prog = NULL;
  }
}

/* Hand the final response to the caller's struct. */
static void deliver(struct xfer *x)
{
  struct vrun_http_response *r = x->resp;
  long status = r->status;

  if(x->rc == VRUN_OK && x->sink == 2 && status >= 200 && status < 300) {
    int failed = fsync(x->out_fd);
    int e = errno;

    if(close(x->out_fd) && !failed) {
      failed = -1;
      e = errno;
    }
    x->out_fd = -1;
    if(!failed && rename(x->tmp, x->req.response_file)) {
      failed = -1;
      e = errno;
    }
    if(failed) {
      x->rc = VRUN_EIO;
      snprintf(x->error, sizeof(x->error), "cannot write %s: %s",
               x->req.response_file, strerror(e));
      drop_temp(x);
    }
    else {
      vrun_svc_core->cleanup_remove(x->tmp);
      x->tmp[0] = '\0';
    }
  }
  else if(x->req.response_file && x->rc == VRUN_OK && status >= 200 &&
          status < 300 && x->sink != 2) {
    /* an empty 2xx body still makes an (empty) file */
    x->rc = VRUN_EIO;
    snprintf(x->error, sizeof(x->error), "cannot write %s",
             x->req.response_file);
    if(open_temp(x) == 0) {
      close(x->out_fd);
      x->out_fd = -1;
      if(rename(x->tmp, x->req.response_file) == 0)
        x->rc = VRUN_OK;
      else
        unlink(x->tmp);
      vrun_svc_core->cleanup_remove(x->tmp);
      x->tmp[0] = '\0';
    }
  }
  drop_temp(x);
  if(!x->mem && grow(&x->mem, &x->mem_cap, 1) == 0)
    x->mem[0] = '\0';
  if(!x->hdr && grow(&x->hdr, &x->hdr_cap, 1) == 0)
    x->hdr[0] = '\0';
  r->body = x->mem;
  r->body_len = x->mem ? x->mem_len : 0;
  r->headers = x->hdr;
  r->headers_len = x->hdr ? x->hdr_len : 0;
  x->mem = x->hdr = NULL;
  r->attempts = x->attempts;
  r->rc = x->rc;
  snprintf(r->error, sizeof(r->error), "%s", x->rc ? x->error : "");
}

/* Decide what follows an attempt that just ended with curl code cc. */
static void judge(struct xfer *x, CURLcode cc,
                  const struct vrun_http_policy *pol)
{
  const char *m = method_of(x);
  long status = 0;
  double wait = -1, server_wait;
  char why[320];
  int verdict;

  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  x->resp->status = cc == CURLE_OK ? status : 0;
  if(cc == CURLE_OK) {
    server_wait = vrun_http_reset_wait(x->hdr, x->hdr_len);
    if(server_wait > 0) {
      long long until = now_ns() +
        (long long)(server_wait * pol->scale * 1e9);
      pthread_mutex_lock(&gate_lock);
      if(until > gate_until)
        gate_until = until;
      pthread_mutex_unlock(&gate_lock);
    }
  }
  if(vrun_svc_core->interrupted(x->ctx)) {
    finish(x, VRUN_EINTR, "%s %s: interrupted", m, x->req.url);
    return;
  }
  if(x->write_failed) {
    finish(x, VRUN_EIO, "%s %s: cannot write %s: %s", m, x->req.url,
           x->req.response_file ? x->req.response_file : "the response",
           strerror(x->write_failed));
    return;
  }
  if(x->read_failed) {
    finish(x, VRUN_EIO, "%s %s: cannot read %s: %s", m, x->req.url,
           x->req.body_file, strerror(x->read_failed));
    return;
  }
  if(cc != CURLE_OK) {
    if(x->idle_fired)
      snprintf(why, sizeof(why), "no data for %ld ms",
               x->req.idle_timeout_ms);
    else
      snprintf(why, sizeof(why), "%s",
               x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
    verdict = (x->idle_fired || vrun_http_transient(cc)) ?
              VRUN_HTTP_RETRY : VRUN_HTTP_FINAL;
    if(verdict == VRUN_HTTP_FINAL) {
      finish(x, VRUN_ENET, "%s %s: %s", m, x->req.url, why);
      return;
    }
  }
  else {
    verdict = vrun_http_judge(status, x->hdr, x->hdr_len,
                              x->req.final_statuses, &wait, why,
                              sizeof(why));
    vrun_svc_log(VRUN_LOG_VERBOSE, "http: %s %s: %ld (attempt %d of %d)",
                 m, x->req.url, status, x->attempts, x->max_attempts);
    if(verdict == VRUN_HTTP_FINAL) {
      finish(x, VRUN_OK, NULL);
      return;
    }
  }
  if(x->attempts >= x->max_attempts) {
    if(verdict == VRUN_HTTP_LIMITED)
      finish(x, VRUN_ERATELIMIT, "%s %s: still %s after %d attempts", m,
             x->req.url, why, x->attempts);
    else if(cc != CURLE_OK)
      finish(x, VRUN_ENET, "%s %s: %s (after %d attempts)", m, x->req.url,
             why, x->attempts);
    else
      finish(x, VRUN_OK, NULL);   /* the caller reads the 5xx status */
    return;
  }
  if(wait < 0)
    wait = vrun_http_backoff(x->attempts);
  wait *= pol->scale;
  if(wait > pol->max_wait) {
    if(verdict == VRUN_HTTP_LIMITED) {
      finish(x, VRUN_ERATELIMIT, "%s %s: %s for %g s, longer than "
             "VRUN_HTTP_MAX_WAIT (%g s)", m, x->req.url, why, wait,
             pol->max_wait);
      return;
    }
    wait = pol->max_wait;
  }
  vrun_svc_log(verdict == VRUN_HTTP_LIMITED && wait >= 5 ? VRUN_LOG_INFO :
               VRUN_LOG_VERBOSE, "http: %s %s: %s; retrying in %.3f s "
               "(attempt %d of %d)", m, x->req.url, why, wait,
               x->attempts + 1, x->max_attempts);
  x->state = X_WAITING;
  x->not_before = now_ns() + (long long)(wait * 1e9);
}
/* }====== */

/* {====== the engine ====== */
static int prepare(struct xfer *x, struct vrun_ctx *ctx,
                   const struct vrun_http_request *req,
                   struct vrun_http_response *resp,
                   const struct vrun_http_policy *pol, struct vrun_err *err)
{
  size_t n;
  struct stat sb;

  memset(x, 0, sizeof(*x));
  x->body_fd = -1;
  x->out_fd = -1;
  x->ctx = ctx;
  x->resp = resp;
  if(!req || !resp || req->size < offsetof(struct vrun_http_request, url) +
     sizeof(req->url))
    return VRUN_SET_ERR(err, VRUN_EINVAL, "http: bad request struct");
  n = req->size < sizeof(x->req) ? req->size : sizeof(x->req);
  memcpy(&x->req, req, n);
  {
    uint32_t rsize = resp->size ? resp->size :
                     (uint32_t)sizeof(struct vrun_http_response);
    if(rsize > sizeof(*resp))
      rsize = (uint32_t)sizeof(*resp);
    memset(resp, 0, rsize);
    resp->size = rsize;
  }
  if(!x->req.url || !*x->req.url)
    return VRUN_SET_ERR(err, VRUN_EINVAL, "http: no URL");
  if(x->req.connect_timeout_ms <= 0)
    x->req.connect_timeout_ms = 10000;
  if(x->req.idle_timeout_ms <= 0)
    x->req.idle_timeout_ms = 60000;
  x->max_attempts = x->req.max_attempts > 0 ? x->req.max_attempts :
                    pol->attempts;
  if(x->req.start_after_ms > 0)
    x->not_before = now_ns() + (long long)x->req.start_after_ms * 1000000LL;
  if(x->req.body_file) {
    x->body_fd = open(x->req.body_file, O_RDONLY | O_CLOEXEC);
    if(x->body_fd < 0 || fstat(x->body_fd, &sb))
      return VRUN_SET_ERR(err, errno == ENOENT ? VRUN_ENOENT : VRUN_EIO,
                          "cannot read %s: %s", x->req.body_file,
                          strerror(errno));
    x->body_size = (curl_off_t)sb.st_size;
  }
  x->easy = curl_easy_init();
  if(!x->easy)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "http: out of memory");
  return VRUN_OK;
}

static void release(struct xfer *x)
{
  if(x->prog)
    vrun_svc_core->progress_end(x->prog, 0);
  x->prog = NULL;
  drop_temp(x);
  if(x->easy)
    curl_easy_cleanup(x->easy);
  curl_slist_free_all(x->slist);
  if(x->body_fd >= 0)
    close(x->body_fd);
  free(x->mem);
  free(x->hdr);
}

/* Under -n a request that changes something is described, not sent. */
static int dry_skip(struct xfer *x)
{
  const char *m = method_of(x);

  if(!vrun_svc_core->dry_run(x->ctx) || !strcmp(m, "GET") ||
     !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS"))
    return 0;
  if(x->req.body_file)
    vrun_svc_log(VRUN_LOG_INFO, "http (dry run): %s %s (%lld bytes from %s)",
                 m, x->req.url, (long long)x->body_size, x->req.body_file);
  else
    vrun_svc_log(VRUN_LOG_INFO, "http (dry run): %s %s (%zu bytes)", m,
                 x->req.url, x->req.body ? x->req.body_len : 0);
  finish(x, VRUN_OK, NULL);
  return 1;
}

static long long gate_now(void)
{
  long long g;

  pthread_mutex_lock(&gate_lock);
  g = gate_until;
  pthread_mutex_unlock(&gate_lock);
  return g;
}

/*
** Several transfers with progress labels share one display: a line per
** file every 10% (or four bars fighting over one line) would bury the
** output. Returns NULL when no request asked for progress.
*/
static struct vrun_progress *batch_start(struct vrun_ctx *ctx,
                                         struct xfer *xs, size_t n)
{
  char label[64];
  uint64_t total = 0;
  size_t i, k = 0, bodies = 0;

  for(i = 0; i < n; i++) {
    if(xs[i].state == X_DONE || !xs[i].req.progress_label)
      continue;
    k++;
    bodies += has_body(&xs[i]) ? 1 : 0;
    total += (uint64_t)xs[i].body_size;
  }
  if(!k)
    return NULL;
  snprintf(label, sizeof(label), "%zu %s", k,
           bodies == k ? "uploads" : "transfers");
  return vrun_svc_core->progress_start(ctx, label, total);
}

static void batch_update(struct vrun_progress *b, struct xfer *xs,
                         size_t n)
{
  uint64_t sum = 0;
  size_t i;

  for(i = 0; i < n; i++) {
    if(xs[i].req.progress_label)
      sum += xs[i].moved;
  }
  vrun_svc_core->progress_update(b, sum);
}

static int engine(struct vrun_ctx *ctx, struct xfer *xs, size_t n,
                  int concurrency, const struct vrun_http_policy *pol,
                  struct vrun_err *err)
{
  struct vrun_progress *batch = NULL;
  int all_ok = 1;
  CURLM *multi = curl_multi_init();
  size_t i, done = 0;
  int running = 0, still = 0, queued, rc;
  long long now, next, gate;
  long timeout;
  CURLMsg *msg;
  char *priv;
  int progressed;
  struct xfer *x;
  struct vrun_err e;

  if(!multi)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "http: out of memory");
  for(i = 0; i < n; i++) {
    if(xs[i].state == X_DONE || dry_skip(&xs[i]))
      done++;
  }
  if(n > 1)
    batch = batch_start(ctx, xs, n);
  while(done < n) {
    now = now_ns();
    gate = gate_now();
    next = -1;
    if(vrun_svc_core->interrupted(ctx)) {
      for(i = 0; i < n; i++) {
        x = &xs[i];
        if(x->state == X_RUNNING)
          curl_multi_remove_handle(multi, x->easy);
        if(x->state != X_DONE) {
          finish(x, VRUN_EINTR, "%s %s: interrupted", method_of(x),
                 x->req.url);
          done++;
        }
      }
      break;
    }
    for(i = 0; i < n && running < concurrency; i++) {
      x = &xs[i];
      if(x->state != X_WAITING)
        continue;
      if(gate > now && (double)(gate - now) / 1e9 > pol->max_wait) {
        finish(x, VRUN_ERATELIMIT, "%s %s: the rate limit resets in %.0f s, "
               "longer than VRUN_HTTP_MAX_WAIT (%g s)", method_of(x),
               x->req.url, (double)(gate - now) / 1e9, pol->max_wait);
        done++;
        continue;
      }
      if(x->not_before > now || gate > now) {
        long long t = x->not_before > gate ? x->not_before : gate;
        if(next < 0 || t < next)
          next = t;
        continue;
      }
      memset(&e, 0, sizeof(e));
      rc = setup_easy(x, &e);
      if(rc) {
        finish(x, rc, "%s", e.msg);
        done++;
        continue;
      }
      if(x->req.progress_label && !x->prog && n == 1)
        x->prog = vrun_svc_core->progress_start(ctx, x->req.progress_label,
                                                (uint64_t)x->body_size);
      x->attempts++;
      x->state = X_RUNNING;
      curl_multi_add_handle(multi, x->easy);
      running++;
    }
    if(running)
      curl_multi_perform(multi, &still);
    progressed = 0;
    for(;;) {
      msg = curl_multi_info_read(multi, &queued);
      if(!msg)
        break;
      if(msg->msg != CURLMSG_DONE)
        continue;
      priv = NULL;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      x = (struct xfer *)(void *)priv;
      progressed = 1;
      rc = (int)msg->data.result;
      curl_multi_remove_handle(multi, x->easy);
      running--;
      judge(x, (CURLcode)rc, pol);
      if(x->state == X_DONE)
        done++;
    }
    if(batch)
      batch_update(batch, xs, n);
    if(done >= n)
      break;
    timeout = progressed ? 0 : POLL_MS;
    if(next >= 0 && (next - now) / 1000000 < timeout)
      timeout = (long)((next - now) / 1000000) + 1;
    if(running)
      curl_multi_poll(multi, NULL, 0, (int)timeout, NULL);
    else if(timeout > 0) {
      struct timespec ts = { timeout / 1000, (timeout % 1000) * 1000000L };
      nanosleep(&ts, NULL);
    }
  }
  curl_multi_cleanup(multi);
  if(batch) {
    for(i = 0; i < n; i++) {
      if(xs[i].rc != VRUN_OK || xs[i].resp->status >= 400)
        all_ok = 0;
    }
    batch_update(batch, xs, n);
    vrun_svc_core->progress_end(batch, all_ok);
  }
  return VRUN_OK;
}

int vrun_http_perform_many(struct vrun_ctx *ctx,
                           const struct vrun_http_request *const *reqs,
                           struct vrun_http_response *const *resps,
                           size_t n, int concurrency,
                           struct vrun_err *err)
{
  struct vrun_http_policy pol;
  struct xfer *xs;
  struct vrun_err e;
  size_t i;
  int rc;

  if(!n)
    return VRUN_OK;
  if(!reqs || !resps)
    return VRUN_SET_ERR(err, VRUN_EINVAL, "http: no requests");
  vrun_http_policy_init(&pol);
  xs = calloc(n, sizeof(*xs));
  if(!xs)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "http: out of memory");
  for(i = 0; i < n; i++) {
    memset(&e, 0, sizeof(e));
    rc = prepare(&xs[i], ctx, reqs[i], resps[i], &pol, &e);
    if(rc && resps[i]) {
      xs[i].resp = resps[i];
      finish(&xs[i], rc, "%s", e.msg);
    }
    else if(rc) {
      for(; i + 1 > 0; i--)
        release(&xs[i]);
      free(xs);
      return VRUN_SET_ERR(err, VRUN_EINVAL, "http: request %zu has no "
                          "response struct", i);
    }
  }
  if(concurrency < 1)
    concurrency = 1;
  rc = engine(ctx, xs, n, concurrency, &pol, err);
  for(i = 0; i < n; i++) {
    if(rc == VRUN_OK && xs[i].resp)
      deliver(&xs[i]);
    release(&xs[i]);
  }
  free(xs);
  return rc;
}

int vrun_http_perform(struct vrun_ctx *ctx,
                      const struct vrun_http_request *req,
                      struct vrun_http_response *resp,
                      struct vrun_err *err)
{
  struct vrun_http_request const *reqs[1] = { req };
  struct vrun_http_response *resps[1] = { resp };
  int rc;

  if(!resp)
    return VRUN_SET_ERR(err, VRUN_EINVAL, "http: no response struct");
  rc = vrun_http_perform_many(ctx, reqs, resps, 1, 1, err);
  if(rc)
    return rc;
  if(resp->rc)
    return VRUN_SET_ERR(err, resp->rc, "%s", resp->error);
  return VRUN_OK;
}
/* }====== */
