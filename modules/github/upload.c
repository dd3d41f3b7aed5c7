/*
** upload.c: resumable, idempotent upload of a release's assets, several
** at a time through the host's HTTP service.
** SPDX-License-Identifier: MIT
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "github.h"

/* After this many list-fix-upload rounds, give up and tell the user to
** run the same command again. */
#define MAX_ROUNDS 5

enum fstate { F_TODO, F_DONE };

struct fslot {
  enum fstate st;
  int replaced;             /* counted once in stats->replaced */
  char why[200];            /* last failure, for the final message */
};

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long long jnum(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

static const cJSON *find_asset(const cJSON *assets, const char *name)
{
  const cJSON *a;

  cJSON_ArrayForEach(a, assets) {
    const char *n = jstr(a, "name");
    if(n && !strcmp(n, name))
      return a;
  }
  return NULL;
}

/* Does a 422 body say "already_exists"? */
static int already_exists(const struct vrun_http_response *r)
{
  return r->body && strstr(r->body, "\"already_exists\"") != NULL;
}

static int delete_asset(struct github_client *c, long long id,
                        const char *name, struct vrun_err *err)
{
  struct vrun_http_response resp;
  char *url = github_aprintf("%s/repos/%s/releases/assets/%lld", c->api,
                             c->repo, id);
  char what[300];
  int rc;

  if(!url)
    return github_err(err, VRUN_ENOMEM, "out of memory");
  snprintf(what, sizeof(what), "deleting asset %s (id %lld)", name, id);
  rc = github_call(c, "DELETE", url, NULL, 1, NULL, &resp, err);
  free(url);
  /* 404: somebody else removed it meanwhile, which is what we wanted */
  if(rc == VRUN_OK && (resp.status == 204 || resp.status == 404)) {
    github_resp_free(&resp);
    return VRUN_OK;
  }
  rc = github_fail(c, rc, &resp, what, err);
  github_resp_free(&resp);
  return rc;
}

static int list_assets(struct github_client *c, long long id,
                       cJSON **out, struct vrun_err *err)
{
  char *url = github_aprintf("%s/repos/%s/releases/%lld/assets"
                             "?per_page=100", c->api, c->repo, id);
  if(!url)
    return github_err(err, VRUN_ENOMEM, "out of memory");
  *out = github_get_all(c, url, "listing release assets", err);
  free(url);
  return *out ? VRUN_OK : err->code;
}

/* Look at what the release holds: mark files already there as done,
** delete the ones in the way. */
static int reconcile(struct github_client *c, long long id, int round,
                     struct github_file *files, struct fslot *slots,
                     size_t n, struct github_upload_stats *stats,
                     struct vrun_err *err)
{
  cJSON *assets = NULL;
  const cJSON *a;
  const char *state;
  long long size;
  size_t i;
  int rc;

  rc = list_assets(c, id, &assets, err);
  if(rc)
    return rc;
  for(i = 0; i < n; i++) {
    if(slots[i].st == F_DONE)
      continue;
    a = find_asset(assets, files[i].name);
    if(!a)
      continue;
    state = jstr(a, "state");
    size = jnum(a, "size");
    if(state && !strcmp(state, "uploaded") &&
       size == (long long)files[i].size) {
      slots[i].st = F_DONE;
      if(round == 1)
        stats->skipped++;
      else {
        /* GitHub failed the request but kept the file */
        stats->uploaded++;
        stats->bytes += files[i].size;
      }
      github_host->log(github_host->ctx, VRUN_LOG_VERBOSE,
                       "github: %s already uploaded (%llu bytes), skipped",
                       files[i].name, (unsigned long long)files[i].size);
      continue;
    }
    github_host->log(github_host->ctx, VRUN_LOG_INFO,
                     "github: replacing %s (state %s, %lld bytes; local "
                     "file %llu bytes)", files[i].name,
                     state ? state : "?", size,
                     (unsigned long long)files[i].size);
    rc = delete_asset(c, jnum(a, "id"), files[i].name, err);
    if(rc) {
      cJSON_Delete(assets);
      return rc;
    }
    if(!slots[i].replaced) {
      slots[i].replaced = 1;
      stats->replaced++;
    }
  }
  cJSON_Delete(assets);
  return VRUN_OK;
}

/* Send every file still to do, `c->concurrency` at a time, and sort the
** answers: done, to resolve in the next round, or fatal. */
static int send_round(struct github_client *c, const char *base,
                      struct github_file *files, struct fslot *slots,
                      size_t n, struct github_upload_stats *stats,
                      size_t *limited, struct vrun_err *err)
{
  static const int final[] = { 500, 502, 503, 504, 0 };
  struct vrun_http_request *reqs = NULL;
  struct vrun_http_response *resps = NULL;
  const struct vrun_http_request **rp = NULL;
  struct vrun_http_response **sp = NULL;
  char **urls = NULL, **cts = NULL;
  size_t *idx = NULL;
  const char *hdrs_common[4];
  const char ***hdrs = NULL;
  size_t i, k, m = 0, failed = 0;
  int rc = VRUN_OK;

  for(i = 0; i < n; i++)
    if(slots[i].st != F_DONE)
      m++;
  if(!m)
    return VRUN_OK;
  reqs = calloc(m, sizeof(*reqs));
  resps = calloc(m, sizeof(*resps));
  rp = calloc(m, sizeof(*rp));
  sp = calloc(m, sizeof(*sp));
  urls = calloc(m, sizeof(*urls));
  cts = calloc(m, sizeof(*cts));
  idx = calloc(m, sizeof(*idx));
  hdrs = calloc(m, sizeof(*hdrs));
  if(!reqs || !resps || !rp || !sp || !urls || !cts || !idx || !hdrs) {
    rc = github_err(err, VRUN_ENOMEM, "out of memory");
    goto done;
  }
  hdrs_common[0] = "Accept: application/vnd.github+json";
  hdrs_common[1] = "X-GitHub-Api-Version: 2022-11-28";
  hdrs_common[2] = c->ua_hdr;
  hdrs_common[3] = c->auth_hdr;

  for(i = 0, k = 0; i < n; i++) {
    char *enc;
    if(slots[i].st == F_DONE)
      continue;
    idx[k] = i;
    enc = github_urlencode(files[i].name);
    urls[k] = enc ? github_aprintf("%s?name=%s", base, enc) : NULL;
    free(enc);
    cts[k] = github_aprintf("Content-Type: %s", files[i].content_type);
    hdrs[k] = calloc(7, sizeof(char *));
    if(!urls[k] || !cts[k] || !hdrs[k]) {
      rc = github_err(err, VRUN_ENOMEM, "out of memory");
      goto done;
    }
    memcpy(hdrs[k], hdrs_common, sizeof(hdrs_common));
    hdrs[k][4] = cts[k];
    if(!c->auth_hdr) {
      hdrs[k][3] = cts[k];
      hdrs[k][4] = NULL;
    }
    reqs[k].size = sizeof(reqs[k]);
    reqs[k].method = "POST";
    reqs[k].url = urls[k];
    reqs[k].headers = hdrs[k];
    reqs[k].body_file = files[i].path;
    reqs[k].final_statuses = final;
    reqs[k].progress_label = files[i].name;
    /* Uploads are writes too: one starts per pace interval, while up to
    ** `concurrency` of them are in flight. */
    reqs[k].start_after_ms = c->pace_ms * (long)k;
    resps[k].size = sizeof(resps[k]);
    rp[k] = &reqs[k];
    sp[k] = &resps[k];
    github_host->log(github_host->ctx, VRUN_LOG_VERBOSE,
                     "github: POST %s (%s, %llu bytes)", urls[k],
                     files[i].path, (unsigned long long)files[i].size);
    k++;
  }

  github_pace(c);
  rc = github_host->http_perform_many(github_host->ctx, rp, sp, m,
                                      c->concurrency > 0 ?
                                      c->concurrency : 4, err);
  c->last_write = github_now();
  if(rc)
    goto done;

  for(k = 0; k < m && rc == VRUN_OK; k++) {
    struct vrun_http_response *r = &resps[k];
    struct fslot *s = &slots[idx[k]];
    struct github_file *f = &files[idx[k]];
    char what[300];

    snprintf(what, sizeof(what), "uploading %s", f->name);
    if(r->rc == VRUN_OK && r->status == 201) {
      cJSON *a = github_parse(r, what, err);
      const char *got = a ? jstr(a, "name") : NULL;
      if(got && strcmp(got, f->name))
        github_host->log(github_host->ctx, VRUN_LOG_WARN,
                         "github: GitHub renamed asset %s to %s", f->name,
                         got);
      cJSON_Delete(a);
      s->st = F_DONE;
      stats->uploaded++;
      stats->bytes += f->size;
      github_host->log(github_host->ctx, VRUN_LOG_VERBOSE,
                       "github: uploaded %s (%llu bytes)", f->name,
                       (unsigned long long)f->size);
    }
    else if(r->rc == VRUN_OK && r->status == 422 && already_exists(r))
      snprintf(s->why, sizeof(s->why), "422 already_exists");
    else if(r->rc == VRUN_OK && r->status >= 500) {
      snprintf(s->why, sizeof(s->why), "HTTP %ld", r->status);
      failed++;
      github_host->log(github_host->ctx, VRUN_LOG_VERBOSE,
                       "github: uploading %s failed with HTTP %ld",
                       f->name, r->status);
    }
    else if(r->rc == VRUN_OK && (r->status == 403 || r->status == 429) &&
            r->body && strstr(r->body, "secondary rate limit")) {
      /* no Retry-After, so the HTTP service gave it back: the contract
      ** says wait at least a minute, which the caller does */
      snprintf(s->why, sizeof(s->why), "secondary rate limit");
      (*limited)++;
    }
    else if(r->rc == VRUN_ENET || r->rc == VRUN_EIO) {
      snprintf(s->why, sizeof(s->why), "%s", r->error);
      failed++;
      github_host->log(github_host->ctx, VRUN_LOG_VERBOSE,
                       "github: uploading %s failed (%s)", f->name,
                       r->error);
    }
    else if(r->rc == VRUN_OK && r->status == 422 && r->body &&
            strstr(r->body, "immutable"))
      rc = github_err(err, VRUN_EHTTP,
                        "cannot upload %s: the release in %s is an "
                        "immutable published release, its assets can no "
                        "longer change (make a new tag and release)",
                        f->name, c->repo);
    else if(r->rc == VRUN_EINTR)
      rc = github_err(err, VRUN_EINTR, "interrupted while uploading %s to "
                      "%s; run the same command again to finish", f->name,
                      c->repo);
    else {
      if(r->rc != VRUN_OK && r->status == 0)
        github_err(err, r->rc, "%s", r->error);
      rc = github_fail(c, r->rc, r, what, err);
    }
  }

  if(rc == VRUN_OK && failed)
    github_host->log(github_host->ctx, VRUN_LOG_WARN,
                     "github: %zu of %zu uploads failed (a 5xx or a "
                     "dropped connection); checking what arrived and "
                     "sending the rest again", failed, m);
done:
  for(k = 0; resps && k < m; k++)
    github_resp_free(&resps[k]);
  for(k = 0; hdrs && k < m; k++)
    free(hdrs[k]);
  for(k = 0; urls && k < m; k++)
    free(urls[k]);
  for(k = 0; cts && k < m; k++)
    free(cts[k]);
  free(hdrs);
  free(urls);
  free(cts);
  free(idx);
  free(sp);
  free(rp);
  free(resps);
  free(reqs);
  return rc;
}

/* Sleep `secs` (scaled like the HTTP service's waits), waking up for
** Ctrl-C. */
static void nap(double secs)
{
  const char *v = github_host->var_get(github_host->ctx,
                                       "VRUN_HTTP_TIME_SCALE");
  double due, left;
  struct timespec ts;
  char *end;

  if(v && *v) {
    double scale = strtod(v, &end);
    if(!*end && scale >= 0)
      secs *= scale;
  }
  due = github_now() + secs;
  while(!github_host->interrupted(github_host->ctx)) {
    left = due - github_now();
    if(left <= 0)
      break;
    if(left > 0.1)
      left = 0.1;
    ts.tv_sec = 0;
    ts.tv_nsec = (long)(left * 1e9);
    nanosleep(&ts, NULL);
  }
}

int github_upload_sync(struct github_client *c, const cJSON *release,
                       struct github_file *files, size_t nfiles,
                       struct github_upload_stats *stats,
                       struct vrun_err *err)
{
  struct fslot *slots;
  long long id = jnum(release, "id");
  char *base = NULL;
  size_t i, left, limited;
  int round, rc = VRUN_OK;
  char list[VRUN_ERR_MSG_SIZE];

  memset(stats, 0, sizeof(*stats));
  slots = calloc(nfiles ? nfiles : 1, sizeof(*slots));
  if(!slots)
    return github_err(err, VRUN_ENOMEM, "out of memory");
  base = github_upload_base(release, err);
  if(!base) {
    free(slots);
    return err->code;
  }
  for(round = 1; round <= MAX_ROUNDS; round++) {
    stats->rounds = round;
    if(github_host->interrupted(github_host->ctx)) {
      rc = github_err(err, VRUN_EINTR, "interrupted");
      break;
    }
    rc = reconcile(c, id, round, files, slots, nfiles, stats, err);
    if(rc)
      break;
    limited = 0;
    rc = send_round(c, base, files, slots, nfiles, stats, &limited, err);
    if(rc)
      break;
    if(limited && round < MAX_ROUNDS) {
      github_host->log(github_host->ctx, VRUN_LOG_WARN,
                       "github: GitHub's secondary rate limit stopped %zu "
                       "uploads; waiting 60 s before sending them again",
                       limited);
      nap(60.0);
    }
    for(i = 0, left = 0; i < nfiles; i++)
      if(slots[i].st != F_DONE)
        left++;
    if(!left)
      break;
  }
  if(rc == VRUN_OK) {
    size_t shown = 0;
    list[0] = '\0';
    for(i = 0, left = 0; i < nfiles; i++) {
      size_t used = strlen(list);
      if(slots[i].st == F_DONE)
        continue;
      left++;
      if(shown < 3 && used + 8 < sizeof(list)) {
        snprintf(list + used, sizeof(list) - used, "%s%s (%s)",
                 used ? ", " : "", files[i].name, slots[i].why);
        shown++;
      }
    }
    if(left)
      rc = github_err(err, VRUN_EHTTP,
                      "%zu assets could not be uploaded to %s after %d "
                      "rounds; run the same command again to finish: "
                      "%s%s", left, c->repo, MAX_ROUNDS, list,
                      left > shown ? ", ..." : "");
  }
  free(base);
  free(slots);
  return rc;
}
