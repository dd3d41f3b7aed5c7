/*
** docker.h: internals shared by the docker module's files.
** SPDX-License-Identifier: MIT
*/
#ifndef DOCKER_H
#define DOCKER_H

#include <stddef.h>
#include <stdint.h>

#include "vrun_module.h"

/* Media types: the OCI ones, and Docker's schema 2 ones. */
#define DOCKER_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define DOCKER_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define DOCKER_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define DOCKER_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar+gzip"
#define DOCKER_MT_D_LIST \
  "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MT_D_MANIFEST \
  "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_D_CONFIG "application/vnd.docker.container.image.v1+json"
#define DOCKER_MT_D_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* "sha256:" + 64 hex digits + NUL */
#define DOCKER_DIGEST_LEN 72

/* What one module call needs from the host and the caller's options. */
struct docker_ctx {
  const struct vrun_host *host;
  struct vrun_ctx *vc;
  char **insecure;            /* registries spoken to over plain HTTP */
  size_t n_insecure;
  int concurrency;            /* parallel HTTP requests */
  /* what the call moved, for the caller and the tests */
  unsigned long blobs_uploaded;
  unsigned long blobs_skipped;
  unsigned long blobs_mounted;
  uint64_t bytes_uploaded;
};

/* A parsed image reference: registry/repo[:tag][@digest]. */
struct docker_ref {
  char *registry;   /* as written, e.g. "docker.io", "127.0.0.1:5000" */
  char *repo;       /* e.g. "library/alpine" */
  char *tag;        /* NULL when absent */
  char *digest;     /* NULL when absent */
};

/* One repository on one registry, with its auth state. */
struct docker_session {
  struct docker_ctx *dc;
  char *registry;
  char *base;       /* "https://host" or "http://host" */
  char *repo;
  char *pull_from;  /* another repo of this registry we mount from */
  char *auth;       /* "Authorization: ..." header, or NULL */
  int push;         /* ask for push rights */
  int pinged;
};

/* A blob to make present in a repository. */
struct docker_blob {
  char digest[DOCKER_DIGEST_LEN];
  uint64_t size;
  const char *file;           /* local content, or ... */
  const void *data;           /* ... content in memory, or ... */
  struct docker_session *src; /* ... a repository holding it */
  char *fetched;              /* set when fetched from src to a file */
};

/* {====== ref.c / registry.c ====== */

/* Parse "name[:tag][@digest]" with Docker's defaults (docker.io,
** library/). Returns VRUN_OK, or VRUN_EINVAL with *err filled; fields are
** malloc'd, freed by docker_ref_free. */
int docker_ref_parse(const char *s, struct docker_ref *ref,
                     struct vrun_err *err);
/* Free ref's fields and zero it (safe on a zeroed ref). */
void docker_ref_free(struct docker_ref *ref);

/* A new session for registry/repo, or NULL when out of memory. Freed by
** docker_session_free. */
struct docker_session *docker_session_new(struct docker_ctx *dc,
                                          const char *registry,
                                          const char *repo, int push);
/* Free a session (NULL is fine). */
void docker_session_free(struct docker_session *s);

/* GET a manifest by tag or digest. On VRUN_OK *body (malloc'd, caller
** frees), *len and media_type (from the response) are filled; a missing
** manifest is VRUN_ENOENT. */
int docker_manifest_get(struct docker_session *s, const char *reference,
                        char **body, size_t *len, char *media_type,
                        size_t mtsize, struct vrun_err *err);

/* PUT a manifest under a tag or digest. Returns VRUN_OK or an error. */
int docker_manifest_put(struct docker_session *s, const char *reference,
                        const char *media_type, const char *body,
                        size_t len, struct vrun_err *err);

/* GET a blob into memory (*body malloc'd, caller frees) or, with
** file set, into that file. Returns VRUN_OK or an error. */
int docker_blob_get(struct docker_session *s, const char *digest,
                    const char *file, char **body, size_t *len,
                    struct vrun_err *err);

/* Make every blob present in s's repository: HEAD first (skip what is
** there), mount from a blob's source repository on the same registry,
** else upload (downloading from its source first when needed). Updates
** the counters of s->dc. Returns VRUN_OK or the first error. */
int docker_blobs_push(struct docker_session *s, struct docker_blob *blobs,
                      size_t n, struct vrun_err *err);
/* }====== */

/* {====== layer.c ====== */

/* One file in a layer. */
struct docker_layer_file {
  const char *src;     /* local file */
  const char *dest;    /* path in the image, e.g. "/vmagent-prod" */
  int mode;            /* e.g. 0755 */
};

/* A built layer: a tar.gz blob in a file. */
struct docker_layer {
  char *file;                       /* malloc'd path of the blob */
  char digest[DOCKER_DIGEST_LEN];   /* of the compressed blob */
  char diff_id[DOCKER_DIGEST_LEN];  /* of the uncompressed tar */
  uint64_t size;
};

/*
** Write a reproducible tar.gz holding `files` (and their parent folders)
** to `out`: sorted entries, mtime `epoch`, uid/gid 0, no names, fixed
** gzip header. Thread-safe; calls no host service. Returns VRUN_OK and
** fills *layer (layer->file = strdup(out)), or an error with *err filled.
*/
int docker_layer_build(const struct docker_layer_file *files, size_t n,
                       long long epoch, int level, const char *out,
                       struct docker_layer *layer, struct vrun_err *err);
/* }====== */

/* {====== util ====== */

/* "sha256:<hex>" of a buffer, written to out. Thread-safe. */
void docker_digest_of(const void *data, size_t len,
                      char out[DOCKER_DIGEST_LEN]);
/* malloc'd printf result, or NULL when out of memory. */
char *docker_aprintf(const char *fmt, ...)
  __attribute__((format(printf, 1, 2)));
/* }====== */

#endif
