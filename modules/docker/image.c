/*
** image.c: builds multi-platform images with no daemon (a root image's
** layers + one layer holding the binary, new config, manifests and an
** index) and pushes them; retags an index without rebuilding.
** SPDX-License-Identifier: MIT
*/
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "docker.h"
#include "image.h"
#include "cache.h"

/* {====== layers ====== */

/* The layer files of an image: one per binary, then the CA bundle. */
static size_t layer_files(const struct docker_image_spec *sp,
                          struct docker_layer_file *lf)
{
  size_t i, n = sp->n_plats;

  for(i = 0; i < sp->n_plats; i++) {
    lf[i].src = sp->binaries[i];
    lf[i].dest = sp->dest;
    lf[i].mode = 0755;
  }
  if(sp->ca_certs && *sp->ca_certs) {
    lf[n].src = sp->ca_certs;
    lf[n].dest = "/etc/ssl/certs/ca-certificates.crt";
    lf[n].mode = 0644;
    n++;
  }
  return n;
}

int docker_prepare(struct docker_ctx *dc, const struct docker_image_spec *sp,
                   struct vrun_err *err)
{
  struct docker_layer_file *lf;
  size_t i, n;
  int rc = VRUN_OK;

  if(dc->host->dry_run(dc->vc))
    return VRUN_OK;
  lf = calloc(sp->n_plats + 1, sizeof(*lf));
  if(!lf)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  n = layer_files(sp, lf);
  for(i = 0; i < n && !rc; i++)
    if(!docker_cache_want(dc, &lf[i], 1, sp->epoch, sp->level, err))
      rc = err->code;
  free(lf);
  return rc;
}
/* }====== */

/* {====== platforms ====== */

struct plat {
  char os[32], arch[32], variant[16];
  const char *binary;
  char *bconfig;                 /* the root image's config, or NULL */
  cJSON *blayers;                /* its layer descriptors (array) */
  const struct docker_layer *bin;
  char *config;                  /* our config JSON */
  char config_digest[DOCKER_DIGEST_LEN];
  char *manifest;                /* our manifest JSON */
  char manifest_digest[DOCKER_DIGEST_LEN];
};

static int parse_platform(const char *s, struct plat *p)
{
  int n = 0;
  const char *a, *b;

  memset(p, 0, sizeof(*p));
  a = strchr(s, '/');
  if(!a || a == s || (size_t)(a - s) >= sizeof(p->os))
    return -1;
  memcpy(p->os, s, (size_t)(a - s));
  a++;
  b = strchr(a, '/');
  n = b ? (int)(b - a) : (int)strlen(a);
  if(n <= 0 || (size_t)n >= sizeof(p->arch))
    return -1;
  memcpy(p->arch, a, (size_t)n);
  if(b && snprintf(p->variant, sizeof(p->variant), "%s", b + 1) >=
     (int)sizeof(p->variant))
    return -1;
  /* buildx's default for linux/arm */
  if(!p->variant[0] && !strcmp(p->arch, "arm"))
    snprintf(p->variant, sizeof(p->variant), "v7");
  return 0;
}

