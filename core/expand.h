/*
** expand.h: make-style expansion of command lines.
** SPDX-License-Identifier: MIT
**
** $(VAR) is a vrun variable (nesting allowed: $(CC_$(ARCH))), $@ the
** target, $< its first dependency, $^ all dependencies, $$ a literal $.
** $NAME, ${NAME} and any other $ are left for the shell.
*/
#ifndef VRUN_EXPAND_H
#define VRUN_EXPAND_H

#include <stddef.h>

/* Returns the value of a variable or NULL when it is unset. */
typedef const char *(*vrun_expand_lookup_fn)(void *ud, const char *name);

struct vrun_expand_auto {
  const char *target;     /* $@ */
  const char *first_dep;  /* $< */
  const char *all_deps;   /* $^ */
};

/*
** Expand `in`. Returns 0 with *out a malloc'd string the caller frees;
** VRUN_ENOENT when a $(VAR) is unset (its name copied into badvar);
** VRUN_EINVAL for an unterminated "$(" (badvar says so); VRUN_ENOMEM.
** `a` may be NULL: automatic variables then expand to "".
*/
int vrun_expand(const char *in, vrun_expand_lookup_fn lookup, void *ud,
                const struct vrun_expand_auto *a, char **out,
                char *badvar, size_t badvarlen);

#endif
