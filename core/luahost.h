/*
** luahost.h: the one lua_State of a run, the task-file DSL, and the
** state shared by the runner's files.
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_LUAHOST_H
#define VRUN_LUAHOST_H

#include <lua.h>

#include "cli.h"
#include "ctx.h"
#include "graph.h"

struct vrun_jobs;

/* One run: what main.c, luahost.c, jobs.c and makeinterop.c share. */
struct vrun_run {
  struct vrun_ctx *ctx;
  struct vrun_cli *cli;
  struct vrun_graph *graph;
  struct vrun_jobs *jobs;
  char *taskfile;        /* as found or given with -f */
  char *taskdir;         /* its folder, for include */
  void *included;        /* struct vrun_strmap of loaded include paths */
  void *make_targets;    /* struct vrun_strmap, NULL until asked */
  int make_checked;
  const char *makefile;  /* "Makefile" etc. when one exists, else NULL */
};

/* A bare lua_State that knows its run; NULL when out of memory. Close
** it with vrun_lua_close (it also frees the allocator's chunks). */
lua_State *vrun_lua_new(struct vrun_run *run);

void vrun_lua_close(lua_State *L);

/*
** Install everything in a state from vrun_lua_new: standard libraries,
** package.path for share_dir/lua, the module searcher, the DSL globals,
** then run the prelude. Raises on error (call it under lua_pcall).
*/
void vrun_lua_install(lua_State *L, struct vrun_run *run);

/*
** Load and run the task file (run->taskfile). Raises a Lua error (to the
** caller's pcall) with the message on failure.
*/
void vrun_lua_load_taskfile(lua_State *L, struct vrun_run *run);

/*
** Raise a fatal setup error: the reporter prints "vrun: *** MSG.  Stop."
** and, when hint is not NULL, "vrun: HINT" on the next line.
*/
void vrun_fatal(lua_State *L, const char *hint, const char *fmt, ...)
  __attribute__((format(printf, 3, 4), noreturn));

/* The run, from the Lua registry. */
struct vrun_run *vrun_lua_run(lua_State *L);

/* {====== make interop (makeinterop.c) ====== */

/* Non-zero when the directory's Makefile defines target `name`. */
int vrun_make_defines(struct vrun_run *run, const char *name);

/* The Makefile vrun would delegate to in the current directory, or
** NULL. */
const char *vrun_make_find(void);

/*
** Add a task to run->graph that runs `make name` (with the command-line
** variables and -n/-k/-s/-q/-j). Returns it, or NULL when out of memory.
*/
struct vrun_task *vrun_make_task(struct vrun_run *run, const char *name);

/*
** The argv for running make on target (NULL-terminated, malloc'd array
** of malloc'd strings: free with vrun_make_argv_free).
*/
char **vrun_make_argv(struct vrun_run *run, const char *target);
void vrun_make_argv_free(char **argv);
/* }====== */

#endif