/* The variant as containerd compares it: arm64 "v8" is the default. */
static const char *norm_variant(const char *arch, const char *v)
{
  if(!v)
    v = "";
  if(!strcmp(arch, "arm64") && !strcmp(v, "v8"))
    return "";
  if(!strcmp(arch, "arm") && !*v)
    return "v7";
  return v;
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int plat_match(const struct plat *p, const char *os,
                      const char *arch, const char *variant)
{
  return os && arch && !strcmp(p->os, os) && !strcmp(p->arch, arch) &&
    !strcmp(norm_variant(p->arch, p->variant), norm_variant(arch, variant));
}
/* }====== */

/* {====== the root image ====== */

static int is_index(const char *mt)
{
  return !strcmp(mt, DOCKER_MT_OCI_INDEX) || !strcmp(mt, DOCKER_MT_D_LIST);
}

/* Load one platform manifest of the root image into p. */
static int load_manifest(struct docker_session *bs, const char *ref,
                         const char *body, size_t len, struct plat *p,
                         int check, struct vrun_err *err)
{
  cJSON *m = cJSON_ParseWithLength(body, len), *cfg;
  const char *cd;
  size_t clen;
  int rc;

  cfg = cJSON_GetObjectItemCaseSensitive(m, "config");
  cd = jstr(cfg, "digest");
  p->blayers = cJSON_DetachItemFromObjectCaseSensitive(m, "layers");
  if(!cd || !cJSON_IsArray(p->blayers)) {
    cJSON_Delete(m);
    return VRUN_SET_ERR(err, VRUN_EHTTP, "root image %s: manifest "
                        "without config or layers", ref);
  }
  rc = docker_blob_get(bs, cd, NULL, &p->bconfig, &clen, err);
  cJSON_Delete(m);
  if(!rc && check) {
    cJSON *c = cJSON_ParseWithLength(p->bconfig, clen);
    if(!plat_match(p, jstr(c, "os"), jstr(c, "architecture"),
                   jstr(c, "variant")))
      rc = VRUN_SET_ERR(err, VRUN_ENOENT, "root image %s has no %s/%s "
                        "image", ref, p->os, p->arch);
    cJSON_Delete(c);
  }
  return rc;
}

static int load_base(struct docker_session *bs, const struct docker_ref *r,
                     const char *name, struct plat *plats, size_t n,
                     int *oci, struct vrun_err *err)
{
  char mt[128], *body = NULL, *sub = NULL;
  size_t len, slen, i;
  cJSON *idx = NULL, *d;
  int rc;

  rc = docker_manifest_get(bs, r->digest ? r->digest :
                           (r->tag ? r->tag : "latest"),
                           &body, &len, mt, sizeof(mt), err);
  if(rc)
    return rc;
  *oci = !strcmp(mt, DOCKER_MT_OCI_INDEX) ||
    !strcmp(mt, DOCKER_MT_OCI_MANIFEST);
  if(!is_index(mt)) {
    for(i = 0; i < n && !rc; i++)
      rc = load_manifest(bs, name, body, len, &plats[i], 1, err);
    free(body);
    return rc;
  }
  idx = cJSON_ParseWithLength(body, len);
  free(body);
  for(i = 0; i < n && !rc; i++) {
    const char *digest = NULL;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(idx,
                                                           "manifests")) {
      cJSON *pl = cJSON_GetObjectItemCaseSensitive(d, "platform");
      if(plat_match(&plats[i], jstr(pl, "os"), jstr(pl, "architecture"),
                    jstr(pl, "variant"))) {
        digest = jstr(d, "digest");
        break;
      }
    }
    if(!digest) {
      rc = VRUN_SET_ERR(err, VRUN_ENOENT, "root image %s has no %s/%s%s%s "
                        "image", name, plats[i].os, plats[i].arch,
                        plats[i].variant[0] ? "/" : "", plats[i].variant);
      break;
    }
    rc = docker_manifest_get(bs, digest, &sub, &slen, mt, sizeof(mt), err);
    if(!rc)
      rc = load_manifest(bs, name, sub, slen, &plats[i], 0, err);
    free(sub);
    sub = NULL;
  }
  cJSON_Delete(idx);
  return rc;
}
/* }====== */

/* {====== config, manifest, index ====== */

static void set_str(cJSON *o, const char *k, const char *v)
{
  cJSON *n = cJSON_CreateString(v);

  if(cJSON_HasObjectItem(o, k))
    cJSON_ReplaceItemInObjectCaseSensitive(o, k, n);
  else
    cJSON_AddItemToObject(o, k, n);
}

static cJSON *obj_at(cJSON *o, const char *k, int array)
{
  cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

  if(array ? cJSON_IsArray(v) : cJSON_IsObject(v))
    return v;
  cJSON_DeleteItemFromObjectCaseSensitive(o, k);
  v = array ? cJSON_CreateArray() : cJSON_CreateObject();
  cJSON_AddItemToObject(o, k, v);
  return v;
}

