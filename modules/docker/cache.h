/*
** cache.h: the run's layers, built in the background (cache.c).
** SPDX-License-Identifier: MIT
*/
#ifndef DOCKER_CACHE_H
#define DOCKER_CACHE_H

#include "docker.h"

struct docker_cache_entry;

/* The run's temp folder ($TMPDIR/vrun-docker.XXXXXX), made on first use
** and removed by docker_cache_clear; NULL with *err filled on failure. */
const char *docker_cache_dir(struct vrun_err *err);

/*
** The layer holding files[0..n): found in the run's cache, or queued for
** a worker thread to build (this returns at once). Call from the Lua
** thread only. Returns the entry (owned by the cache), or NULL with *err
** filled (a source file that cannot be read is reported here).
*/
struct docker_cache_entry *docker_cache_want(struct docker_ctx *dc,
                                             const struct docker_layer_file
                                             *files, size_t n,
                                             long long epoch, int level,
                                             struct vrun_err *err);

/* Wait until e is built. Returns VRUN_OK with *layer pointing into the
** cache (valid until docker_cache_clear), the build's error, or
** VRUN_EINTR after Ctrl-C. */
int docker_cache_wait(struct docker_ctx *dc, struct docker_cache_entry *e,
                      const struct docker_layer **layer,
                      struct vrun_err *err);

/* Non-zero when e is built (or failed): waiting on it returns at once. */
int docker_cache_ready(struct docker_cache_entry *e);

/* Stop the workers (the layer in hand is finished, the queue dropped)
** and remove every cached file. h may be NULL. */
void docker_cache_clear(const struct vrun_host *h, struct vrun_ctx *vc);

#endif
