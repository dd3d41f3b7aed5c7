/*
** vars.h: vrun variables with make's precedence.
** SPDX-License-Identifier: MIT
**
** An effective value is chosen, highest first, from: the invoke overlay
** of the running task, the command line, the task file (`var.X = ...`),
** the environment, `default {}`. With -e the environment beats the task
** file. Command-line, task-file and overlay values are exported to
** children (like make exports command-line variables).
*/
#ifndef VRUN_VARS_H
#define VRUN_VARS_H

#include <stddef.h>

enum vrun_var_origin {
  VRUN_VAR_UNSET = 0,
  VRUN_VAR_DEFAULT,
  VRUN_VAR_ENV,
  VRUN_VAR_FILE,
  VRUN_VAR_CMDLINE,
  VRUN_VAR_OVERLAY
};

/* Variables given to invoke(): sorted by name; `key` names the set. */
struct vrun_overlay {
  size_t n;
  char **names;
  char **values;
  char *key;       /* "A=1\nB=2" ("" when empty): dedup of invokes */
};

struct vrun_vars;

/* A new, empty set; NULL when out of memory. Free with vrun_vars_free. */
struct vrun_vars *vrun_vars_new(int env_override);
void vrun_vars_free(struct vrun_vars *v);

/*
** Set (value != NULL) or unset a variable at one origin (DEFAULT, FILE
** or CMDLINE). Returns 0, or -1 when out of memory or name is invalid.
*/
int vrun_vars_set(struct vrun_vars *v, int origin, const char *name,
                  const char *value);

/*
** The effective value of name, or NULL; *origin (if not NULL) receives
** where it came from. Does not register secrets (see vrun_var_lookup).
** The pointer is valid until the variable changes.
*/
const char *vrun_vars_get(struct vrun_vars *v, const char *name,
                          int *origin);

/* The overlay consulted first by vrun_vars_get (NULL: none). */
void vrun_vars_set_overlay(struct vrun_vars *v,
                           const struct vrun_overlay *ov);
const struct vrun_overlay *vrun_vars_overlay(struct vrun_vars *v);

/*
** Extra "NAME=value" strings always put in children's environments
** (VRUNFLAGS). The string is copied. Returns 0 or -1.
*/
int vrun_vars_add_env(struct vrun_vars *v, const char *name_value);

/*
** The environment for a child: environ with exported variables put in.
** Owned by v, valid until the next call or variable change; NULL when
** out of memory.
*/
char **vrun_vars_environ(struct vrun_vars *v);

/* Non-zero when name is a valid variable name ([A-Za-z_][A-Za-z0-9_]*
** plus '.' and '-' after the first character). */
int vrun_vars_valid_name(const char *name);

/*
** Build an overlay from base (may be NULL) plus names/values (n pairs),
** later ones winning. Returns a malloc'd overlay (free with
** vrun_overlay_free) or NULL when out of memory.
*/
struct vrun_overlay *vrun_overlay_new(const struct vrun_overlay *base,
                                      const char *const *names,
                                      const char *const *values, size_t n);
void vrun_overlay_free(struct vrun_overlay *ov);

#endif
