/*
** vrun_module.h: the whole contract between vrun and a module.
** SPDX-License-Identifier: MIT
**
** A module is a shared object that exports exactly one symbol:
**
**   const struct vrun_module vrun_module = {
**     .abi = VRUN_ABI_VERSION, .name = "hello", .version = "1.0.0",
**     .summary = "Says hello", .open = hello_open };
**
** `require "hello"` in a task file makes vrun find hello.so on the module
** path, dlopen it (RTLD_NOW | RTLD_LOCAL), check `abi`, then call `open`,
** which pushes the module's Lua table. Everything a module may ask of vrun
** arrives through the `struct vrun_host` passed to `open`: the executable
** exports no symbols, so a module can use only what this header promises.
**
** Build out of tree:
**   cc -shared -fPIC $(pkg-config --cflags vrun-module) -o hello.so hello.c
**
** This header includes only system headers and <lua.h> (<stdio.h> for
** VRUN_SET_ERR's snprintf). Read it top to
** bottom: ABI number, status codes, opaque types, the host services, the
** module descriptor, helper macros.
*/
#ifndef VRUN_MODULE_H
#define VRUN_MODULE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <lua.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
** {======================================================================
** ABI version
** =======================================================================
** A plain integer, independent of vrun's release number. It is bumped only
** when a change breaks modules built against an older header: a field of
** struct vrun_module or struct vrun_host removed, reordered or retyped.
** Appending a service to struct vrun_host does not bump it (see
** VRUN_HOST_HAS below).
*/
#define VRUN_ABI_VERSION 1
/* }====================================================================== */

/*
** {======================================================================
** Status codes
** =======================================================================
** Every service returns VRUN_OK (0) or one of these, and fills the
** caller's struct vrun_err with a one-line message. Append-only: a code
** is never renumbered or removed.
*/
enum vrun_status {
  VRUN_OK = 0,
  VRUN_EINVAL = 1,     /* bad argument from the caller */
  VRUN_ENOMEM = 2,     /* out of memory */
  VRUN_EIO = 3,        /* a local file could not be read or written */
  VRUN_ENOENT = 4,     /* a file, variable or object does not exist */
  VRUN_ENET = 5,       /* connection failed, reset or timed out, even
                          after the retries */
  VRUN_EHTTP = 6,      /* the server answered with an error status */
  VRUN_ERATELIMIT = 7, /* rate limited longer than the retry budget allows */
  VRUN_EPROC = 8,      /* a subprocess failed to start or exited non-zero */
  VRUN_EINTR = 9,      /* interrupted by SIGINT/SIGTERM */
  VRUN_ENOTSUP = 10,   /* service not available in this build or host */
  VRUN_ECRYPTO = 11    /* the crypto library failed */
};

/*
** An error: a status code and a message. Messages never hold a registered
** secret (the host masks them before they are printed).
*/
#define VRUN_ERR_MSG_SIZE 512
struct vrun_err {
  int code;
  char msg[VRUN_ERR_MSG_SIZE];
};
/* }====================================================================== */

/*
** {======================================================================
** Opaque types
** =======================================================================
*/
struct vrun_ctx;       /* the run: options, variables, output */
struct vrun_progress;  /* one progress display */
/* }====================================================================== */

/*
** {======================================================================
** Log levels
** =======================================================================
*/
enum vrun_log_level {
  VRUN_LOG_ERROR = 0,   /* always shown, on stderr, prefixed "vrun: " */
  VRUN_LOG_WARN = 1,    /* always shown, on stderr, prefixed
                           "vrun: warning: " */
  VRUN_LOG_INFO = 2,    /* stdout; hidden by -s */
  VRUN_LOG_VERBOSE = 3  /* stdout; shown only with -v */
};
/* }====================================================================== */

/*
** {======================================================================
** HTTP
** =======================================================================
** One request. Start with `size = sizeof(struct vrun_http_request)`; the
** host reads only the fields that size covers, so a module built against
** an older header keeps working. Zeroed fields mean "the default".
*/
struct vrun_http_request {
  uint32_t size;
  const char *method;            /* "GET" (default), "POST", "PATCH", ... */
  const char *url;
  const char *const *headers;    /* "Name: value" strings, NULL-terminated */
  const void *body;              /* request body from memory, or ... */
  size_t body_len;
  const char *body_file;         /* ... streamed from this file with an
                                    exact Content-Length (never chunked) */
  const char *response_file;     /* if set, a 2xx body is written here
                                    (temp file + rename), not to memory */
  const int *final_statuses;     /* 0-terminated: statuses never retried
                                    even if they are normally retried */
  long connect_timeout_ms;       /* default 10000 */
  long idle_timeout_ms;          /* no byte moved for this long: retry;
                                    default 60000 */
  int max_attempts;              /* default VRUN_ATTEMPTS or 5 */
  const char *progress_label;    /* if set, show upload/download progress */
  /* -- appended; the host ignores what an older module's size omits -- */
  long start_after_ms;           /* http_perform_many: do not send this
                                    request before this long after the
                                    call began (pacing writes, e.g. i*1000
                                    for one start per second) */
};

/*
** The outcome of one request, filled by the host. Free it with
** host->http_response_free(). `status` is the final HTTP status (0 when no
** response arrived). `body` is NUL-terminated for convenience.
*/
struct vrun_http_response {
  uint32_t size;
  long status;
  char *body;          /* malloc'd by the host */
  size_t body_len;
  char *headers;       /* raw header block of the final response */
  size_t headers_len;
  int attempts;        /* how many times the request was sent */
  int rc;              /* for http_perform_many: this request's status */
  char error[256];     /* and its message when rc != VRUN_OK */
};
/* }====================================================================== */

/*
** {======================================================================
** Subprocesses
** =======================================================================
*/
#define VRUN_RUN_CAPTURE  0x1  /* collect stdout into *out (else pass it
                                  through vrun's masked output) */
#define VRUN_RUN_READONLY 0x2  /* harmless query: runs even under -n */
#define VRUN_RUN_QUIET    0x4  /* do not echo the command line */
#define VRUN_RUN_NOFAIL   0x8  /* a non-zero exit is not an error: read
                                  *exit_status instead */
/* }====================================================================== */

/*
** {======================================================================
** The host: services vrun lends to every module
** =======================================================================
** Grows only at its tail. `size` is the core's sizeof(struct vrun_host);
** test a service newer than the oldest host you support with
** VRUN_HOST_HAS(host, name) before calling it. Unless said otherwise, a
** function returns VRUN_OK or a status code with *err filled, and memory
** it returns is freed with host->free.
*/
struct vrun_host {
  uint32_t abi;                  /* VRUN_ABI_VERSION of the core */
  uint32_t size;                 /* sizeof(struct vrun_host) in the core */
  struct vrun_ctx *ctx;          /* first argument of every service */
  const char *vrun_version;      /* e.g. "0.1.0", for User-Agent strings */

  /* -- output ---------------------------------------------------------- */
  /* Print a line at a level (no trailing newline needed). Masked. */
  void (*log)(struct vrun_ctx *ctx, int level, const char *fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 3, 4)))
