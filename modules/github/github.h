/*
** github.h: the github module's internal interfaces (not installed).
** SPDX-License-Identifier: MIT
*/
#ifndef GITHUB_H
#define GITHUB_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "vrun_module.h"

/* The host, kept from open(); it lives as long as the run. */
extern const struct vrun_host *github_host;

/* Scopes the release runbook asks of a classic token. */
#define GITHUB_SCOPES "read:org, repo, write:packages"

/* One client: a repository on one API host, with one token. */
struct github_client {
  char *api;          /* API base URL, no trailing slash */
  char *repo;         /* "owner/repo" */
  char *token;        /* NULL when unset */
  char *auth_hdr;     /* "Authorization: Bearer ..." or NULL */
  char ua_hdr[96];    /* "User-Agent: vrun/<version>" */
  int concurrency;    /* uploads at a time */
  long pace_ms;       /* least time between two mutating API calls */
  double last_write;  /* monotonic time of the last mutating call */
};

/* A local file meant to become one asset. */
struct github_file {
  char *path;
  char *name;
  char *content_type;
  uint64_t size;
};

/* What an upload run did, for the caller's summary. */
struct github_upload_stats {
  int uploaded;
  int skipped;
  int replaced;
  int rounds;
  uint64_t bytes;
};

/* Wait until GITHUB_PACE_MS has passed since the last mutating call. */
void github_pace(struct github_client *c);

/*
** Send one API request (body: JSON text or NULL). `mutating` paces the
** call after the previous write. `final` is a 0-terminated status list
** the host must not retry, or NULL. Returns the host's code; *resp is
** filled either way and must be freed with github_resp_free().
*/
int github_call(struct github_client *c, const char *method,
                const char *url, const char *body, int mutating,
                const int *final, struct vrun_http_response *resp,
                struct vrun_err *err);
void github_resp_free(struct vrun_http_response *resp);

/*
** Turn a failed request (transport code `rc`, or an unexpected status in
** *resp) into a message a user can act on, naming `what` and the repo.
** Returns the status code it stored in *err.
*/
int github_fail(struct github_client *c, int rc,
                const struct vrun_http_response *resp, const char *what,
                struct vrun_err *err);

/*
** GET every page of a list endpoint (following Link rel="next") and
** return one cJSON array holding all items, which the caller frees with
** cJSON_Delete. On error NULL, with *err filled.
*/
cJSON *github_get_all(struct github_client *c, const char *url,
                      const char *what, struct vrun_err *err);

/* Parse a response body as JSON; NULL with *err filled if it is not. */
cJSON *github_parse(const struct vrun_http_response *resp,
                    const char *what, struct vrun_err *err);

/* Percent-encode s for a URL query value. Returns malloc'd text the
** caller frees, or NULL when out of memory. */
char *github_urlencode(const char *s);

/* Fill *err (when not NULL) with code and message; returns code. */
int github_err(struct vrun_err *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;

/* malloc'd printf; NULL when out of memory. */
char *github_aprintf(const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 1, 2)))
#endif
  ;

/* The upload URL of a release: its upload_url without the RFC 6570
** "{?name,label}" part. malloc'd; NULL on error with *err filled. */
char *github_upload_base(const cJSON *release, struct vrun_err *err);

/* The upload URL a dry run shows for release `id` (no request made). */
char *github_upload_guess(struct github_client *c, long long id);

/*
** Make the release's assets match `files` (resumable, idempotent): skip
** an asset already uploaded with the same name and size, delete and
** re-send one in another state or of another size, upload the rest
** several at a time, and resolve a 422 already_exists or a failed
** upload (which may leave a "starter" asset) the same way, a bounded
** number of rounds. Returns VRUN_OK with *stats filled, or a code with
** *err filled.
*/
int github_upload_sync(struct github_client *c, const cJSON *release,
                       struct github_file *files, size_t nfiles,
                       struct github_upload_stats *stats,
                       struct vrun_err *err);

/* Seconds on the monotonic clock. */
double github_now(void);

#endif
