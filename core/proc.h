/*
** proc.h: run a subprocess from an argv (no shell) for modules.
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_PROC_H
#define VRUN_PROC_H

#include <stddef.h>

#include "vrun_module.h"

/*
** Run argv[0] (searched on PATH) with argv in cwd (NULL: current folder).
** flags are VRUN_RUN_*. The command line is echoed (masked) unless QUIET
** or -s; under -n it is echoed and not run unless READONLY. stdout is
** captured into *out (malloc'd, NUL-terminated, the caller frees) with
** CAPTURE, else passed through vrun's masked output line by line, like
** stderr always is. Returns VRUN_OK; VRUN_EPROC when the command cannot
** start or exits non-zero (unless NOFAIL: read *exit_status, 128+signal
** for a signal); VRUN_EINTR when the run was interrupted (the child is
** sent SIGTERM). On error *out is NULL.
*/
int vrun_proc_run(struct vrun_ctx *ctx, const char *const *argv,
                  const char *cwd, int flags, char **out, size_t *outlen,
                  int *exit_status, struct vrun_err *err);

/* Write `argv` joined, with shell quoting where needed, into buf. */
void vrun_proc_format(const char *const *argv, char *buf, size_t size);

#endif
