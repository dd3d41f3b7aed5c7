/*
** registry.c: the OCI distribution API client of the docker module:
** image references, auth (anonymous, basic, bearer tokens), manifests and
** blobs. Every request goes through the host's HTTP service.
** SPDX-License-Identifier: MIT
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "docker.h"
#include "cache.h"

#define ACCEPT_ALL "Accept: " DOCKER_MT_OCI_INDEX ", " DOCKER_MT_D_LIST \
  ", " DOCKER_MT_OCI_MANIFEST ", " DOCKER_MT_D_MANIFEST
#define MAX_HDRS 8

/* {====== references ====== */

static int valid_repo(const char *s)
{
  if(!*s)
    return 0;
  for(; *s; s++) {
    if(!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
         *s == '.' || *s == '_' || *s == '-' || *s == '/'))
      return 0;
  }
  return 1;
}

int docker_ref_parse(const char *s, struct docker_ref *ref,
                     struct vrun_err *err)
{
  char *buf = strdup(s);
  char *name, *at, *slash, *colon;

  memset(ref, 0, sizeof(*ref));
  if(!buf)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  at = strchr(buf, '@');
  if(at) {
    *at = 0;
    ref->digest = strdup(at + 1);
  }
  slash = strrchr(buf, '/');
  colon = strrchr(slash ? slash : buf, ':');
  if(colon) {
    *colon = 0;
    ref->tag = strdup(colon + 1);
  }
  name = buf;
  slash = strchr(name, '/');
  /* Docker's rule: a first component with '.' or ':' or "localhost"
  ** names a registry; anything else is a Docker Hub repository */
  if(slash && (memchr(name, '.', (size_t)(slash - name)) ||
               memchr(name, ':', (size_t)(slash - name)) ||
               !strncmp(name, "localhost/", 10))) {
    *slash = 0;
    ref->registry = strdup(name);
    ref->repo = strdup(slash + 1);
  }
  else {
    ref->registry = strdup("docker.io");
    ref->repo = slash ? strdup(name) : docker_aprintf("library/%s", name);
  }
  free(buf);
  if(!ref->registry || !ref->repo) {
    docker_ref_free(ref);
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  }
  if(!valid_repo(ref->repo) || (ref->tag && !*ref->tag) ||
     (ref->digest && strncmp(ref->digest, "sha256:", 7))) {
    docker_ref_free(ref);
    return VRUN_SET_ERR(err, VRUN_EINVAL, "invalid image reference '%s'",
                        s);
  }
  return VRUN_OK;
}

void docker_ref_free(struct docker_ref *ref)
{
  free(ref->registry);
  free(ref->repo);
  free(ref->tag);
  free(ref->digest);
  memset(ref, 0, sizeof(*ref));
}
/* }====== */

/* {====== sessions and auth ====== */

/* Plain HTTP for loopback registries (as Docker does) and the listed
** insecure ones; HTTPS for every other. */
static int plain_http(struct docker_ctx *dc, const char *registry)
{
  size_t i, hl;
  const char *colon;

  for(i = 0; i < dc->n_insecure; i++)
    if(!strcmp(dc->insecure[i], registry))
      return 1;
  if(registry[0] == '[')
    return !strncmp(registry, "[::1]", 5);
  colon = strchr(registry, ':');
  hl = colon ? (size_t)(colon - registry) : strlen(registry);
  if(hl == 9 && !strncmp(registry, "localhost", 9))
    return 1;
  return !strncmp(registry, "127.", 4);
}

struct docker_session *docker_session_new(struct docker_ctx *dc,
                                          const char *registry,
                                          const char *repo, int push)
{
  struct docker_session *s = calloc(1, sizeof(*s));
  const char *host = registry;

  if(!s)
    return NULL;
  if(!strcmp(registry, "docker.io") || !strcmp(registry, "index.docker.io"))
    host = "registry-1.docker.io";
  s->dc = dc;
  s->push = push;
  s->registry = strdup(registry);
  s->repo = strdup(repo);
  s->base = docker_aprintf("%s://%s",
                           plain_http(dc, registry) ? "http" : "https",
                           host);
  if(!s->registry || !s->repo || !s->base) {
    docker_session_free(s);
    return NULL;
  }
  return s;
}

void docker_session_free(struct docker_session *s)
{
  if(!s)
    return;
  free(s->registry);
  free(s->base);
  free(s->repo);
  free(s->pull_from);
  free(s->auth);
  free(s);
}