#endif
      ;
  /* Register a secret: from now on it is printed as "***" everywhere. */
  void (*secret)(struct vrun_ctx *ctx, const char *value);

  /* -- run state ------------------------------------------------------- */
  int (*dry_run)(struct vrun_ctx *ctx);      /* non-zero under -n */
  int (*interrupted)(struct vrun_ctx *ctx);  /* non-zero after SIGINT */
  /* A variable's value, or NULL when unset. Valid until the variable
  ** changes; copy it to keep it. Secret-looking values get registered. */
  const char *(*var_get)(struct vrun_ctx *ctx, const char *name);
  /* Paths removed if the run is interrupted (temp files being written). */
  void (*cleanup_add)(struct vrun_ctx *ctx, const char *path);
  void (*cleanup_remove)(struct vrun_ctx *ctx, const char *path);

  /* -- progress (nothing under -s; a bar on a TTY, else ~10% lines) ---- */
  struct vrun_progress *(*progress_start)(struct vrun_ctx *ctx,
                                          const char *label,
                                          uint64_t total_bytes);
  void (*progress_update)(struct vrun_progress *p, uint64_t done_bytes);
  void (*progress_end)(struct vrun_progress *p, int ok);

  /* -- HTTP (libcurl) ------------------------------------------------- */
  /* Send one request with retries, back-off and rate-limit waits. A
  ** response with any status is VRUN_OK: read resp->status. Only a
  ** transport failure after the retry budget is an error. */
  int (*http_perform)(struct vrun_ctx *ctx,
                      const struct vrun_http_request *req,
                      struct vrun_http_response *resp,
                      struct vrun_err *err);
  /* Run n requests, at most `concurrency` at a time, each with its own
  ** retries; per-request outcome in resps[i]->rc / ->error. Returns
  ** VRUN_OK unless the call itself could not start. */
  int (*http_perform_many)(struct vrun_ctx *ctx,
                           const struct vrun_http_request *const *reqs,
                           struct vrun_http_response *const *resps,
                           size_t n, int concurrency,
                           struct vrun_err *err);
  void (*http_response_free)(struct vrun_http_response *resp);
  /* Copy the value of header `name` (case-insensitive) of the final
  ** response into buf. Returns VRUN_OK, or VRUN_ENOENT when absent. */
  int (*http_header)(const struct vrun_http_response *resp,
                     const char *name, char *buf, size_t bufsize);

  /* -- digests (OpenSSL libcrypto) ------------------------------------ */
  int (*sha256_file)(struct vrun_ctx *ctx, const char *path,
                     unsigned char out[32], struct vrun_err *err);
  int (*sha256)(const void *data, size_t len, unsigned char out[32]);
  /* algo is "sha1" or "sha256"; *outlen receives 20 or 32. */
  int (*hmac)(const char *algo, const void *key, size_t keylen,
              const void *data, size_t len,
              unsigned char out[64], unsigned int *outlen,
              struct vrun_err *err);

  /* -- subprocesses ---------------------------------------------------- */
  /* Run argv (no shell) in cwd (NULL: current). flags: VRUN_RUN_*. With
  ** CAPTURE, *out receives stdout (free with host->free), NUL-terminated.
  ** Under -n the command is printed and not run, unless READONLY. */
  int (*run)(struct vrun_ctx *ctx, const char *const *argv,
             const char *cwd, int flags,
             char **out, size_t *outlen, int *exit_status,
             struct vrun_err *err);

  /* -- files ----------------------------------------------------------- */
  /* Write data to path atomically (temp file in the same folder, fsync,
  ** rename). Under -n nothing is written. */
  int (*write_file)(struct vrun_ctx *ctx, const char *path,
                    const void *data, size_t len, struct vrun_err *err);

  void (*free)(void *p);
  /* New services are appended here. */
};

