/*
** api.c: GitHub REST requests for the github module: headers, pacing,
** pagination and the error messages users read.
** SPDX-License-Identifier: MIT
*/
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "github.h"

/* A list is never longer than this many pages (100 items each). */
#define MAX_PAGES 1000

double github_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int github_err(struct vrun_err *err, int code, const char *fmt, ...)
{
  va_list ap;

  if(!err)
    return code;
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  return code;
}

char *github_aprintf(const char *fmt, ...)
{
  va_list ap;
  int n;
  char *s;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if(n < 0)
    return NULL;
  s = malloc((size_t)n + 1);
  if(!s)
    return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

char *github_urlencode(const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t len = strlen(s);
  char *out = malloc(len * 3 + 1);
  char *p = out;
  unsigned char ch;

  if(!out)
    return NULL;
  for(; *s; s++) {
    ch = (unsigned char)*s;
    if((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
       (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
       ch == '~')
      *p++ = (char)ch;
    else {
      *p++ = '%';
      *p++ = hex[ch >> 4];
      *p++ = hex[ch & 15];
    }
  }
  *p = '\0';
  return out;
}

/* Wait until pace_ms has passed since the last mutating call: GitHub
** asks for at least a second between writes (secondary rate limits). */
void github_pace(struct github_client *c)
{
  double due, now;
  struct timespec ts;

  if(c->pace_ms <= 0 || c->last_write <= 0)
    return;
  due = c->last_write + (double)c->pace_ms / 1000.0;
  now = github_now();
  while(now < due && !github_host->interrupted(github_host->ctx)) {
    double left = due - now;
    if(left > 0.1)
      left = 0.1;  /* stay responsive to Ctrl-C */
    ts.tv_sec = (time_t)left;
    ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
    now = github_now();
  }
}

int github_call(struct github_client *c, const char *method,
                const char *url, const char *body, int mutating,
                const int *final, struct vrun_http_response *resp,
                struct vrun_err *err)
{
  const char *hdrs[8];
  struct vrun_http_request req;
  int n = 0;
  int rc;

  hdrs[n++] = "Accept: application/vnd.github+json";
  hdrs[n++] = "X-GitHub-Api-Version: 2022-11-28";
  hdrs[n++] = c->ua_hdr;
  if(c->auth_hdr)
    hdrs[n++] = c->auth_hdr;
  if(body)
    hdrs[n++] = "Content-Type: application/json";
  hdrs[n] = NULL;

  memset(&req, 0, sizeof(req));
  req.size = sizeof(req);
  req.method = method;
  req.url = url;
  req.headers = hdrs;
  if(body) {
    req.body = body;
    req.body_len = strlen(body);
  }
  req.final_statuses = final;

  memset(resp, 0, sizeof(*resp));
  resp->size = sizeof(*resp);
  if(mutating)
    github_pace(c);
  github_host->log(github_host->ctx, VRUN_LOG_VERBOSE, "github: %s %s",
                   method, url);
  rc = github_host->http_perform(github_host->ctx, &req, resp, err);
  if(mutating)
    c->last_write = github_now();
  return rc;
}

void github_resp_free(struct vrun_http_response *resp)
{
  if(resp->body || resp->headers)
    github_host->http_response_free(resp);
  resp->body = NULL;
  resp->headers = NULL;
}

cJSON *github_parse(const struct vrun_http_response *resp,
                    const char *what, struct vrun_err *err)
{
  cJSON *j = NULL;

  if(resp->body && resp->body_len)
    j = cJSON_ParseWithLength(resp->body, resp->body_len);
  if(!j)
    github_err(err, VRUN_EHTTP,
                 "GitHub sent a reply that is not JSON while %s "
                 "(HTTP %ld)", what, resp->status);
  return j;
}

/* The "message" of an error body plus the codes of its "errors" list,
** into buf ("" when the body says nothing). */
static void body_message(const struct vrun_http_response *resp,
                         char *buf, size_t size)
{
  cJSON *j = NULL, *m, *errs, *e;
  size_t used;

  buf[0] = '\0';
  if(resp->body && resp->body_len)
    j = cJSON_ParseWithLength(resp->body, resp->body_len);
  if(!j)
    return;
  m = cJSON_GetObjectItemCaseSensitive(j, "message");
  if(cJSON_IsString(m))
    snprintf(buf, size, "%s", m->valuestring);
  errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
  if(cJSON_IsArray(errs)) {
    cJSON_ArrayForEach(e, errs) {
      cJSON *res = cJSON_GetObjectItemCaseSensitive(e, "resource");
      cJSON *fld = cJSON_GetObjectItemCaseSensitive(e, "field");
      cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
      cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
      used = strlen(buf);
      if(used + 4 >= size)
        break;
      snprintf(buf + used, size - used, "%s%s%s%s%s%s%s%s",
               used ? "; " : "",
               cJSON_IsString(res) ? res->valuestring : "",
               cJSON_IsString(fld) ? " " : "",
               cJSON_IsString(fld) ? fld->valuestring : "",
               cJSON_IsString(code) ? " " : "",
               cJSON_IsString(code) ? code->valuestring : "",
               cJSON_IsString(msg) ? ": " : "",
               cJSON_IsString(msg) ? msg->valuestring : "");
    }
  }
  cJSON_Delete(j);
}

/* Read a header as a number; -1 when absent or not a number. */
static long long header_num(const struct vrun_http_response *resp,
                            const char *name)
{
  char buf[64];
  char *end;
  long long v;

  if(github_host->http_header(resp, name, buf, sizeof(buf)) != VRUN_OK)
    return -1;
  errno = 0;
  v = strtoll(buf, &end, 10);
  if(errno || end == buf)
    return -1;
  return v;
}

/* Is this 403/429 a rate limit rather than a permission problem? */
static int is_rate_limit(const struct vrun_http_response *resp,
                         const char *msg)
{
  if(resp->status != 403 && resp->status != 429)
    return 0;
  if(resp->status == 429)
    return 1;
  if(header_num(resp, "x-ratelimit-remaining") == 0)
    return 1;
  if(header_num(resp, "retry-after") >= 0)
    return 1;
  return strstr(msg, "rate limit") != NULL;
}

static int rate_limit_msg(struct github_client *c,
                          const struct vrun_http_response *resp,
                          const char *what, const char *msg,
                          struct vrun_err *err)
{
  long long reset = header_num(resp, "x-ratelimit-reset");
  long long after = header_num(resp, "retry-after");
  long long limit = header_num(resp, "x-ratelimit-limit");
  char when[64];
  struct tm tm;
  time_t t;
  long long mins;

  if(header_num(resp, "x-ratelimit-remaining") == 0 && reset > 0) {
    t = (time_t)reset;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
    mins = (reset - (long long)time(NULL) + 59) / 60;
    if(mins < 0)
      mins = 0;
    if(limit > 0)
      return github_err(err, VRUN_ERATELIMIT,
                          "GitHub API rate limit exhausted while %s in "
                          "%s (%lld requests per hour used up); it resets "
                          "at %s (in %lld min)", what, c->repo, limit,
                          when, mins);
    return github_err(err, VRUN_ERATELIMIT,
                        "GitHub API rate limit exhausted while %s in %s; "
                        "it resets at %s (in %lld min)", what, c->repo,
                        when, mins);
  }
  if(after >= 0)
    return github_err(err, VRUN_ERATELIMIT,
                        "GitHub secondary rate limit hit while %s in %s "
                        "(%s); GitHub asks to wait %lld s before trying "
                        "again", what, c->repo, msg[0] ? msg : "no message",
                        after);
  return github_err(err, VRUN_ERATELIMIT,
                      "GitHub rate limit hit while %s in %s (%s); wait "
                      "at least a minute before trying again", what,
                      c->repo, msg[0] ? msg : "no message");
}

int github_fail(struct github_client *c, int rc,
                const struct vrun_http_response *resp, const char *what,
                struct vrun_err *err)
{
  char msg[300];
  char hostmsg[VRUN_ERR_MSG_SIZE];

  if(rc != VRUN_OK && (!resp || resp->status == 0)) {
    snprintf(hostmsg, sizeof(hostmsg), "%s", err->msg);
    return github_err(err, rc, "%s while %s in %s", hostmsg, what,
                        c->repo);
  }
  body_message(resp, msg, sizeof(msg));
  if(is_rate_limit(resp, msg))
    return rate_limit_msg(c, resp, what, msg, err);
  switch(resp->status) {
  case 401:
    return github_err(err, VRUN_EHTTP,
                        "GitHub refused the token while %s in %s (401 %s):"
                        " GITHUB_TOKEN is wrong, expired or revoked", what,
                        c->repo, msg[0] ? msg : "Unauthorized");
  case 403:
    return github_err(err, VRUN_EHTTP,
                        "GitHub answered 403 Forbidden while %s in %s (%s)"
                        ": the token may lack access to %s (it needs push "
                        "access: the 'repo' scope, or 'Contents: write' "
                        "for a fine-grained token)", what, c->repo,
                        msg[0] ? msg : "no message", c->repo);
  case 404:
    return github_err(err, VRUN_EHTTP,
                        "GitHub answered 404 Not Found while %s: %s does "
                        "not exist or the token may lack access to it "
                        "(GitHub says 404, not 403, for private "
                        "repositories)", what, c->repo);
  default:
    return github_err(err, VRUN_EHTTP,
                        "GitHub answered %ld while %s in %s%s%s",
                        resp->status, what, c->repo, msg[0] ? ": " : "",
                        msg);
  }
}

/* The URL of the Link header's rel="next", malloc'd; NULL if none. */
static char *next_link(const struct vrun_http_response *resp)
{
  char buf[4096];
  char *p, *lt, *gt, *end;

  if(github_host->http_header(resp, "link", buf, sizeof(buf)) != VRUN_OK)
    return NULL;
  p = buf;
  while(p && *p) {
    lt = strchr(p, '<');
    if(!lt)
      break;
    gt = strchr(lt, '>');
    if(!gt)
      break;
    end = strchr(gt, ',');
    if(end)
      *end = '\0';
    if(strstr(gt, "rel=\"next\"")) {
      *gt = '\0';
      return strdup(lt + 1);
    }
    p = end ? end + 1 : NULL;
  }
  return NULL;
}

cJSON *github_get_all(struct github_client *c, const char *url,
                      const char *what, struct vrun_err *err)
{
  struct vrun_http_response resp;
  cJSON *all = cJSON_CreateArray();
  cJSON *page, *item;
  char *cur = strdup(url);
  char *next;
  int rc, pages = 0;

  if(!all || !cur)
    goto oom;
  while(cur) {
    if(++pages > MAX_PAGES) {
      github_err(err, VRUN_EHTTP, "more than %d pages while %s in %s",
                   MAX_PAGES, what, c->repo);
      goto fail;
    }
    rc = github_call(c, "GET", cur, NULL, 0, NULL, &resp, err);
    if(rc != VRUN_OK || resp.status != 200) {
      github_fail(c, rc, &resp, what, err);
      github_resp_free(&resp);
      goto fail;
    }
    page = github_parse(&resp, what, err);
    if(!page || !cJSON_IsArray(page)) {
      if(page)
        github_err(err, VRUN_EHTTP, "GitHub sent no list while %s",
                     what);
      cJSON_Delete(page);
      github_resp_free(&resp);
      goto fail;
    }
    next = next_link(&resp);
    github_resp_free(&resp);
    /* move the items over instead of copying them */
    for(;;) {
      item = cJSON_DetachItemFromArray(page, 0);
      if(!item)
        break;
      cJSON_AddItemToArray(all, item);
    }
    cJSON_Delete(page);
    free(cur);
    cur = next;
  }
  return all;
oom:
  github_err(err, VRUN_ENOMEM, "out of memory while %s", what);
fail:
  free(cur);
  cJSON_Delete(all);
  return NULL;
}

char *github_upload_base(const cJSON *release, struct vrun_err *err)
{
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(release, "upload_url");
  char *s, *brace;

  if(!cJSON_IsString(u) || !u->valuestring[0]) {
    github_err(err, VRUN_EHTTP, "the release has no upload_url");
    return NULL;
  }
  s = strdup(u->valuestring);
  if(!s) {
    github_err(err, VRUN_ENOMEM, "out of memory");
    return NULL;
  }
  /* RFC 6570: drop the "{?name,label}" template, we add our query */
  brace = strchr(s, '{');
  if(brace)
    *brace = '\0';
  return s;
}

char *github_upload_guess(struct github_client *c, long long id)
{
  const char *api = c->api;
  size_t n = strlen(api);

  if(!strcmp(api, "https://api.github.com"))
    return github_aprintf("https://uploads.github.com/repos/%s/releases/"
                          "%lld/assets", c->repo, id);
  /* GitHub Enterprise Server: <host>/api/v3 -> <host>/api/uploads */
  if(n > 7 && !strcmp(api + n - 7, "/api/v3"))
    return github_aprintf("%.*s/api/uploads/repos/%s/releases/%lld/assets",
                          (int)(n - 7), api, c->repo, id);
  return github_aprintf("%s/repos/%s/releases/%lld/assets", api, c->repo,
                        id);
}
