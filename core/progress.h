/*
** progress.h: progress display for long work (uploads, archives).
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_PROGRESS_H
#define VRUN_PROGRESS_H

#include <stdint.h>

#include "vrun_module.h"

/*
** Start a display for `label` over total_bytes (0: unknown). On a TTY
** (stderr) a bar with bytes and rate is redrawn at most ~10 times a
** second; otherwise a line is printed every 10%; under -s nothing. Returns
** a handle the caller ends with vrun_progress_end, or NULL when out of
** memory (every function accepts NULL and does nothing).
*/
struct vrun_progress *vrun_progress_start(struct vrun_ctx *ctx,
                                          const char *label,
                                          uint64_t total_bytes);
/* Record that done_bytes are done; cheap enough to call per buffer. */
void vrun_progress_update(struct vrun_progress *p, uint64_t done_bytes);
/* Set the total once it is known (a download's Content-Length). */
void vrun_progress_set_total(struct vrun_progress *p, uint64_t total);
/* Print the last state (ok or failed) and free the handle. */
void vrun_progress_end(struct vrun_progress *p, int ok);

#endif
