/*
** jobs.h: running the graph: one Lua coroutine per task, `sh` children
** run up to -j at once, file targets by make's timestamp rule.
** Implemented by jobs.c (scheduler), child.c (children, signals,
** output) and shell.c (the DSL), sharing jobs_int.h.
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_JOBS_H
#define VRUN_JOBS_H

#include <lua.h>

#include "graph.h"
#include "luahost.h"
#include "vars.h"

/* A new scheduler for run (installs the SIGINT/SIGTERM/SIGCHLD
** handlers). NULL when out of memory. */
struct vrun_jobs *vrun_jobs_new(struct vrun_run *run);
void vrun_jobs_free(struct vrun_jobs *j);

/*
** Request target t as a goal (with no overlay). Returns 0 or -1 (OOM).
*/
int vrun_jobs_goal(struct vrun_jobs *j, struct vrun_task *t);

/*
** Run until every goal is done or failed. Returns the exit status: 0,
** 1 (-q and something would run), 2 (a task failed). After an
** interrupt, returns 2 with run->ctx->interrupted set.
*/
int vrun_jobs_run(struct vrun_jobs *j);

/*
** Check what goals need before anything runs: each goal is a task (or a
** Makefile target, added to the graph), dependencies resolve, no cycle,
** every `needs` variable is set (under the current overlay), and every
** module named by `modules` loads. Returns 0, or -1 with a malloc'd
** message in *msg (caller frees), without the "vrun: *** " prefix.
*/
int vrun_jobs_prepare(struct vrun_run *run, lua_State *L, char **goals,
                      size_t ngoals, char **msg);

/* Register sh, capture, invoke and expand in L's globals (shell.c). */
void vrun_jobs_open_dsl(lua_State *L);

/* The signal handlers' async-signal-safe cleanup (cleanup.c). */
void vrun_cleanup_run_signal(void);
void vrun_cleanup_free(void);

#endif