static cJSON *str_array(char *const *v, size_t n)
{
  cJSON *a = cJSON_CreateArray();
  size_t i;

  for(i = 0; i < n; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
  return a;
}

static void add_history(cJSON *hist, const char *created,
                        const char *what)
{
  cJSON *h = cJSON_CreateObject();

  cJSON_AddStringToObject(h, "created", created);
  cJSON_AddStringToObject(h, "created_by", what);
  cJSON_AddStringToObject(h, "comment", "vrun docker");
  cJSON_AddItemToArray(hist, h);
}

static char *make_config(const struct docker_image_spec *sp,
                         const struct plat *p,
                         const struct docker_layer *ca,
                         const char *created)
{
  cJSON *c = p->bconfig ? cJSON_Parse(p->bconfig) : cJSON_CreateObject();
  cJSON *cc, *ports, *labels, *rootfs, *ids, *hist;
  char what[600];
  char *out;
  size_t i;

  if(!c)
    return NULL;
  set_str(c, "architecture", p->arch);
  set_str(c, "os", p->os);
  if(p->variant[0])
    set_str(c, "variant", p->variant);
  else
    cJSON_DeleteItemFromObjectCaseSensitive(c, "variant");
  set_str(c, "created", created);
  cc = obj_at(c, "config", 0);
  if(!p->bconfig) {
    static char *const path[] = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    };
    cJSON_AddItemToObject(cc, "Env", str_array(path, 1));
  }
  /* a Dockerfile ENTRYPOINT resets the CMD inherited from the root */
  cJSON_DeleteItemFromObjectCaseSensitive(cc, "Cmd");
  cJSON_DeleteItemFromObjectCaseSensitive(cc, "Entrypoint");
  if(sp->n_entrypoint)
    cJSON_AddItemToObject(cc, "Entrypoint",
                          str_array(sp->entrypoint, sp->n_entrypoint));
  if(sp->n_expose) {
    ports = obj_at(cc, "ExposedPorts", 0);
    for(i = 0; i < sp->n_expose; i++) {
      cJSON_DeleteItemFromObjectCaseSensitive(ports, sp->expose[i]);
      cJSON_AddItemToObject(ports, sp->expose[i], cJSON_CreateObject());
    }
  }
  if(sp->n_labels) {
    labels = obj_at(cc, "Labels", 0);
    for(i = 0; i < sp->n_labels; i++)
      set_str(labels, sp->label_keys[i], sp->label_vals[i]);
  }
  rootfs = obj_at(c, "rootfs", 0);
  set_str(rootfs, "type", "layers");
  ids = obj_at(rootfs, "diff_ids", 1);
  hist = obj_at(c, "history", 1);
  if(ca) {
    cJSON_AddItemToArray(ids, cJSON_CreateString(ca->diff_id));
    snprintf(what, sizeof(what), "COPY %s /etc/ssl/certs/"
             "ca-certificates.crt", sp->ca_certs);
    add_history(hist, created, what);
  }
  cJSON_AddItemToArray(ids, cJSON_CreateString(p->bin->diff_id));
  snprintf(what, sizeof(what), "COPY %s %s",
           strrchr(p->binary, '/') ? strrchr(p->binary, '/') + 1 :
           p->binary, sp->dest);
  add_history(hist, created, what);
  out = cJSON_PrintUnformatted(c);
  cJSON_Delete(c);
  return out;
}

static cJSON *descriptor(const char *mt, const char *digest, uint64_t size)
{
  cJSON *d = cJSON_CreateObject();

  cJSON_AddStringToObject(d, "mediaType", mt);
  cJSON_AddStringToObject(d, "digest", digest);
  cJSON_AddNumberToObject(d, "size", (double)size);
  return d;
}

static char *make_manifest(const struct plat *p,
                           const struct docker_layer *ca, int oci)
{
  cJSON *m = cJSON_CreateObject(), *layers;
  const char *lt = oci ? DOCKER_MT_OCI_LAYER : DOCKER_MT_D_LAYER;
  char *out;

  cJSON_AddNumberToObject(m, "schemaVersion", 2);
  cJSON_AddStringToObject(m, "mediaType",
                          oci ? DOCKER_MT_OCI_MANIFEST : DOCKER_MT_D_MANIFEST);
  cJSON_AddItemToObject(m, "config",
                        descriptor(oci ? DOCKER_MT_OCI_CONFIG :
                                   DOCKER_MT_D_CONFIG, p->config_digest,
                                   strlen(p->config)));
  layers = p->blayers ? cJSON_Duplicate(p->blayers, 1) : cJSON_CreateArray();
  if(ca)
    cJSON_AddItemToArray(layers, descriptor(lt, ca->digest, ca->size));
  cJSON_AddItemToArray(layers, descriptor(lt, p->bin->digest,
                                          p->bin->size));
  cJSON_AddItemToObject(m, "layers", layers);
  out = cJSON_PrintUnformatted(m);
  cJSON_Delete(m);
  return out;
}

