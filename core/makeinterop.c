/*
** makeinterop.c: targets vrun.lua does not define but the directory's
** Makefile does run through make, so a project moves over target by
** target.
** SPDX-License-Identifier: MIT
**
** The Makefile's targets come from make's own database (make -npq), the
** way bash-completion lists them; nothing of the Makefile runs.
*/
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graph.h"
#include "luahost.h"
#include "strmap.h"

extern char **environ;

const char *vrun_make_find(void)
{
  static const char *const names[] = {
    "GNUmakefile", "makefile", "Makefile", NULL
  };
  int i;

  for(i = 0; names[i]; i++) {
    if(access(names[i], F_OK) == 0)
      return names[i];
  }
  return NULL;
}

/* Read make's database and keep every explicit target's name. */
static void parse_db(struct vrun_strmap *m, char *db)
{
  char *line = db, *next, *colon;
  int in_files = 0, skip = 0;

  for(; line && *line; line = next) {
    next = strchr(line, '\n');
    if(next)
      *next++ = '\0';
    if(strcmp(line, "# Files") == 0) {
      in_files = 1;
      continue;
    }
    if(strncmp(line, "# Finished Make data base", 25) == 0)
      break;
    if(!in_files)
      continue;
    if(strcmp(line, "# Not a target:") == 0) {
      skip = 1;
      continue;
    }
    if(!*line || *line == '#' || *line == '\t' || *line == ' ') {
      continue;
    }
    colon = strchr(line, ':');
    if(!colon || colon == line)
      continue;
    if(skip) {
      skip = 0;
      continue;
    }
    *colon = '\0';
    if(line[0] == '.' || strchr(line, '%') || strchr(line, '=') ||
       strchr(line, ' '))
      continue;
    vrun_strmap_put(m, line, (void *)1, NULL);
  }
}

static void load_targets(struct vrun_run *run)
{
  char *argv[] = { "make", "-npq", "--no-print-directory", ".DEFAULT",
                   NULL };
  posix_spawn_file_actions_t fa;
  struct vrun_strmap *m;
  int p[2], st;
  pid_t pid;
  char *db = NULL, buf[65536];
  size_t len = 0;
  ssize_t n;

  run->make_checked = 1;
  run->makefile = vrun_make_find();
  if(!run->makefile)
    return;
  m = calloc(1, sizeof(*m));
  if(!m || pipe2(p, O_CLOEXEC)) {
    free(m);
    return;
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  if(posix_spawnp(&pid, "make", &fa, NULL, argv, environ)) {
    posix_spawn_file_actions_destroy(&fa);
    close(p[0]);
    close(p[1]);
    free(m);
    return;
  }
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  for(;;) {
    n = read(p[0], buf, sizeof(buf));
    if(n < 0 && errno == EINTR)
      continue;
    if(n <= 0)
      break;
    {
      char *nd = realloc(db, len + (size_t)n + 1);
      if(!nd)
        break;
      db = nd;
      memcpy(db + len, buf, (size_t)n);
      len += (size_t)n;
      db[len] = '\0';
    }
  }
  close(p[0]);
  while(waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  if(db)
    parse_db(m, db);
  free(db);
  run->make_targets = m;
}

int vrun_make_defines(struct vrun_run *run, const char *name)
{
  if(!run->make_checked)
    load_targets(run);
  return run->make_targets &&
         vrun_strmap_get(run->make_targets, name) != NULL;
}

struct vrun_task *vrun_make_task(struct vrun_run *run, const char *name)
{
  struct vrun_task *t = vrun_graph_find(run->graph, name), *old;
  int err;

  if(t)
    return t;
  t = vrun_task_new(name);
  if(!t)
    return NULL;
  t->is_make = 1;
  t->desc = strdup("(from the Makefile)");
  t->where = strdup(run->makefile ? run->makefile : "Makefile");
  old = vrun_graph_add(run->graph, t, &err);
  vrun_task_free(old);
  return err ? NULL : t;
}

char **vrun_make_argv(struct vrun_run *run, const char *target)
{
  struct vrun_cli *cli = run->cli;
  size_t n = 0, i, max = 10 + cli->nvars;
  char **argv = calloc(max, sizeof(*argv));
  char jobs[32];

  if(!argv)
    return NULL;
#define ADD(s) do {                                                     \
    argv[n] = strdup(s);                                                \
    if(!argv[n++])                                                      \
      goto oom;                                                         \
  } while(0)
  ADD("make");
  ADD("--no-print-directory");
  if(cli->dry_run)
    ADD("-n");
  if(cli->keep_going)
    ADD("-k");
  if(cli->silent)
    ADD("-s");
  if(cli->question)
    ADD("-q");
  if(cli->jobs > 1) {
    snprintf(jobs, sizeof(jobs), "-j%d", cli->jobs);
    ADD(jobs);
  }
  if(target && *target)
    ADD(target);
  for(i = 0; i < cli->nvars; i++)
    ADD(cli->vars[i]);
#undef ADD
  return argv;
oom:
  vrun_make_argv_free(argv);
  return NULL;
}

void vrun_make_argv_free(char **argv)
{
  size_t i;

  if(!argv)
    return;
  for(i = 0; argv[i]; i++)
    free(argv[i]);
  free(argv);
}
