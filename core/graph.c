/*
** graph.c: task definitions, dependency checks before anything runs
** (unknown targets, cycles), and "did you mean" suggestions.
** SPDX-License-Identifier: MIT
**
** Everything is O(V+E): a hash map for names, an explicit-stack DFS (no
** recursion, so a 100,000-deep chain cannot overflow the C stack).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "strmap.h"

#define NOREF (-2)   /* LUA_NOREF, without including lauxlib.h */

struct vrun_graph *vrun_graph_new(void)
{
  struct vrun_graph *g = calloc(1, sizeof(*g));

  if(!g)
    return NULL;
  g->map = calloc(1, sizeof(struct vrun_strmap));
  if(!g->map) {
    free(g);
    return NULL;
  }
  return g;
}

/* Lists are one block: the pointers, then the strings. */
static void free_strv(char **v, size_t n)
{
  (void)n;
  free(v);
}

void vrun_task_free(struct vrun_task *t)
{
  if(!t)
    return;
  free(t->name);
  free(t->desc);
  free(t->where);
  free_strv(t->deps, t->ndeps);
  free_strv(t->needs, t->nneeds);
  free_strv(t->modules, t->nmodules);
  free(t->dept);
  free(t);
}

struct vrun_task *vrun_task_new(const char *name)
{
  struct vrun_task *t = calloc(1, sizeof(*t));

  if(!t)
    return NULL;
  t->run_ref = NOREF;
  t->name = strdup(name);
  if(!t->name) {
    free(t);
    return NULL;
  }
  return t;
}

void vrun_graph_free(struct vrun_graph *g)
{
  size_t i;

  if(!g)
    return;
  for(i = 0; i < g->n; i++)
    vrun_task_free(g->tasks[i]);
  free(g->tasks);
  vrun_strmap_free(g->map, NULL);
  free(g->map);
  free(g->default_target);
  free(g);
}

struct vrun_task *vrun_graph_add(struct vrun_graph *g, struct vrun_task *t,
                                 int *err)
{
  void *old = NULL;
  size_t i;

  *err = 0;
  if(g->n == g->cap) {
    size_t ncap = g->cap ? g->cap * 2 : 64;
    struct vrun_task **nt = realloc(g->tasks, ncap * sizeof(*nt));
    if(!nt)
      goto oom;
    g->tasks = nt;
    g->cap = ncap;
  }
  if(vrun_strmap_put(g->map, t->name, t, &old))
    goto oom;
  if(old) {
    struct vrun_task *o = old;
    /* keep the first definition's place in --list */
    for(i = 0; i < g->n; i++) {
      if(g->tasks[i] == o) {
        g->tasks[i] = t;
        break;
      }
    }
    t->order = o->order;
    return o;
  }
  t->order = g->n;
  g->tasks[g->n++] = t;
  return NULL;
oom:
  vrun_task_free(t);
  *err = -1;
  return NULL;
}

struct vrun_task *vrun_graph_find(struct vrun_graph *g, const char *name)
{
  return vrun_strmap_get(g->map, name);
}

/* A growing string for error messages: s + a + b, or NULL (s freed). */
static char *cat(char *s, const char *a, const char *b)
{
  size_t ls = s ? strlen(s) : 0, la = strlen(a), lb = strlen(b);
  char *r = realloc(s, ls + la + lb + 1);

  if(!r) {
    free(s);
    return NULL;
  }
  memcpy(r + ls, a, la);
  memcpy(r + ls + la, b, lb);
  r[ls + la + lb] = '\0';
  return r;
}

