/*
** log.h: every byte vrun prints goes through here, masked.
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_LOG_H
#define VRUN_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* Levels are those of vrun_module.h (VRUN_LOG_ERROR ... VRUN_LOG_VERBOSE). */

/* Set from -s / -v. silent hides INFO; verbose shows VERBOSE. */
void vrun_log_setup(int silent, int verbose);
int vrun_log_silent(void);
int vrun_log_verbose(void);

/*
** Where output of the running task goes. With -j > 1 the job runner
** points this at a per-task buffer so a task's lines stay together; NULL
** (the default) writes straight to the file descriptor. Per thread.
*/
typedef void (*vrun_log_sink_fn)(void *ud, int fd, const char *buf,
                                 size_t len);
void vrun_log_set_sink(vrun_log_sink_fn fn, void *ud);

/*
** Write buf[0..len) to fd (1 or 2) with secrets masked, retrying short
** writes. Goes to the current sink if one is set. Thread-safe: one call
** is never interleaved with another.
*/
void vrun_log_write(int fd, const char *buf, size_t len);

/* Same, bypassing the sink (used to flush a sink's buffer). */
void vrun_log_write_direct(int fd, const char *buf, size_t len);

/*
** printf-style line at a level; a newline is added. ERROR lines read
** "vrun: <msg>", WARN "vrun: warning: <msg>" (stderr); INFO and VERBOSE
** print <msg> on stdout.
*/
void vrun_log(int level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
void vrun_log_v(int level, const char *fmt, va_list ap);

#endif
