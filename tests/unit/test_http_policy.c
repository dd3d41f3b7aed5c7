/*
** test_http_policy.c: the HTTP retry rules (core/http_policy.c), loaded
** from the svc library the build made, as host.c loads it.
** SPDX-License-Identifier: MIT
*/
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"
#include "tap.h"

static int (*judge)(long, const char *, size_t, const int *, double *,
                    char *, size_t);
static double (*backoff)(int);
static int (*transient)(int);
static int (*header_find)(const char *, size_t, const char *, char *,
                          size_t);
static void (*policy_init)(struct vrun_http_policy *);

static void *sym(void *h, const char *name)
{
  void *p = dlsym(h, name);

  if(!p) {
    printf("Bail out! %s missing\n", name);
    exit(1);
  }
  return p;
}

static int j(long status, const char *hdrs, const int *final, double *w,
             char *why)
{
  return judge(status, hdrs, hdrs ? strlen(hdrs) : 0, final, w, why, 160);
}

int main(void)
{
  const char *o = getenv("O");
  char path[4096], why[160], buf[64], date[64], hdrs[256];
  void *h;
  double w, d;
  int i, okrange = 1;
  static const int final[] = { 422, 503, 0 };
  struct vrun_http_policy pol;
  time_t later;

  snprintf(path, sizeof(path), "%s/lib/vrun-svc.so", o ? o : ".");
  h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if(!h) {
    printf("Bail out! %s\n", dlerror());
    return 1;
  }
  *(void **)&judge = sym(h, "vrun_http_judge");
  *(void **)&backoff = sym(h, "vrun_http_backoff");
  *(void **)&transient = sym(h, "vrun_http_transient");
  *(void **)&header_find = sym(h, "vrun_http_header_find");
  *(void **)&policy_init = sym(h, "vrun_http_policy_init");

  is_int(j(200, "HTTP/1.1 200 OK\r\n", NULL, &w, why), VRUN_HTTP_FINAL,
         "200 is final");
  is_int(j(404, NULL, NULL, &w, why), VRUN_HTTP_FINAL, "404 is final");
  is_int(j(422, NULL, NULL, &w, why), VRUN_HTTP_FINAL, "422 is final");
  for(i = 500; i <= 504; i++) {
    int want = i == 501 ? VRUN_HTTP_FINAL : VRUN_HTTP_RETRY;
    is_int(j(i, NULL, NULL, &w, why), want, "%d %s", i,
           want ? "is retried" : "is final");
  }
  is_int(j(503, NULL, final, &w, why), VRUN_HTTP_FINAL,
         "503 listed in final_statuses is final");
  is_int(j(503, "Retry-After: 7\r\n", NULL, &w, why), VRUN_HTTP_RETRY,
         "503 with Retry-After is retried");
  ok(w == 7.0, "... after the server's 7 s");
  is_int(j(429, NULL, NULL, &w, why), VRUN_HTTP_LIMITED,
         "429 is a rate limit");
  ok(w < 0, "429 without headers: back-off decides the wait");
  is_int(j(429, "retry-after: 12\r\n", NULL, &w, why), VRUN_HTTP_LIMITED,
         "429 + Retry-After (any case)");
  ok(w == 12.0, "... waits 12 s");
  is_str(why, "rate limited (429, Retry-After)", "... and says why");
  is_int(j(403, "Content-Type: text/plain\r\n", NULL, &w, why),
         VRUN_HTTP_FINAL, "a plain 403 is final");
  snprintf(hdrs, sizeof(hdrs), "x-ratelimit-remaining: 0\r\n"
           "x-ratelimit-reset: %lld\r\n", (long long)time(NULL) + 30);
  is_int(j(403, hdrs, NULL, &w, why), VRUN_HTTP_LIMITED,
         "403 + x-ratelimit-remaining: 0 is a rate limit");
  ok(w >= 29 && w <= 32, "... waits until x-ratelimit-reset (%.0f s)", w);
  snprintf(hdrs, sizeof(hdrs), "x-ratelimit-remaining: 5\r\n"
           "x-ratelimit-reset: %lld\r\n", (long long)time(NULL) + 30);
  is_int(j(403, hdrs, NULL, &w, why), VRUN_HTTP_FINAL,
         "403 with requests left is final");
  later = time(NULL) + 20;
  strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&later));
  snprintf(hdrs, sizeof(hdrs), "Retry-After: %s\r\n", date);
  is_int(j(429, hdrs, NULL, &w, why), VRUN_HTTP_LIMITED,
         "429 + Retry-After as an HTTP date");
  ok(w >= 18 && w <= 21, "... waits until that date (%.0f s)", w);
  is_int(j(422, "Retry-After: 5\r\n", final, &w, why), VRUN_HTTP_FINAL,
         "final_statuses beat Retry-After");

  for(i = 1; i <= 8; i++) {
    double base = i >= 7 ? 60 : (double)(1 << (i - 1));
    int k;
    for(k = 0; k < 50; k++) {
      d = backoff(i);
      if(d < base / 2 || d > base)
        okrange = 0;
    }
  }
  ok(okrange, "back-off doubles from 1 s, capped at 60 s, jittered in "
     "[half, full]");

  ok(transient(CURLE_COULDNT_CONNECT), "connection refused is retried");
  ok(transient(CURLE_PARTIAL_FILE), "a cut body is retried");
  ok(transient(CURLE_RECV_ERROR), "a reset is retried");
  ok(!transient(CURLE_URL_MALFORMAT), "a bad URL is not");
  ok(!transient(CURLE_READ_ERROR), "a local read error is not");

  ok(header_find("A: 1\r\nContent-Type:  text/x \r\n", 30, "content-type",
                 buf, sizeof(buf)) == 0 && !strcmp(buf, "text/x"),
     "header_find: case-insensitive, trimmed");
  ok(header_find("A: 1\r\n", 6, "B", buf, sizeof(buf)) != 0,
     "header_find: absent");

  setenv("VRUN_HTTP_TIME_SCALE", "0.01", 1);
  setenv("VRUN_HTTP_MAX_WAIT", "bogus", 1);
  setenv("VRUN_ATTEMPTS", "3", 1);
  policy_init(&pol);
  ok(pol.scale == 0.01 && pol.max_wait == 900 && pol.attempts == 3,
     "policy from the environment; a bad value keeps the default");
  return done_testing();
}
