/*
** http_policy.c: when the HTTP service retries and how long it waits.
** Part of lib/vrun-svc.so. Pure functions of a response, so the rules
** live in one place.
** SPDX-License-Identifier: MIT
**
** Retried: connection errors and 500/502/503/504 (exponential back-off
** with jitter, or the server's Retry-After), and rate limits: 429, or 403
** carrying Retry-After or x-ratelimit-remaining: 0 (wait as told). A
** status the caller lists as final is never retried.
*/
#define VRUN_SVC_LIBRARY
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"
#include "svc.h"

static double env_double(const char *name, double dflt, double lo)
{
  const char *s = getenv(name);
  char *end;
  double v;

  if(!s || !*s)
    return dflt;
  errno = 0;
  v = strtod(s, &end);
  if(errno || *end || v < lo)
    return dflt;
  return v;
}

void vrun_http_policy_init(struct vrun_http_policy *p)
{
  p->scale = env_double("VRUN_HTTP_TIME_SCALE", 1.0, 0.0);
  p->max_wait = env_double("VRUN_HTTP_MAX_WAIT", 900.0, 0.0);
  p->attempts = (int)env_double("VRUN_ATTEMPTS", 5.0, 1.0);
  if(p->attempts > 100)
    p->attempts = 100;
}

int vrun_http_header_find(const char *hdrs, size_t hlen, const char *name,
                          char *buf, size_t bufsize)
{
  const char *p, *end, *eol, *colon, *v;
  size_t nlen = strlen(name), vlen;

  if(!hdrs)
    return -1;
  end = hdrs + hlen;
  for(p = hdrs; p < end; p = eol + 1) {
    eol = memchr(p, '\n', (size_t)(end - p));
    if(!eol)
      eol = end;
    colon = memchr(p, ':', (size_t)(eol - p));
    if(!colon || (size_t)(colon - p) != nlen || strncasecmp(p, name, nlen))
      continue;
    v = colon + 1;
    while(v < eol && (*v == ' ' || *v == '\t'))
      v++;
    vlen = (size_t)(eol - v);
    while(vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
      vlen--;
    if(vlen >= bufsize)
      vlen = bufsize - 1;
    memcpy(buf, v, vlen);
    buf[vlen] = '\0';
    return 0;
  }
  return -1;
}

int vrun_http_header(const struct vrun_http_response *resp,
                     const char *name, char *buf, size_t bufsize)
{
  char tmp[1];

  if(!resp || !name)
    return VRUN_ENOENT;
  if(!buf || !bufsize) {
    buf = tmp;  /* presence test only */
    bufsize = sizeof(tmp);
  }
  return vrun_http_header_find(resp->headers, resp->headers_len, name, buf,
                               bufsize) ? VRUN_ENOENT : VRUN_OK;
}

/* Retry-After: delta seconds or an HTTP date. -1 when absent or bad. */
static double retry_after(const char *hdrs, size_t hlen)
{
  char v[128], *end;
  long secs;
  time_t when;

  if(vrun_http_header_find(hdrs, hlen, "Retry-After", v, sizeof(v)))
    return -1;
  errno = 0;
  secs = strtol(v, &end, 10);
  if(!errno && end != v && !*end && secs >= 0)
    return (double)secs;
  when = curl_getdate(v, NULL);
  if(when == (time_t)-1)
    return -1;
  return when > time(NULL) ? (double)(when - time(NULL)) : 0.0;
}

double vrun_http_reset_wait(const char *hdrs, size_t hlen)
{
  char v[64], *end;
  long long reset;
  time_t now;

  if(vrun_http_header_find(hdrs, hlen, "x-ratelimit-remaining", v,
                           sizeof(v)) || strcmp(v, "0"))
    return -1;
  if(vrun_http_header_find(hdrs, hlen, "x-ratelimit-reset", v, sizeof(v)))
    return -1;
  errno = 0;
  reset = strtoll(v, &end, 10);
  if(errno || end == v || *end)
    return -1;
  now = time(NULL);
  /* +1: the reset second itself may still be inside the window */
  return reset >= (long long)now ? (double)(reset - (long long)now) + 1.0
                                 : 1.0;
}

int vrun_http_judge(long status, const char *hdrs, size_t hlen,
                    const int *final, double *wait_s, char *why,
                    size_t whysize)
{
  double ra = retry_after(hdrs, hlen);
  double rw = vrun_http_reset_wait(hdrs, hlen);
  const int *f;

  *wait_s = -1;
  why[0] = '\0';
  for(f = final; f && *f; f++) {
    if(*f == status)
      return VRUN_HTTP_FINAL;
  }
  if(status == 429 || (status == 403 && (ra >= 0 || rw >= 0))) {
    *wait_s = ra >= 0 ? ra : rw;
    snprintf(why, whysize, "rate limited (%ld%s)", status,
             ra >= 0 ? ", Retry-After" :
             rw >= 0 ? ", x-ratelimit-reset" : "");
    return VRUN_HTTP_LIMITED;
  }
  if(status == 500 || status == 502 || status == 503 || status == 504) {
    *wait_s = ra;
    snprintf(why, whysize, "server error %ld%s", status,
             ra >= 0 ? ", Retry-After" : "");
    return VRUN_HTTP_RETRY;
  }
  return VRUN_HTTP_FINAL;
}

int vrun_http_transient(int code)
{
  switch(code) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_HTTP3:
  case CURLE_WEIRD_SERVER_REPLY:
    return 1;
  default:
    return 0;
  }
}

double vrun_http_backoff(int attempt)
{
  double d = 1.0;
  int i;

  for(i = 1; i < attempt && d < 60.0; i++)
    d *= 2.0;
  if(d > 60.0)
    d = 60.0;
  /* "equal jitter": half fixed, half random, so clients spread out but
  ** never retry at once. Jitter needs no cryptographic quality. */
  return d / 2.0 + d / 2.0 * ((double)(rand() % 1000) / 1000.0);
}
