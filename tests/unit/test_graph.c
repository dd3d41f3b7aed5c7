/*
** test_graph.c: dependency checks (unknown, cycles), order, suggestions,
** and that a 100,000-task chain is checked without recursion.
** SPDX-License-Identifier: MIT
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "tap.h"

static struct vrun_task *add(struct vrun_graph *g, const char *name,
                             const char *d1, const char *d2)
{
  struct vrun_task *t = vrun_task_new(name);
  int err;

  char *p;

  /* one block, as luahost.c builds lists: pointers, then the bytes */
  t->deps = calloc(1, 3 * sizeof(char *) + 64);
  p = (char *)(t->deps + 3);
  if(d1) {
    t->deps[t->ndeps++] = p;
    p += snprintf(p, 32, "%s", d1) + 1;
  }
  if(d2) {
    t->deps[t->ndeps++] = p;
    snprintf(p, 32, "%s", d2);
  }
  vrun_task_free(vrun_graph_add(g, t, &err));
  return t;
}

static int file_ok(void *ud, const char *name)
{
  (void)ud;
  return strcmp(name, "exists.c") == 0;
}

int main(void)
{
  struct vrun_graph *g = vrun_graph_new();
  struct vrun_task **order;
  size_t n, i;
  char *msg, *goals[2];
  const char *sug[3];
  char name[32], dep[32];

  add(g, "all", "b", "a");
  add(g, "a", "exists.c", NULL);
  add(g, "b", "a", NULL);
  goals[0] = "all";
  is_int(vrun_graph_check(g, goals, 1, file_ok, NULL, &order, &n, &msg), 0,
         "valid graph");
  is_int(n, 3, "three tasks reachable");
  is_str(order[0]->name, "a", "dependencies first");
  is_str(order[1]->name, "b", "then their dependents");
  is_str(order[2]->name, "all", "goal last");
  free(order);

  add(g, "c", "missing.c", NULL);
  goals[0] = "c";
  is_int(vrun_graph_check(g, goals, 1, file_ok, NULL, NULL, NULL, &msg), -1,
         "missing file without a rule");
  is_str(msg, "No rule to make target 'missing.c', needed by 'c'", "message");
  free(msg);

  add(g, "x", "y", NULL);
  add(g, "y", "z", NULL);
  add(g, "z", "x", NULL);
  goals[0] = "x";
  is_int(vrun_graph_check(g, goals, 1, NULL, NULL, NULL, NULL, &msg), -1,
         "cycle found");
  is_str(msg, "Circular dependency: x -> y -> z -> x", "cycle named");
  free(msg);
  add(g, "top", "all", "y");
  goals[0] = "top";
  vrun_graph_check(g, goals, 1, file_ok, NULL, NULL, NULL, &msg);
  is_str(msg, "Circular dependency: y -> z -> x -> y", "cycle below the goal");
  free(msg);

  add(g, "build", NULL, NULL);
  add(g, "builds", NULL, NULL);
  is_int(vrun_graph_suggest(g, "biuld", sug, 3), 1, "one close name");
  is_str(sug[0], "build", "did you mean build");
  is_int(vrun_graph_suggest(g, "buil", sug, 3), 2, "prefix matches too");
  is_str(sug[1], "builds", "ranked after the closest");
  is_int(vrun_graph_suggest(g, "qqqqqq", sug, 3), 0, "nothing close");

  {
    int err;
    struct vrun_task *old = vrun_graph_add(g, vrun_task_new("a"), &err);
    ok(old && strcmp(old->name, "a") == 0, "redefinition returns the old "
       "task");
    vrun_task_free(old);
  }
  vrun_task_free(NULL);
  vrun_graph_free(g);

  /* a long chain: no recursion, O(V+E) */
  g = vrun_graph_new();
  for(i = 0; i < 100000; i++) {
    snprintf(name, sizeof(name), "t%zu", i);
    snprintf(dep, sizeof(dep), "t%zu", i ? i - 1 : 0);
    add(g, name, i ? dep : NULL, NULL);
  }
  goals[0] = "t99999";
  is_int(vrun_graph_check(g, goals, 1, NULL, NULL, &order, &n, &msg), 0,
         "100,000-deep chain checks");
  is_int(n, 100000, "all reached");
  free(order);
  vrun_graph_free(g);
  return done_testing();
}
