/*
** ctx.h: the state of one run, shared by the core's files. Modules see
** only the opaque `struct vrun_ctx` through vrun_module.h.
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_CTX_H
#define VRUN_CTX_H

#include <signal.h>
#include <stddef.h>
#include <lua.h>

#include "vrun_module.h"

struct vrun_vars;

struct vrun_ctx {
  /* options (cli.c) */
  int dry_run;          /* -n */
  int silent;           /* -s */
  int verbose;          /* -v */
  int keep_going;       /* -k */
  int always_make;      /* -B */
  int question;         /* -q */
  int env_override;     /* -e */
  int jobs;             /* -j N; 1 by default */
  char **module_dirs;   /* -M DIR, in the order given */
  size_t n_module_dirs;

  /* where things are (main.c): the build tree when vrun runs from it,
  ** else $(PREFIX)/lib/vrun and $(PREFIX)/share/vrun */
  char *exe_dir;        /* folder holding the running binary */
  char *lib_dir;        /* holds modules/ and vrun-svc.so */
  char *share_dir;      /* holds tasks/ and lua/ */

  struct vrun_vars *vars;
  lua_State *L;
  volatile sig_atomic_t interrupted;
};

/* {====== services of the core runner, used by host.c ====== */

/* A variable's value under make's precedence, or NULL. Registers it as a
** secret when its name or value looks secret. */
const char *vrun_var_lookup(struct vrun_ctx *ctx, const char *name);

/* Paths deleted if the run is interrupted (async-signal-safe unlink). */
void vrun_cleanup_add(const char *path);
void vrun_cleanup_remove(const char *path);
/* }====== */

/* {====== module loader and host (modload.c, host.c) ====== */

/* Install the `require` searcher that finds modules on the module path. */
void vrun_modload_install(lua_State *L, struct vrun_ctx *ctx);

/* `require` a module now, so a missing or broken one stops the run before
** any task runs. Returns VRUN_OK or a code with *err filled. */
int vrun_modload_preload(lua_State *L, struct vrun_ctx *ctx,
                         const char *name, struct vrun_err *err);

/* Print `vrun --modules`; returns the exit status. */
int vrun_modload_list(struct vrun_ctx *ctx);

/* The services table lent to modules (filled on first use). */
const struct vrun_host *vrun_host_get(struct vrun_ctx *ctx);
/* }====== */

#endif
