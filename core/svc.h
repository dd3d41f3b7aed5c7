/*
** svc.h: the interface between the vrun executable and lib/vrun-svc.so,
** the private library holding the services that need libcurl and
** libcrypto. Linking those into vrun costs ~4 ms per start, so host.c
** dlopens the library the first time a module asks for HTTP or a digest.
** SPDX-License-Identifier: MIT
**
** The executable exports no symbols, so everything the library needs from
** the core (masked logging, dry-run, interruption, progress, cleanup)
** arrives as function pointers in struct vrun_svc_core. The library
** exports one symbol, vrun_svc_init, which fills struct vrun_svc. Both are
** built from this tree at once, so a version number guards only against a
** stale library left next to a newer binary.
*/
#ifndef VRUN_SVC_H
#define VRUN_SVC_H

#include <stdarg.h>
#include <stdint.h>

#include "vrun_module.h"

#define VRUN_SVC_VERSION 1
#define VRUN_SVC_INIT_SYMBOL "vrun_svc_init"

/* What the core lends the library. */
struct vrun_svc_core {
  uint32_t version;              /* VRUN_SVC_VERSION */
  const char *vrun_version;      /* for User-Agent */
  void (*log_v)(int level, const char *fmt, va_list ap);
  int (*dry_run)(struct vrun_ctx *ctx);
  int (*interrupted)(struct vrun_ctx *ctx);
  void (*cleanup_add)(const char *path);
  void (*cleanup_remove)(const char *path);
  struct vrun_progress *(*progress_start)(struct vrun_ctx *ctx,
                                          const char *label,
                                          uint64_t total_bytes);
  void (*progress_update)(struct vrun_progress *p, uint64_t done_bytes);
  void (*progress_set_total)(struct vrun_progress *p, uint64_t total);
  void (*progress_end)(struct vrun_progress *p, int ok);
};

/* What the library provides: the signatures of struct vrun_host. */
struct vrun_svc {
  uint32_t version;              /* VRUN_SVC_VERSION */
  int (*http_perform)(struct vrun_ctx *ctx,
                      const struct vrun_http_request *req,
                      struct vrun_http_response *resp,
                      struct vrun_err *err);
  int (*http_perform_many)(struct vrun_ctx *ctx,
                           const struct vrun_http_request *const *reqs,
                           struct vrun_http_response *const *resps,
                           size_t n, int concurrency,
                           struct vrun_err *err);
  int (*sha256_file)(struct vrun_ctx *ctx, const char *path,
                     unsigned char out[32], struct vrun_err *err);
  int (*sha256)(const void *data, size_t len, unsigned char out[32]);
  int (*hmac)(const char *algo, const void *key, size_t keylen,
              const void *data, size_t len,
              unsigned char out[64], unsigned int *outlen,
              struct vrun_err *err);
  /* Same contract as vrun_host.http_header. */
  int (*http_header)(const struct vrun_http_response *resp,
                     const char *name, char *buf, size_t bufsize);
};

/*
** The library's one export. Keeps `core` (which must outlive the
** library) and fills *svc. Returns VRUN_OK, or VRUN_ENOTSUP with *err
** filled when the versions differ or libcurl fails to initialise.
*/
typedef int (*vrun_svc_init_fn)(const struct vrun_svc_core *core,
                                struct vrun_svc *svc, struct vrun_err *err);

/* {====== inside the library only (svc.c, http*.c, digest.c) ====== */
#ifdef VRUN_SVC_LIBRARY
extern const struct vrun_svc_core *vrun_svc_core;
void vrun_svc_log(int level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

int vrun_http_perform(struct vrun_ctx *ctx,
                      const struct vrun_http_request *req,
                      struct vrun_http_response *resp,
                      struct vrun_err *err);
int vrun_http_perform_many(struct vrun_ctx *ctx,
                           const struct vrun_http_request *const *reqs,
                           struct vrun_http_response *const *resps,
                           size_t n, int concurrency,
                           struct vrun_err *err);
int vrun_digest_sha256_file(struct vrun_ctx *ctx, const char *path,
                            unsigned char out[32], struct vrun_err *err);
int vrun_digest_sha256(const void *data, size_t len, unsigned char out[32]);
int vrun_http_header(const struct vrun_http_response *resp,
                     const char *name, char *buf, size_t bufsize);
int vrun_digest_hmac(const char *algo, const void *key, size_t keylen,
                     const void *data, size_t len,
                     unsigned char out[64], unsigned int *outlen,
                     struct vrun_err *err);
#endif
/* }====== */

#endif