static char *make_index(const struct plat *plats, size_t n, int oci)
{
  cJSON *x = cJSON_CreateObject(), *ms = cJSON_CreateArray(), *d, *pl;
  char *out;
  size_t i;

  cJSON_AddNumberToObject(x, "schemaVersion", 2);
  cJSON_AddStringToObject(x, "mediaType",
                          oci ? DOCKER_MT_OCI_INDEX : DOCKER_MT_D_LIST);
  for(i = 0; i < n; i++) {
    d = descriptor(oci ? DOCKER_MT_OCI_MANIFEST : DOCKER_MT_D_MANIFEST,
                   plats[i].manifest_digest, strlen(plats[i].manifest));
    pl = cJSON_CreateObject();
    cJSON_AddStringToObject(pl, "architecture", plats[i].arch);
    cJSON_AddStringToObject(pl, "os", plats[i].os);
    if(plats[i].variant[0])
      cJSON_AddStringToObject(pl, "variant", plats[i].variant);
    cJSON_AddItemToObject(d, "platform", pl);
    cJSON_AddItemToArray(ms, d);
  }
  cJSON_AddItemToObject(x, "manifests", ms);
  out = cJSON_PrintUnformatted(x);
  cJSON_Delete(x);
  return out;
}
/* }====== */

/* {====== publish ====== */


static double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The targets of one repository: its session and its tags. */
struct target {
  struct docker_session *s;
  const char **tags;
  size_t ntags;
};

static int add_blob(struct docker_blob *bl, size_t *n, const char *digest,
                    uint64_t size)
{
  size_t i;

  for(i = 0; i < *n; i++)
    if(!strcmp(bl[i].digest, digest))
      return 0;
  memset(&bl[*n], 0, sizeof(bl[*n]));
  snprintf(bl[*n].digest, sizeof(bl[*n].digest), "%s", digest);
  bl[*n].size = size;
  (*n)++;
  return 1;
}

/* Push bl[0..n) to every target, then drop what was fetched for it. */
static int push_blobs(struct docker_ctx *dc, struct target *tg, size_t nt,
                      struct docker_blob *bl, size_t n,
                      struct vrun_err *err)
{
  size_t i, k;
  int rc = VRUN_OK;

  for(k = 0; k < nt && !rc; k++)
    rc = docker_blobs_push(tg[k].s, bl, n, err);
  for(i = 0; i < n; i++) {
    if(bl[i].fetched) {
      unlink(bl[i].fetched);
      dc->host->cleanup_remove(dc->vc, bl[i].fetched);
      free(bl[i].fetched);
      bl[i].fetched = NULL;
      bl[i].file = NULL;
    }
  }
  return rc;
}

/* The root image's layers: mounted (or copied) while ours compress. */
static int push_root_layers(struct docker_ctx *dc, struct target *tg,
                            size_t nt, struct plat *plats, size_t np,
                            struct docker_session *bs, struct vrun_err *err)
{
  struct docker_blob *bl;
  size_t nb = 0, cap = 1, i;
  cJSON *l;
  int rc;

  for(i = 0; i < np; i++)
    cap += (size_t)cJSON_GetArraySize(plats[i].blayers);
  bl = calloc(cap, sizeof(*bl));
  if(!bl)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  for(i = 0; i < np; i++) {
    cJSON_ArrayForEach(l, plats[i].blayers) {
      const cJSON *sz = cJSON_GetObjectItemCaseSensitive(l, "size");
      const char *d = jstr(l, "digest");
      if(d && add_blob(bl, &nb, d, cJSON_IsNumber(sz) ?
                       (uint64_t)sz->valuedouble : 0))
        bl[nb - 1].src = bs;
    }
  }
  rc = push_blobs(dc, tg, nt, bl, nb, err);
  free(bl);
  return rc;
}