static char *b64(const char *in)
{
  static const char tab[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(in), i, o = 0;
  const unsigned char *p = (const unsigned char *)in;
  char *out = malloc(4 * ((n + 2) / 3) + 1);

  if(!out)
    return NULL;
  for(i = 0; i + 2 < n; i += 3) {
    out[o++] = tab[p[i] >> 2];
    out[o++] = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
    out[o++] = tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
    out[o++] = tab[p[i + 2] & 63];
  }
  if(i < n) {
    out[o++] = tab[p[i] >> 2];
    if(i + 1 < n) {
      out[o++] = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
      out[o++] = tab[(p[i + 1] & 15) << 2];
    }
    else
      out[o++] = tab[(p[i] & 3) << 4];
    while(o % 4)
      out[o++] = '=';
  }
  out[o] = 0;
  return out;
}

/* "auth" of ~/.docker/config.json for this registry, malloc'd, or NULL. */
static char *config_auth(const char *registry)
{
  const char *dir = getenv("DOCKER_CONFIG");
  const char *home = getenv("HOME");
  char *path, *text = NULL, *res = NULL;
  FILE *f;
  long sz;
  cJSON *root, *auths, *e;
  const char *keys[4];
  size_t i;
  char k1[300], k2[300];

  if(dir)
    path = docker_aprintf("%s/config.json", dir);
  else if(home)
    path = docker_aprintf("%s/.docker/config.json", home);
  else
    return NULL;
  if(!path)
    return NULL;
  f = fopen(path, "rb");
  free(path);
  if(!f)
    return NULL;
  if(!fseek(f, 0, SEEK_END) && (sz = ftell(f)) > 0 && sz < (1L << 24) &&
     !fseek(f, 0, SEEK_SET)) {
    text = malloc((size_t)sz + 1);
    if(text && fread(text, 1, (size_t)sz, f) == (size_t)sz)
      text[sz] = 0;
    else {
      free(text);
      text = NULL;
    }
  }
  fclose(f);
  if(!text)
    return NULL;
  root = cJSON_Parse(text);
  free(text);
  auths = cJSON_GetObjectItemCaseSensitive(root, "auths");
  snprintf(k1, sizeof(k1), "https://%s", registry);
  snprintf(k2, sizeof(k2), "http://%s", registry);
  keys[0] = registry;
  keys[1] = k1;
  keys[2] = k2;
  keys[3] = strcmp(registry, "docker.io") ? NULL :
    "https://index.docker.io/v1/";
  for(i = 0; i < 4 && !res; i++) {
    if(!keys[i])
      continue;
    e = cJSON_GetObjectItemCaseSensitive(auths, keys[i]);
    e = cJSON_GetObjectItemCaseSensitive(e, "auth");
    if(cJSON_IsString(e) && e->valuestring[0])
      res = strdup(e->valuestring);
  }
  cJSON_Delete(root);
  return res;
}

/* base64("user:password") for the registry, malloc'd and registered as a
** secret, or NULL when no credentials are configured. */
static char *credentials(struct docker_session *s)
{
  const struct vrun_host *h = s->dc->host;
  const char *user = h->var_get(s->dc->vc, "DOCKER_USERNAME");
  const char *pass = h->var_get(s->dc->vc, "DOCKER_PASSWORD");
  char *pair, *enc;

  if(user && *user && pass && *pass) {
    h->secret(s->dc->vc, pass);
    pair = docker_aprintf("%s:%s", user, pass);
    if(!pair)
      return NULL;
    enc = b64(pair);
    free(pair);
  }
  else
    enc = config_auth(s->registry);
  if(enc)
    h->secret(s->dc->vc, enc);
  return enc;
}

/* Find `key` in a WWW-Authenticate challenge's parameters and copy its
** value (quotes and escapes removed) to buf. Returns 0 when found. */
static int challenge_param(const char *p, const char *key, char *buf,
                           size_t size)
{
  size_t kl = strlen(key), o;

  while(*p) {
    while(*p == ' ' || *p == ',')
      p++;
    if(!strncasecmp(p, key, kl) && p[kl] == '=') {
      p += kl + 1;
      o = 0;
      if(*p == '"') {
        for(p++; *p && *p != '"'; p++) {
          if(*p == '\\' && p[1])
            p++;
          if(o + 1 < size)
            buf[o++] = *p;
        }
      }
      else {
        for(; *p && *p != ',' && *p != ' '; p++)
          if(o + 1 < size)
            buf[o++] = *p;
      }
      buf[o] = 0;
      return 0;
    }
    /* skip this parameter */
    while(*p && *p != '=' && *p != ',')
      p++;
    if(*p == '=') {
      p++;
      if(*p == '"') {
        for(p++; *p && *p != '"'; p++)
          if(*p == '\\' && p[1])
            p++;
        if(*p)
          p++;
      }
      else
        while(*p && *p != ',')
          p++;
    }
  }
  return -1;
}

/* Append the URL-encoded form of s to buf. */
static void urlenc(char *buf, size_t size, const char *s)
{
  size_t o = strlen(buf);

  for(; *s && o + 4 < size; s++) {
    if(isalnum((unsigned char)*s) || strchr("-_.~", *s))
      buf[o++] = *s;
    else
      o += (size_t)snprintf(buf + o, size - o, "%%%02X",
                            (unsigned char)*s);
  }
  buf[o] = 0;
}

static void add_scope(char *url, size_t size, const char *repo,
                      const char *actions)
{
  char scope[600];

  snprintf(scope, sizeof(scope), "repository:%s:%s", repo, actions);
  snprintf(url + strlen(url), size - strlen(url), "&scope=");
  urlenc(url, size, scope);
}

/* Get a bearer token for the challenge and set s->auth. */
static int fetch_token(struct docker_session *s, const char *challenge,
                       struct vrun_err *err)
{
  const struct vrun_host *h = s->dc->host;
  char realm[1024], service[256], url[4096];
  char *cred = credentials(s), *basic = NULL;
  const char *hdrs[2] = { NULL, NULL };
  struct vrun_http_request req;
  struct vrun_http_response resp;
  cJSON *json, *tok;
  int rc;

  if(challenge_param(challenge, "realm", realm, sizeof(realm))) {
    free(cred);
    return VRUN_SET_ERR(err, VRUN_EHTTP, "registry %s: bearer challenge "
                        "without a realm", s->registry);
  }
  snprintf(url, sizeof(url), "%s%c", realm, strchr(realm, '?') ? '&' : '?');
  if(!challenge_param(challenge, "service", service, sizeof(service))) {
    snprintf(url + strlen(url), sizeof(url) - strlen(url), "service=");
    urlenc(url, sizeof(url), service);
  }
  add_scope(url, sizeof(url), s->repo, s->push ? "pull,push" : "pull");
  if(s->pull_from)
    add_scope(url, sizeof(url), s->pull_from, "pull");
  if(cred) {
    basic = docker_aprintf("Authorization: Basic %s", cred);
    free(cred);
    if(!basic)
      return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    hdrs[0] = basic;
  }
  memset(&req, 0, sizeof(req));
  memset(&resp, 0, sizeof(resp));
  req.size = sizeof(req);
  resp.size = sizeof(resp);
  req.url = url;
  req.headers = hdrs;
  rc = h->http_perform(s->dc->vc, &req, &resp, err);
  /* DOCKER_USERNAME/PASSWORD name the account of the registries pushed
  ** to; a public root image elsewhere is pulled anonymously instead */
  if(!rc && resp.status == 401 && basic && !s->push) {
    h->http_response_free(&resp);
    memset(&resp, 0, sizeof(resp));
    resp.size = sizeof(resp);
    hdrs[0] = NULL;
    rc = h->http_perform(s->dc->vc, &req, &resp, err);
  }
  free(basic);
  if(rc)
    return rc;
  if(resp.status != 200) {
    rc = VRUN_SET_ERR(err, VRUN_EHTTP, "registry %s: token request for "
                      "%s failed with HTTP %ld%s", s->registry, s->repo,
                      resp.status,
                      resp.status == 401 ? " (check DOCKER_USERNAME and "
                      "DOCKER_PASSWORD)" : "");
    h->http_response_free(&resp);
    return rc;
  }
  json = cJSON_ParseWithLength(resp.body, resp.body_len);
  h->http_response_free(&resp);
  tok = cJSON_GetObjectItemCaseSensitive(json, "token");
  if(!cJSON_IsString(tok))
    tok = cJSON_GetObjectItemCaseSensitive(json, "access_token");
  if(!cJSON_IsString(tok) || !tok->valuestring[0]) {
    cJSON_Delete(json);
    return VRUN_SET_ERR(err, VRUN_EHTTP, "registry %s: token response "
                        "holds no token", s->registry);
  }
  h->secret(s->dc->vc, tok->valuestring);
  free(s->auth);
  s->auth = docker_aprintf("Authorization: Bearer %s", tok->valuestring);
  cJSON_Delete(json);
  return s->auth ? VRUN_OK : VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
}

/* React to a 401: set s->auth from the challenge. */
static int authenticate(struct docker_session *s,
                        const struct vrun_http_response *resp,
                        struct vrun_err *err)
{
  char ch[2048];
  char *cred;

  if(s->dc->host->http_header(resp, "WWW-Authenticate", ch, sizeof(ch)))
    return VRUN_SET_ERR(err, VRUN_EHTTP, "registry %s: HTTP 401 without "
                        "a WWW-Authenticate challenge", s->registry);
  if(!strncasecmp(ch, "Bearer ", 7))
    return fetch_token(s, ch + 7, err);
  if(!strncasecmp(ch, "Basic", 5)) {
    cred = credentials(s);
    if(!cred)
      return VRUN_SET_ERR(err, VRUN_EHTTP, "registry %s requires "
                          "credentials: set DOCKER_USERNAME and "
                          "DOCKER_PASSWORD", s->registry);
    free(s->auth);
    s->auth = docker_aprintf("Authorization: Basic %s", cred);
    free(cred);
    return s->auth ? VRUN_OK :
      VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  }
  return VRUN_SET_ERR(err, VRUN_EHTTP, "registry %s: unsupported auth "
                      "scheme in '%.40s'", s->registry, ch);
}
/* }====== */

/* {====== requests ====== */

/* One request with its header storage, so many can be in flight. */
struct call {
  struct vrun_http_request req;
  struct vrun_http_response resp;
  const char *hdrs[MAX_HDRS];
  char *url;
  char *aux;          /* a malloc'd header value the call owns */
  size_t nfixed;      /* headers before the auth one */
};

static void call_init(struct docker_session *s, struct call *c,
                      const char *method, char *url)
{
  memset(c, 0, sizeof(*c));
  c->req.size = sizeof(c->req);
  c->resp.size = sizeof(c->resp);
  c->req.method = method;
  c->url = url;
  c->req.url = url;
  c->req.headers = c->hdrs;
  (void)s;
}

static void call_header(struct call *c, const char *h)
{
  if(c->nfixed + 2 < MAX_HDRS) {
    c->hdrs[c->nfixed++] = h;
    c->hdrs[c->nfixed] = NULL;
  }
}

/* Put the session's current auth header after the fixed ones (an older
** one may have been freed by a token refresh: never read it). */
static void call_auth(struct docker_session *s, struct call *c)
{
  c->hdrs[c->nfixed] = s->auth;
  c->hdrs[c->nfixed + 1] = NULL;
}

static void call_done(struct docker_session *s, struct call *c)
{
  s->dc->host->http_response_free(&c->resp);
  memset(&c->resp, 0, sizeof(c->resp));
  c->resp.size = sizeof(c->resp);
  free(c->url);
  free(c->aux);
  c->url = c->aux = NULL;
}

/* Run one call; on 401 authenticate once and send it again. */
static int run1(struct docker_session *s, struct call *c,
                struct vrun_err *err)
{
  const struct vrun_host *h = s->dc->host;
  int rc, tries;

  for(tries = 0; tries < 2; tries++) {
    call_auth(s, c);
    rc = h->http_perform(s->dc->vc, &c->req, &c->resp, err);
    if(rc)
      return rc;
    if(c->resp.status != 401 || tries)
      return VRUN_OK;
    rc = authenticate(s, &c->resp, err);
    if(rc)
      return rc;
    h->http_response_free(&c->resp);
    memset(&c->resp, 0, sizeof(c->resp));
    c->resp.size = sizeof(c->resp);
  }
  return VRUN_OK;
}

/* Run n calls, `concurrency` at a time; a 401 among them authenticates
** once and re-sends those calls. A transport failure is an error. */
static int run_many(struct docker_session *s, struct call *cs, size_t n,
                    struct vrun_err *err)
{
  const struct vrun_host *h = s->dc->host;
  const struct vrun_http_request **reqs;
  struct vrun_http_response **resps;
  size_t i, m;
  int rc = VRUN_OK, round;

  if(!n)
    return VRUN_OK;
  if(n == 1)
    return run1(s, cs, err);
  reqs = calloc(n, sizeof(*reqs));
  resps = calloc(n, sizeof(*resps));
  if(!reqs || !resps) {
    free(reqs);
    free(resps);
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  }
  for(round = 0; round < 2 && !rc; round++) {
    m = 0;
    for(i = 0; i < n; i++) {
      if(round && cs[i].resp.status != 401)
        continue;
      if(round) {
        h->http_response_free(&cs[i].resp);
        memset(&cs[i].resp, 0, sizeof(cs[i].resp));
        cs[i].resp.size = sizeof(cs[i].resp);
      }
      call_auth(s, &cs[i]);
      reqs[m] = &cs[i].req;
      resps[m++] = &cs[i].resp;
    }
    if(!m)
      break;
    rc = h->http_perform_many(s->dc->vc, reqs, resps, m,
                              s->dc->concurrency, err);
    for(i = 0; i < m && !rc; i++)
      if(resps[i]->rc)
        rc = VRUN_SET_ERR(err, resps[i]->rc, "%s", resps[i]->error);
    if(rc || round)
      break;
    for(i = 0; i < n; i++)
      if(cs[i].resp.status == 401)
        break;
    if(i == n)
      break;
    rc = authenticate(s, &cs[i].resp, err);
  }
  free(reqs);
  free(resps);
  return rc;
}

/* Ask /v2/ once, as Docker does, so the first real request already
** carries credentials and parallel requests do not all fail with 401. */
static int ping(struct docker_session *s, struct vrun_err *err)
{
  struct call c;
  int rc;

  if(s->pinged)
    return VRUN_OK;
  call_init(s, &c, "GET", docker_aprintf("%s/v2/", s->base));
  if(!c.url)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  rc = s->dc->host->http_perform(s->dc->vc, &c.req, &c.resp, err);
  if(!rc && c.resp.status == 401)
    rc = authenticate(s, &c.resp, err);
  call_done(s, &c);
  if(rc)
    return rc;
  s->pinged = 1;
  return VRUN_OK;
}

static int http_fail(struct docker_session *s, struct call *c,
                     const char *what, struct vrun_err *err)
{
  const char *b = c->resp.body ? c->resp.body : "";
  size_t l = strcspn(b, "\r\n");

  if(c->resp.status == 401 || c->resp.status == 403)
    return VRUN_SET_ERR(err, VRUN_EHTTP, "registry %s: %s %s/%s: HTTP %ld: "
                        "access denied (check DOCKER_USERNAME and "
                        "DOCKER_PASSWORD)", s->registry,
                        c->req.method ? c->req.method : "GET", s->repo,
                        what, c->resp.status);
  return VRUN_SET_ERR(err, c->resp.status == 404 ? VRUN_ENOENT : VRUN_EHTTP,
                      "registry %s: %s %s/%s: HTTP %ld%s%.*s",
                      s->registry, c->req.method ? c->req.method : "GET",
                      s->repo, what, c->resp.status, l ? ": " : "",
                      (int)(l > 200 ? 200 : l), b);
}

int docker_manifest_get(struct docker_session *s, const char *reference,
                        char **body, size_t *len, char *media_type,
                        size_t mtsize, struct vrun_err *err)
{
  struct call c;
  char what[300];
  cJSON *json, *mt;
  int rc;

  *body = NULL;
  rc = ping(s, err);
  if(rc)
    return rc;
  call_init(s, &c, "GET", docker_aprintf("%s/v2/%s/manifests/%s", s->base,
                                         s->repo, reference));
  if(!c.url)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  call_header(&c, ACCEPT_ALL);
  rc = run1(s, &c, err);
  snprintf(what, sizeof(what), "manifests/%s", reference);
  if(!rc && c.resp.status != 200)
    rc = http_fail(s, &c, what, err);
  if(rc) {
    call_done(s, &c);
    return rc;
  }
  media_type[0] = 0;
  json = cJSON_ParseWithLength(c.resp.body, c.resp.body_len);
  mt = cJSON_GetObjectItemCaseSensitive(json, "mediaType");
  if(cJSON_IsString(mt))
    snprintf(media_type, mtsize, "%s", mt->valuestring);
  else if(!s->dc->host->http_header(&c.resp, "Content-Type", media_type,
                                     mtsize))
    media_type[strcspn(media_type, "; ")] = 0;
  cJSON_Delete(json);
  /* a copy: the response's memory belongs to the host */
  *body = malloc(c.resp.body_len + 1);
  if(*body) {
    memcpy(*body, c.resp.body, c.resp.body_len);
    (*body)[c.resp.body_len] = 0;
    *len = c.resp.body_len;
  }
  call_done(s, &c);
  return *body ? VRUN_OK : VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
}

int docker_manifest_put(struct docker_session *s, const char *reference,
                        const char *media_type, const char *body,
                        size_t len, struct vrun_err *err)
{
  struct call c;
  char what[300];
  int rc;

  rc = ping(s, err);
  if(rc)
    return rc;
  call_init(s, &c, "PUT", docker_aprintf("%s/v2/%s/manifests/%s", s->base,
                                         s->repo, reference));
  c.aux = docker_aprintf("Content-Type: %s", media_type);
  if(!c.url || !c.aux) {
    call_done(s, &c);
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  }
  call_header(&c, c.aux);
  c.req.body = body;
  c.req.body_len = len;
  rc = run1(s, &c, err);
  snprintf(what, sizeof(what), "manifests/%s", reference);
  if(!rc && c.resp.status != 201 && c.resp.status != 200)
    rc = http_fail(s, &c, what, err);
  call_done(s, &c);
  return rc;
}

int docker_blob_get(struct docker_session *s, const char *digest,
                    const char *file, char **body, size_t *len,
                    struct vrun_err *err)
{
  struct call c;
  char what[300];
  int rc;

  if(body)
    *body = NULL;
  rc = ping(s, err);
  if(rc)
    return rc;
  call_init(s, &c, "GET", docker_aprintf("%s/v2/%s/blobs/%s", s->base,
                                         s->repo, digest));
  if(!c.url)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  c.req.response_file = file;
  rc = run1(s, &c, err);
  snprintf(what, sizeof(what), "blobs/%s", digest);
  if(!rc && c.resp.status != 200)
    rc = http_fail(s, &c, what, err);
  if(!rc && body) {
    *body = malloc(c.resp.body_len + 1);
    if(*body) {
      memcpy(*body, c.resp.body, c.resp.body_len);
      (*body)[c.resp.body_len] = 0;
      *len = c.resp.body_len;
    }
    else
      rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  }
  call_done(s, &c);
  return rc;
}
/* }====== */

/* {====== pushing blobs ====== */

/* An upload URL from a Location header, absolute or relative to base,
** with the digest appended: the monolithic "POST then PUT" upload. */
static char *upload_url(struct docker_session *s, const char *loc,
                        const char *digest)
{
  const char *sep = strchr(loc, '?') ? "&" : "?";

  if(!strncmp(loc, "http://", 7) || !strncmp(loc, "https://", 8))
    return docker_aprintf("%s%sdigest=%s", loc, sep, digest);
  return docker_aprintf("%s%s%s%sdigest=%s", s->base,
                        loc[0] == '/' ? "" : "/", loc, sep, digest);
}

int docker_blobs_push(struct docker_session *s, struct docker_blob *blobs,
                      size_t n, struct vrun_err *err)
{
  struct docker_ctx *dc = s->dc;
  const struct vrun_host *h = dc->host;
  struct call *cs = NULL;
  size_t *todo = NULL, nt = 0, i, k;
  char loc[2048], *path;
  int rc;

  rc = ping(s, err);
  if(rc || !n)
    return rc;
  cs = calloc(n, sizeof(*cs));
  todo = calloc(n, sizeof(*todo));
  if(!cs || !todo) {
    rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    goto out;
  }
  /* 1. HEAD: what is there already is never sent again */
  for(i = 0; i < n; i++) {
    call_init(s, &cs[i], "HEAD", docker_aprintf("%s/v2/%s/blobs/%s",
                                                s->base, s->repo,
                                                blobs[i].digest));
    if(!cs[i].url) {
      rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
      goto out;
    }
  }
  rc = run_many(s, cs, n, err);
  for(i = 0; i < n && !rc; i++) {
    if(cs[i].resp.status == 200)
      dc->blobs_skipped++;
    else if(cs[i].resp.status == 404)
      todo[nt++] = i;
    else
      rc = http_fail(s, &cs[i], "blobs", err);
  }
  for(i = 0; i < n; i++)
    call_done(s, &cs[i]);
  if(rc || !nt)
    goto out;

  /* 2. blobs of a repository of the same registry: mount them */
  for(k = 0; k < nt; k++) {
    struct docker_blob *b = &blobs[todo[k]];
    if(b->src && !strcmp(b->src->registry, s->registry) &&
       strcmp(b->src->repo, s->repo))
      cs[k].url = docker_aprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s",
                                 s->base, s->repo, b->digest, b->src->repo);
    else
      cs[k].url = docker_aprintf("%s/v2/%s/blobs/uploads/", s->base,
                                 s->repo);
    if(!cs[k].url) {
      rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
      goto out;
    }
    path = cs[k].url;
    call_init(s, &cs[k], "POST", path);
    cs[k].req.body = "";
  }
  rc = run_many(s, cs, nt, err);
  for(k = 0; k < nt && !rc; k++) {
    if(cs[k].resp.status == 201) {
      dc->blobs_mounted++;
      todo[k] = (size_t)-1;
    }
    else if(cs[k].resp.status != 202 ||
            h->http_header(&cs[k].resp, "Location", loc, sizeof(loc)))
      rc = http_fail(s, &cs[k], "blobs/uploads/", err);
    else {
      free(cs[k].aux);
      cs[k].aux = upload_url(s, loc, blobs[todo[k]].digest);
      if(!cs[k].aux)
        rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    }
  }
  if(rc)
    goto done;

  /* 3. content held by another registry: fetch it first */
  for(k = 0; k < nt && !rc; k++) {
    struct docker_blob *b;
    if(todo[k] == (size_t)-1)
      continue;
    b = &blobs[todo[k]];
    if(b->file || b->data || !b->src)
      continue;
    if(!docker_cache_dir(err)) {
      rc = err->code;
      break;
    }
    path = docker_aprintf("%s/%s", docker_cache_dir(err), b->digest + 7);
    if(!path) {
      rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
      break;
    }
    h->cleanup_add(dc->vc, path);
    rc = docker_blob_get(b->src, b->digest, path, NULL, NULL, err);
    b->file = b->fetched = path;  /* the caller frees it */
    if(rc) {
      unlink(path);
      break;
    }
  }
  if(rc)
    goto done;

  /* 4. PUT the content to the upload URLs */
  for(k = 0, i = 0; k < nt; k++) {
    struct docker_blob *b;
    struct call tmp;
    if(todo[k] == (size_t)-1) {
      call_done(s, &cs[k]);
      continue;
    }
    b = &blobs[todo[k]];
    call_init(s, &tmp, "PUT", cs[k].aux);
    cs[k].aux = NULL;
    h->http_response_free(&cs[k].resp);
    free(cs[k].url);
    cs[i] = tmp;
    cs[i].req.url = cs[i].url;
    cs[i].req.headers = cs[i].hdrs;
    call_header(&cs[i], "Content-Type: application/octet-stream");
    if(b->file)
      cs[i].req.body_file = b->file;
    else {
      cs[i].req.body = b->data;
      cs[i].req.body_len = (size_t)b->size;
    }
    /* progress only for big blobs: with several uploads at once, lines
    ** for every 10 MB layer would drown the log */
    if(b->size >= ((uint64_t)64 << 20)) {
      cs[i].aux = docker_aprintf("%s %.19s", s->repo, b->digest);
      cs[i].req.progress_label = cs[i].aux;
    }
    todo[i++] = todo[k];
  }
  for(k = i; k < nt; k++)
    memset(&cs[k], 0, sizeof(cs[k]));
  nt = i;
  rc = run_many(s, cs, nt, err);
  for(k = 0; k < nt && !rc; k++) {
    if(cs[k].resp.status != 201)
      rc = http_fail(s, &cs[k], "blobs/uploads/", err);
    else {
      dc->blobs_uploaded++;
      dc->bytes_uploaded += blobs[todo[k]].size;
    }
  }
done:
  for(k = 0; k < n; k++)
    if(cs[k].url || cs[k].aux || cs[k].resp.body || cs[k].resp.headers)
      call_done(s, &cs[k]);
out:
  free(cs);
  free(todo);
  return rc;
}
/* }====== */
