/*
** svc.c: entry point of lib/vrun-svc.so (see svc.h).
** SPDX-License-Identifier: MIT
*/
#define VRUN_SVC_LIBRARY
#include <stdarg.h>
#include <stdio.h>

#include <curl/curl.h>

#include "svc.h"

const struct vrun_svc_core *vrun_svc_core;

/* printf-style line through the core's masked logger. */
void vrun_svc_log(int level, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vrun_svc_core->log_v(level, fmt, ap);
  va_end(ap);
}

/* The library's one export; see vrun_svc_init_fn in svc.h. */
__attribute__((visibility("default")))
int vrun_svc_init(const struct vrun_svc_core *core, struct vrun_svc *svc,
                  struct vrun_err *err)
{
  if(!core || core->version != VRUN_SVC_VERSION)
    return VRUN_SET_ERR(err, VRUN_ENOTSUP, "vrun-svc.so is version %d, "
                        "this vrun needs %d", VRUN_SVC_VERSION,
                        core ? (int)core->version : 0);
  if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return VRUN_SET_ERR(err, VRUN_ENOTSUP, "libcurl failed to initialise");
  vrun_svc_core = core;
  svc->version = VRUN_SVC_VERSION;
  svc->http_perform = vrun_http_perform;
  svc->http_perform_many = vrun_http_perform_many;
  svc->sha256_file = vrun_digest_sha256_file;
  svc->sha256 = vrun_digest_sha256;
  svc->hmac = vrun_digest_hmac;
  svc->http_header = vrun_http_header;
  return VRUN_OK;
}