/*
** Our layers, each pushed as soon as it is built: while one goes up, the
** workers compress the next. On VRUN_OK lays[i] is want[i]'s layer.
*/
static int push_new_layers(struct docker_ctx *dc, struct target *tg,
                           size_t nt, struct docker_cache_entry **want,
                           const struct docker_layer **lays, size_t n,
                           double *waited, struct vrun_err *err)
{
  struct docker_blob *bl = calloc(n + 1, sizeof(*bl));
  size_t i, nb, done = 0;
  double t0;
  int rc = VRUN_OK;

  if(!bl)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  while(done < n && !rc) {
    /* wait for the next one in order, then take whatever else is ready */
    t0 = now_s();
    rc = docker_cache_wait(dc, want[done], &lays[done], err);
    *waited += now_s() - t0;
    nb = 0;
    for(i = done; i < n && !rc; i++) {
      if(i > done && !docker_cache_ready(want[i]))
        break;
      if(i > done)
        rc = docker_cache_wait(dc, want[i], &lays[i], err);
      if(!rc && add_blob(bl, &nb, lays[i]->digest, lays[i]->size))
        bl[nb - 1].file = lays[i]->file;
    }
    if(!rc)
      rc = push_blobs(dc, tg, nt, bl, nb, err);
    done = i;
  }
  free(bl);
  return rc;
}

/* The configs, then each platform's manifest, then the index under
** every tag: a tag only ever names a complete image. */
static int push_manifests(struct docker_ctx *dc, struct target *tg,
                          size_t nt, struct plat *plats, size_t np,
                          const char *index, int oci, struct vrun_err *err)
{
  struct docker_blob *bl = calloc(np + 1, sizeof(*bl));
  size_t nb = 0, i, k, j;
  int rc;

  if(!bl)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  for(i = 0; i < np; i++)
    if(add_blob(bl, &nb, plats[i].config_digest, strlen(plats[i].config)))
      bl[nb - 1].data = plats[i].config;
  rc = push_blobs(dc, tg, nt, bl, nb, err);
  free(bl);
  for(k = 0; k < nt && !rc; k++) {
    for(i = 0; i < np && !rc; i++)
      rc = docker_manifest_put(tg[k].s, plats[i].manifest_digest,
                               oci ? DOCKER_MT_OCI_MANIFEST :
                               DOCKER_MT_D_MANIFEST, plats[i].manifest,
                               strlen(plats[i].manifest), err);
    for(j = 0; j < tg[k].ntags && !rc; j++)
      rc = docker_manifest_put(tg[k].s, tg[k].tags[j],
                               oci ? DOCKER_MT_OCI_INDEX : DOCKER_MT_D_LIST,
                               index, strlen(index), err);
  }
  return rc;
}

