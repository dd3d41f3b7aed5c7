/*
** graph.h: the task definitions and their dependency graph.
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_GRAPH_H
#define VRUN_GRAPH_H

#include <stddef.h>

struct vrun_task {
  char *name;
  int is_file;       /* file "path" {...}: make's timestamp rule */
  int is_make;       /* defined only by the directory's Makefile */
  char *desc;
  char **deps;       /* lists are one malloc'd block each: the pointers,
                        then the strings (free(deps) frees all) */
  size_t ndeps;
  char **needs;      /* variables that must be set */
  size_t nneeds;
  char **modules;    /* modules preloaded before anything runs */
  size_t nmodules;
  int run_ref;       /* Lua registry ref of the body, or LUA_NOREF */
  char *where;       /* "vrun.lua:12" */
  size_t order;      /* definition order */
  int color;         /* scratch for the checks */
  size_t stackpos;
  struct vrun_task **dept;  /* deps resolved by the last check (NULL:
                               a plain file), so running needs no lookup */
  void *inst0;       /* the scheduler's instance without overlay */
};

struct vrun_graph {
  struct vrun_task **tasks;   /* in definition order */
  size_t n, cap;
  char *default_target;
  void *map;                  /* struct vrun_strmap *, name -> task */
};

/* A new graph, or NULL when out of memory. */
struct vrun_graph *vrun_graph_new(void);

/* Free the graph and its tasks (Lua refs are the caller's business). */
void vrun_graph_free(struct vrun_graph *g);

/* A zeroed task named name (copied) with run_ref = -2 (LUA_NOREF);
** NULL when out of memory. */
struct vrun_task *vrun_task_new(const char *name);
void vrun_task_free(struct vrun_task *t);

/*
** Add t (the graph owns it). A task of the same name is replaced; the
** old one is returned (caller frees it) or NULL. *err is set to -1 when
** out of memory (t is then freed).
*/
struct vrun_task *vrun_graph_add(struct vrun_graph *g, struct vrun_task *t,
                                 int *err);

/* The task named name, or NULL. */
struct vrun_task *vrun_graph_find(struct vrun_graph *g, const char *name);

/*
** Called for a dependency that names no task: return 1 when it is fine
** (an existing file, or a target the callback added to the graph, e.g.
** from a Makefile), 0 when it is an error.
*/
typedef int (*vrun_graph_unknown_fn)(void *ud, const char *name);

/*
** Check the graph reachable from goals (all must be tasks): every
** dependency resolves, no cycle. Returns 0 and, if order is not NULL, a
** malloc'd array of the reachable tasks, dependencies first (*norder
** entries; caller frees the array). On error returns -1 and a malloc'd
** message in *msg (caller frees), e.g. "Circular dependency: a -> b -> a".
*/
int vrun_graph_check(struct vrun_graph *g, char **goals, size_t ngoals,
                     vrun_graph_unknown_fn unknown, void *ud,
                     struct vrun_task ***order, size_t *norder,
                     char **msg);

/*
** Up to max task names close to name (edit distance or prefix), best
** first, written to out[]. Returns how many.
*/
size_t vrun_graph_suggest(struct vrun_graph *g, const char *name,
                          const char **out, size_t max);

#endif
