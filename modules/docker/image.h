/*
** image.h: building, pushing and retagging images (image.c).
** SPDX-License-Identifier: MIT
*/
#ifndef DOCKER_IMAGE_H
#define DOCKER_IMAGE_H

#include "docker.h"

/* What to publish: one image, every platform, under every reference. */
struct docker_image_spec {
  char **refs;                 /* "registry/repo:tag" */
  size_t n_refs;
  const char *base;            /* root image; NULL or "scratch": none */
  const char *ca_certs;        /* CA bundle for a layer, or NULL */
  const char *dest;            /* the binary's path in the image */
  char **entrypoint;
  size_t n_entrypoint;
  char **expose;               /* "8429/tcp" */
  size_t n_expose;
  char **label_keys;           /* sorted */
  char **label_vals;
  size_t n_labels;
  char **platforms;            /* "linux/amd64", in index order */
  char **binaries;             /* the file for each platform */
  size_t n_plats;
  long long epoch;             /* mtimes and "created" */
  int level;                   /* gzip level */
};

/*
** Build and push the image described by sp. Returns VRUN_OK with the
** index digest in `digest`, or an error with *err filled (what was
** pushed stays pushed: blobs and manifests are content-addressed, and
** tags are written last). Under -n only says what it would push.
*/
int docker_publish(struct docker_ctx *dc, const struct docker_image_spec *sp,
                   char digest[DOCKER_DIGEST_LEN], struct vrun_err *err);

/*
** Point each tag of dsts (same repository as src) at src's manifest or
** index, byte for byte. Returns VRUN_OK with the digest, or an error.
*/
int docker_retag(struct docker_ctx *dc, const char *src,
                 char *const *dsts, size_t n,
                 char digest[DOCKER_DIGEST_LEN], struct vrun_err *err);

/*
** Queue the layers of sp for the background workers and return at once,
** so they build while earlier images are pushed. Returns VRUN_OK, or an
** error (e.g. a binary that cannot be read). Nothing under -n.
*/
int docker_prepare(struct docker_ctx *dc, const struct docker_image_spec *sp,
                   struct vrun_err *err);

#endif