int docker_publish(struct docker_ctx *dc, const struct docker_image_spec *sp,
                   char digest[DOCKER_DIGEST_LEN], struct vrun_err *err)
{
  const struct vrun_host *h = dc->host;
  struct docker_ref *refs = NULL, base;
  struct target *tg = NULL;
  struct plat *plats = NULL;
  struct docker_cache_entry **want = NULL;
  struct docker_layer_file *lf = NULL;
  struct docker_session *bs = NULL;
  const struct docker_layer *ca = NULL, **lays = NULL;
  size_t i, k, nt = 0, nj = 0;
  int rc = VRUN_OK, oci = 1, has_base;
  char created[32], *index = NULL;
  time_t ep = (time_t)sp->epoch;
  double t0, waited = 0;
  struct tm tm;

  digest[0] = 0;
  memset(&base, 0, sizeof(base));
  has_base = sp->base && *sp->base && strcmp(sp->base, "scratch");
  refs = calloc(sp->n_refs, sizeof(*refs));
  tg = calloc(sp->n_refs, sizeof(*tg));
  plats = calloc(sp->n_plats, sizeof(*plats));
  want = calloc(sp->n_plats + 1, sizeof(*want));
  lays = calloc(sp->n_plats + 1, sizeof(*lays));
  lf = calloc(sp->n_plats + 1, sizeof(*lf));
  if(!refs || !tg || !plats || !want || !lays || !lf) {
    rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    goto out;
  }
  for(i = 0; i < sp->n_plats && !rc; i++) {
    if(parse_platform(sp->platforms[i], &plats[i]))
      rc = VRUN_SET_ERR(err, VRUN_EINVAL, "invalid platform '%s'",
                        sp->platforms[i]);
    plats[i].binary = sp->binaries[i];
  }
  for(i = 0; i < sp->n_refs && !rc; i++) {
    rc = docker_ref_parse(sp->refs[i], &refs[i], err);
    if(!rc && !refs[i].tag)
      rc = VRUN_SET_ERR(err, VRUN_EINVAL, "image reference '%s' has no "
                        "tag", sp->refs[i]);
  }
  if(!rc && has_base)
    rc = docker_ref_parse(sp->base, &base, err);
  if(rc)
    goto out;

  if(h->dry_run(dc->vc)) {
    struct stat st;
    for(i = 0; i < sp->n_refs; i++)
      h->log(dc->vc, VRUN_LOG_INFO, "docker: push %s (%zu platforms, "
             "on %s)", sp->refs[i], sp->n_plats,
             has_base ? sp->base : "scratch");
    /* what each platform's layer would hold (the build has not run) */
    for(i = 0; i < sp->n_plats; i++) {
      if(stat(sp->binaries[i], &st))
        h->log(dc->vc, VRUN_LOG_INFO, "docker:   %s: %s (not built yet) "
               "as %s", sp->platforms[i], sp->binaries[i], sp->dest);
      else
        h->log(dc->vc, VRUN_LOG_INFO, "docker:   %s: %s (%jd bytes) as %s",
               sp->platforms[i], sp->binaries[i], (intmax_t)st.st_size,
               sp->dest);
    }
    if(sp->ca_certs && *sp->ca_certs)
      h->log(dc->vc, VRUN_LOG_INFO, "docker:   all: %s as "
             "/etc/ssl/certs/ca-certificates.crt", sp->ca_certs);
    goto out;
  }

  /* one session per repository, holding all of its tags */
  for(i = 0; i < sp->n_refs && !rc; i++) {
    for(k = 0; k < nt; k++)
      if(!strcmp(tg[k].s->registry, refs[i].registry) &&
         !strcmp(tg[k].s->repo, refs[i].repo))
        break;
    if(k == nt) {
      tg[nt].s = docker_session_new(dc, refs[i].registry, refs[i].repo, 1);
      tg[nt].tags = calloc(sp->n_refs, sizeof(char *));
      if(!tg[nt].s || !tg[nt].tags)
        rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
      if(tg[nt].s && has_base && !strcmp(base.registry, refs[i].registry) &&
         strcmp(base.repo, refs[i].repo))
        tg[nt].s->pull_from = strdup(base.repo);
      nt++;
    }
    if(!rc)
      tg[k].tags[tg[k].ntags++] = refs[i].tag;
  }
  if(rc)
    goto out;
  /* layers: one per binary, and the CA bundle for root-less images;
  ** queued first, so they build while the root image is read */
  nj = layer_files(sp, lf);
  for(i = 0; i < nj && !rc; i++) {
    want[i] = docker_cache_want(dc, &lf[i], 1, sp->epoch, sp->level, err);
    if(!want[i])
      rc = err->code;
  }
  if(!rc && has_base) {
    bs = docker_session_new(dc, base.registry, base.repo, 0);
    rc = bs ? load_base(bs, &base, sp->base, plats, sp->n_plats, &oci, err) :
      VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  }
  if(rc)
    goto out;

  t0 = now_s();
  if(has_base)
    rc = push_root_layers(dc, tg, nt, plats, sp->n_plats, bs, err);
  if(!rc)
    rc = push_new_layers(dc, tg, nt, want, lays, nj, &waited, err);
  if(rc)
    goto out;
  for(i = 0; i < sp->n_plats; i++)
    plats[i].bin = lays[i];
  if(nj > sp->n_plats)
    ca = lays[sp->n_plats];

  gmtime_r(&ep, &tm);
  strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
  for(i = 0; i < sp->n_plats && !rc; i++) {
    plats[i].config = make_config(sp, &plats[i], ca, created);
    if(plats[i].config) {
      docker_digest_of(plats[i].config, strlen(plats[i].config),
                       plats[i].config_digest);
      plats[i].manifest = make_manifest(&plats[i], ca, oci);
    }
    if(!plats[i].manifest)
      rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    else
      docker_digest_of(plats[i].manifest, strlen(plats[i].manifest),
                       plats[i].manifest_digest);
  }
  if(!rc) {
    index = make_index(plats, sp->n_plats, oci);
    if(!index)
      rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    else
      docker_digest_of(index, strlen(index), digest);
  }
  if(!rc)
    rc = push_manifests(dc, tg, nt, plats, sp->n_plats, index, oci, err);
  if(rc)
    goto out;
  h->log(dc->vc, VRUN_LOG_VERBOSE, "docker: %s: %zu layers pushed in "
         "%.2f s, %.2f s of it waiting for them to be built", sp->refs[0],
         nj, now_s() - t0, waited);
  for(k = 0; k < nt; k++)
    for(i = 0; i < tg[k].ntags; i++)
      h->log(dc->vc, VRUN_LOG_INFO, "docker: pushed %s/%s:%s (%zu "
             "platforms) %s", tg[k].s->registry, tg[k].s->repo,
             tg[k].tags[i], sp->n_plats, digest);
out:
  for(i = 0; plats && i < sp->n_plats; i++) {
    free(plats[i].bconfig);
    cJSON_Delete(plats[i].blayers);
    cJSON_free(plats[i].config);
    cJSON_free(plats[i].manifest);
  }
  for(k = 0; tg && k < nt; k++) {
    docker_session_free(tg[k].s);
    free(tg[k].tags);
  }
  for(i = 0; refs && i < sp->n_refs; i++)
    docker_ref_free(&refs[i]);
  docker_ref_free(&base);
  docker_session_free(bs);
  cJSON_free(index);
  free(refs);
  free(tg);
  free(plats);
  free(want);
  free(lays);
  free(lf);
  if(rc)
    digest[0] = 0;
  return rc;
}
/* }====== */

