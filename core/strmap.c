/*
** strmap.c: a string-keyed hash map with linear probing.
** SPDX-License-Identifier: MIT
**
** Entries are never deleted one by one (tasks and variables live for the
** whole run), which keeps probing simple: no tombstones.
*/
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

static size_t hash_str(const char *s)
{
  size_t h = 14695981039346656037u;  /* FNV-1a */

  while(*s) {
    h ^= (unsigned char)*s++;
    h *= 1099511628211u;
  }
  return h;
}

static struct vrun_strmap_slot *find(const struct vrun_strmap *m,
                                     const char *key, size_t h)
{
  size_t i = h & (m->cap - 1);

  for(;;) {
    struct vrun_strmap_slot *s = &m->slots[i];
    if(!s->key || (s->hash == h && strcmp(s->key, key) == 0))
      return s;
    i = (i + 1) & (m->cap - 1);
  }
}

static int grow(struct vrun_strmap *m)
{
  size_t ncap = m->cap ? m->cap * 2 : 16, i;
  struct vrun_strmap_slot *old = m->slots, *s;
  size_t ocap = m->cap;

  m->slots = calloc(ncap, sizeof(*m->slots));
  if(!m->slots) {
    m->slots = old;
    return -1;
  }
  m->cap = ncap;
  for(i = 0; i < ocap; i++) {
    if(old[i].key) {
      s = find(m, old[i].key, old[i].hash);
      *s = old[i];
    }
  }
  free(old);
  return 0;
}

int vrun_strmap_put(struct vrun_strmap *m, const char *key, void *val,
                    void **old)
{
  size_t h = hash_str(key);
  struct vrun_strmap_slot *s;

  if(old)
    *old = NULL;
  if((m->n + 1) * 4 > m->cap * 3 && grow(m))
    return -1;
  s = find(m, key, h);
  if(s->key) {
    if(old)
      *old = s->val;
    s->val = val;
    return 0;
  }
  s->key = strdup(key);
  if(!s->key)
    return -1;
  s->hash = h;
  s->val = val;
  m->n++;
  return 0;
}

void *vrun_strmap_get(const struct vrun_strmap *m, const char *key)
{
  struct vrun_strmap_slot *s;

  if(!m->cap)
    return NULL;
  s = find(m, key, hash_str(key));
  return s->key ? s->val : NULL;
}

void vrun_strmap_free(struct vrun_strmap *m, void (*freeval)(void *))
{
  size_t i;

  for(i = 0; i < m->cap; i++) {
    if(m->slots[i].key) {
      free(m->slots[i].key);
      if(freeval)
        freeval(m->slots[i].val);
    }
  }
  free(m->slots);
  m->slots = NULL;
  m->cap = m->n = 0;
}
