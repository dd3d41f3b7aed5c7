/*
** http.h: internals of the HTTP service shared by http.c (transfers) and
** http_policy.c (when to retry and how long to wait). Inside
** lib/vrun-svc.so only.
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_HTTP_H
#define VRUN_HTTP_H

#include <stddef.h>

/* Tunables read from the environment once per call. */
struct vrun_http_policy {
  double scale;        /* VRUN_HTTP_TIME_SCALE: every wait is multiplied */
  double max_wait;     /* VRUN_HTTP_MAX_WAIT: longest single wait, s */
  int attempts;        /* VRUN_ATTEMPTS: default max attempts */
};

/* What to do after one attempt. */
enum vrun_http_verdict {
  VRUN_HTTP_FINAL = 0,     /* keep this response */
  VRUN_HTTP_RETRY = 1,     /* transient: back off and try again */
  VRUN_HTTP_LIMITED = 2    /* rate limited: wait as told, try again */
};

/* Fill p from the environment, with defaults for unset or bad values. */
void vrun_http_policy_init(struct vrun_http_policy *p);

/*
** Judge a response: status plus its raw header block. `final` is the
** caller's 0-terminated list of statuses never retried (may be NULL).
** Sets *wait_s to the server-given wait for RETRY/LIMITED (Retry-After,
** or x-ratelimit-reset minus now), or -1 when the server named none, and
** writes a short reason into why.
*/
int vrun_http_judge(long status, const char *hdrs, size_t hlen,
                    const int *final, double *wait_s, char *why,
                    size_t whysize);

/* Non-zero when `code` (a CURLcode) is worth another attempt. */
int vrun_http_transient(int code);

/* Exponential back-off with jitter for retry number `attempt` (1 = the
** first retry), in seconds, before scaling. */
double vrun_http_backoff(int attempt);

/* Copy the value of header `name` from a raw block; 0 when found. */
int vrun_http_header_find(const char *hdrs, size_t hlen, const char *name,
                          char *buf, size_t bufsize);

/* Seconds until the rate-limit window resets, when the response says
** none are left (x-ratelimit-remaining: 0); -1 otherwise. */
double vrun_http_reset_wait(const char *hdrs, size_t hlen);

#endif