/* {====== retag ====== */

int docker_retag(struct docker_ctx *dc, const char *src,
                 char *const *dsts, size_t n,
                 char digest[DOCKER_DIGEST_LEN], struct vrun_err *err)
{
  struct docker_ref sr, dr;
  struct docker_session *s = NULL;
  char mt[128], *body = NULL;
  size_t len = 0, i;
  int rc;

  digest[0] = 0;
  rc = docker_ref_parse(src, &sr, err);
  if(rc)
    return rc;
  for(i = 0; i < n && !rc; i++) {
    rc = docker_ref_parse(dsts[i], &dr, err);
    if(!rc && (strcmp(dr.registry, sr.registry) || strcmp(dr.repo, sr.repo)
               || !dr.tag))
      rc = VRUN_SET_ERR(err, VRUN_ENOTSUP, "cannot tag %s as %s: only a "
                        "new tag of the same repository is supported",
                        src, dsts[i]);
    docker_ref_free(&dr);
  }
  if(rc)
    goto out;
  if(dc->host->dry_run(dc->vc)) {
    for(i = 0; i < n; i++)
      dc->host->log(dc->vc, VRUN_LOG_INFO, "docker: tag %s as %s", src,
                    dsts[i]);
    goto out;
  }
  s = docker_session_new(dc, sr.registry, sr.repo, 1);
  if(!s) {
    rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    goto out;
  }
  rc = docker_manifest_get(s, sr.digest ? sr.digest :
                           (sr.tag ? sr.tag : "latest"), &body, &len, mt,
                           sizeof(mt), err);
  if(!rc)
    docker_digest_of(body, len, digest);
  /* the same bytes under a new tag: the index digest does not change */
  for(i = 0; i < n && !rc; i++) {
    rc = docker_ref_parse(dsts[i], &dr, err);
    if(!rc)
      rc = docker_manifest_put(s, dr.tag, mt, body, len, err);
    if(!rc)
      dc->host->log(dc->vc, VRUN_LOG_INFO, "docker: tagged %s as %s %s",
                    src, dsts[i], digest);
    docker_ref_free(&dr);
  }
out:
  free(body);
  docker_session_free(s);
  docker_ref_free(&sr);
  if(rc)
    digest[0] = 0;
  return rc;
}
/* }====== */