int vrun_graph_check(struct vrun_graph *g, char **goals, size_t ngoals,
                     vrun_graph_unknown_fn unknown, void *ud,
                     struct vrun_task ***order, size_t *norder,
                     char **msg)
{
  struct frame {
    struct vrun_task *t;
    size_t next;
  } *stack = NULL;
  struct vrun_task **out = NULL;
  size_t sp = 0, cap = 0, nout = 0, i, gi;
  int rc = -1;

  *msg = NULL;
  for(i = 0; i < g->n; i++)
    g->tasks[i]->color = 0;
  out = malloc((g->n + 1) * sizeof(*out));
  if(!out)
    goto oom;
  for(gi = 0; gi < ngoals; gi++) {
    struct vrun_task *root = vrun_graph_find(g, goals[gi]);
    if(!root || root->color)
      continue;
    if(sp == cap) {
      cap = cap ? cap * 2 : 64;
      stack = realloc(stack, cap * sizeof(*stack));
      if(!stack)
        goto oom;
    }
    root->color = 1;
    root->stackpos = sp;
    stack[sp].t = root;
    stack[sp++].next = 0;
    while(sp) {
      struct frame *f = &stack[sp - 1];
      struct vrun_task *d;
      if(f->next == f->t->ndeps) {
        f->t->color = 2;
        out[nout++] = f->t;
        sp--;
        continue;
      }
      if(!f->t->dept && f->t->ndeps) {
        f->t->dept = calloc(f->t->ndeps, sizeof(*f->t->dept));
        if(!f->t->dept)
          goto oom;
      }
      {
        size_t di = f->next++;
        const char *dn = f->t->deps[di];
        d = vrun_graph_find(g, dn);
        f->t->dept[di] = d;
        if(!d) {
          if(unknown && unknown(ud, dn)) {
            d = vrun_graph_find(g, dn);  /* the callback may add it */
            f->t->dept[di] = d;
            if(!d || d->color)
              continue;
            /* a newly added task may exceed the out[] we sized */
            {
              struct vrun_task **no = realloc(out, (g->n + 1) *
                                              sizeof(*out));
              if(!no)
                goto oom;
              out = no;
            }
          }
          else {
            *msg = cat(cat(cat(NULL, "No rule to make target '", dn),
                           "', needed by '", f->t->name), "'", "");
            goto fail;
          }
        }
      }
      if(d->color == 2)
        continue;
      if(d->color == 1) {
        /* the cycle is the stack from d up to here, then d again */
        char *s = NULL;
        s = cat(s, "Circular dependency: ", "");
        for(i = d->stackpos; i < sp && s; i++)
          s = cat(s, stack[i].t->name, " -> ");
        if(s)
          s = cat(s, d->name, "");
        *msg = s;
        goto fail;
      }
      if(sp == cap) {
        cap *= 2;
        struct frame *ns = realloc(stack, cap * sizeof(*stack));
        if(!ns)
          goto oom;
        stack = ns;
      }
      d->color = 1;
      d->stackpos = sp;
      stack[sp].t = d;
      stack[sp++].next = 0;
    }
  }
  rc = 0;
  if(order) {
    *order = out;
    *norder = nout;
    out = NULL;
  }
  goto fail;
oom:
  *msg = strdup("out of memory");
fail:
  if(rc && !*msg)
    *msg = strdup("out of memory");
  free(stack);
  free(out);
  return rc;
}

static size_t edit_distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b), i, j;
  size_t row[128], prev, tmp;

  if(lb >= sizeof(row) / sizeof(row[0]) || la >= 128)
    return (size_t)-1;
  for(j = 0; j <= lb; j++)
    row[j] = j;
  for(i = 1; i <= la; i++) {
    prev = row[0];
    row[0] = i;
    for(j = 1; j <= lb; j++) {
      size_t best = prev + (a[i - 1] != b[j - 1]);
      if(row[j] + 1 < best)
        best = row[j] + 1;
      if(row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      tmp = row[j];
      row[j] = best;
      prev = tmp;
    }
  }
  return row[lb];
}

size_t vrun_graph_suggest(struct vrun_graph *g, const char *name,
                          const char **out, size_t max)
{
  size_t i, j, n = 0, len = strlen(name);
  size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
  size_t dist[16];

  if(max > 16)
    max = 16;
  for(i = 0; i < g->n; i++) {
    struct vrun_task *t = g->tasks[i];
    size_t d;
    if(t->is_make)
      continue;
    d = edit_distance(name, t->name);
    if(d > limit && !(len >= 3 && strncmp(t->name, name, len) == 0))
      continue;
    if(d > limit)
      d = limit + 1;  /* prefix matches rank after close misspellings */
    /* insertion sort into the best `max` */
    for(j = n; j > 0 && dist[j - 1] > d; j--) {
      if(j < max) {
        dist[j] = dist[j - 1];
        out[j] = out[j - 1];
      }
    }
    if(j < max) {
      dist[j] = d;
      out[j] = t->name;
      if(n < max)
        n++;
    }
  }
  return n;
}
