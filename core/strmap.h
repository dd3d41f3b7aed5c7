/*
** strmap.h: a string-keyed hash map (open addressing) for the graph and
** the variables, so lookups stay O(1) on 10,000-task files.
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_STRMAP_H
#define VRUN_STRMAP_H

#include <stddef.h>

struct vrun_strmap_slot {
  char *key;       /* owned copy; NULL when the slot is empty */
  size_t hash;
  void *val;
};

struct vrun_strmap {
  struct vrun_strmap_slot *slots;
  size_t cap;      /* power of two, or 0 */
  size_t n;
};

/*
** Store val under a copy of key, replacing an older value (returned in
** *old when old is not NULL). Returns 0, or -1 when out of memory (the map
** is unchanged).
*/
int vrun_strmap_put(struct vrun_strmap *m, const char *key, void *val,
                    void **old);

/* The value stored under key, or NULL. */
void *vrun_strmap_get(const struct vrun_strmap *m, const char *key);

/* Free the keys and the table; call freeval on each value if not NULL. */
void vrun_strmap_free(struct vrun_strmap *m, void (*freeval)(void *));

#endif