/* Non-zero when the host provides service `field`. */
#define VRUN_HOST_HAS(host, field)                                        \
  ((host)->size >= offsetof(struct vrun_host, field) +                    \
                   sizeof(((struct vrun_host *)0)->field) &&              \
   (host)->field != NULL)
/* }====================================================================== */

/*
** {======================================================================
** The module descriptor
** =======================================================================
** `open` runs once, the first time a task file requires the module. It
** pushes exactly one value (the module's table, built with luaL_newlib so
** Lua checks its own version) and returns VRUN_OK; or returns a status
** with err->msg saying why, pushing nothing. It must not raise, exit or
** print; keep `host`: it lives as long as the run.
*/
typedef int (*vrun_open_fn)(lua_State *L, const struct vrun_host *host,
                            struct vrun_err *err);

struct vrun_module {
  uint32_t abi;           /* VRUN_ABI_VERSION; first, so it is checked
                             before anything else is trusted */
  const char *name;       /* what `require` asks for */
  const char *version;    /* the module's own version */
  const char *summary;    /* one line for `vrun --modules` */
  vrun_open_fn open;
};

/* Fill a struct vrun_err; returns its code, for `return VRUN_SET_ERR(...)`.
** A message longer than the buffer is cut, on purpose: the (void)(... < 0)
** tells -Wformat-truncation so. */
#define VRUN_SET_ERR(err, c, ...)                                         \
  ((err) ? ((err)->code = (c),                                            \
            (void)(snprintf((err)->msg, sizeof((err)->msg),               \
                            __VA_ARGS__) < 0),                            \
            (c))                                                          \
         : (c))
/* }====================================================================== */

#ifdef __cplusplus
}
#endif
#endif /* VRUN_MODULE_H */
