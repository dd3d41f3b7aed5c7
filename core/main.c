/*
** main.c: vrun's entry point. Parses the command line, then does the
** run's work under lua_pcall (like lua.c's pmain) so that every failure
** reaches one reporter, which prints make-style and picks the exit status.
** SPDX-License-Identifier: MIT
*/
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "cli.h"
#include "ctx.h"
#include "graph.h"
#include "jobs.h"
#include "log.h"
#include "luahost.h"
#include "redact.h"
#include "strmap.h"
#include "vars.h"

#if defined(__SANITIZE_ADDRESS__)
#define FREE_AT_EXIT 1
#else
#define FREE_AT_EXIT 0
#endif

/* {====== completions ====== */

static const char bash_completion[] =
  "# bash completion for vrun\n"
  "_vrun()\n"
  "{\n"
  "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
  "  case $prev in\n"
  "    -f|--file|--makefile) COMPREPLY=($(compgen -f -- \"$cur\")); "
  "return;;\n"
  "    -C|--directory|-M|--module-path) COMPREPLY=($(compgen -d -- "
  "\"$cur\")); return;;\n"
  "    --completions) COMPREPLY=($(compgen -W 'bash zsh fish' -- "
  "\"$cur\")); return;;\n"
  "  esac\n"
  "  if [[ $cur == -* ]]; then\n"
  "    COMPREPLY=($(compgen -W '@OPTIONS@' -- \"$cur\"))\n"
  "  else\n"
  "    COMPREPLY=($(compgen -W \"$(vrun --list -s 2>/dev/null)\" -- "
  "\"$cur\"))\n"
  "  fi\n"
  "}\n"
  "complete -F _vrun vrun\n";

static const char zsh_completion[] =
  "#compdef vrun\n"
  "# zsh completion for vrun\n"
  "_vrun() {\n"
  "  local -a tasks opts\n"
  "  opts=(@OPTIONS@)\n"
  "  if [[ $PREFIX == -* ]]; then\n"
  "    compadd -- $opts\n"
  "  else\n"
  "    tasks=(${(f)\"$(vrun --list -s 2>/dev/null)\"})\n"
  "    compadd -- $tasks\n"
  "  fi\n"
  "}\n"
  "compdef _vrun vrun\n";

static const char fish_completion[] =
  "# fish completion for vrun\n"
  "complete -c vrun -f -a '(vrun --list -s 2>/dev/null)'\n"
  "@FISHOPTS@";

static void print_completions(const char *shell)
{
  const char *tpl = strcmp(shell, "bash") == 0 ? bash_completion :
                    strcmp(shell, "zsh") == 0 ? zsh_completion :
                    fish_completion;
  const char *at = strchr(tpl, '@');
  const struct vrun_cli_option *o;

  fwrite(tpl, 1, (size_t)(at - tpl), stdout);
  if(strncmp(at, "@OPTIONS@", 9) == 0) {
    for(o = vrun_cli_options; o->lng; o++) {
      if(o->shrt)
        printf("-%c ", o->shrt);
      printf("--%s%s", o->lng, o[1].lng ? " " : "");
    }
    fputs(at + 9, stdout);
    return;
  }
  for(o = vrun_cli_options; o->lng; o++) {
    printf("complete -c vrun -l %s", o->lng);
    if(o->shrt)
      printf(" -s %c", o->shrt);
    if(o->arg == VRUN_ARG_REQUIRED)
      printf(" -r");
    if(o->help) {
      const char *h;
      printf(" -d '");
      for(h = o->help; *h; h++)
        fputs(*h == '\'' ? "\\'" : (char[2]){ *h, 0 }, stdout);
      printf("'");
    }
    printf("\n");
  }
  fputs(at + 10, stdout);  /* after "@FISHOPTS@" */
}
/* }====== */

/* {====== --list and --help TASK ====== */

static void list_tasks(struct vrun_run *run)
{
  struct vrun_graph *g = run->graph;
  size_t i, w = 0;

  for(i = 0; i < g->n; i++) {
    size_t n = strlen(g->tasks[i]->name);
    if(!g->tasks[i]->is_make && n > w && n < 40)
      w = n;
  }
  for(i = 0; i < g->n; i++) {
    struct vrun_task *t = g->tasks[i];
    if(t->is_make || (t->is_file && !t->desc))
      continue;
    if(run->ctx->silent)
      printf("%s\n", t->name);
    else if(t->desc)
      printf("  %-*s  %s\n", (int)w, t->name, t->desc);
    else
      printf("  %s\n", t->name);
  }
  fflush(stdout);
}

static void help_task(struct vrun_run *run, const char *name)
{
  struct vrun_task *t = vrun_graph_find(run->graph, name);
  size_t i;

  printf("%s %s\n", t->is_file ? "file" : "task", t->name);
  if(t->desc)
    printf("  %s\n", t->desc);
  if(t->ndeps) {
    printf("  deps:");
    for(i = 0; i < t->ndeps; i++)
      printf(" %s", t->deps[i]);
    printf("\n");
  }
  for(i = 0; i < t->nneeds; i++)
    printf("  needs: %s (%s)\n", t->needs[i],
           vrun_var_lookup(run->ctx, t->needs[i]) ? "set" : "not set");
  if(t->nmodules) {
    printf("  modules:");
    for(i = 0; i < t->nmodules; i++)
      printf(" %s", t->modules[i]);
    printf("\n");
  }
  printf("  defined at %s\n", t->where ? t->where : "?");
  fflush(stdout);
}
/* }====== */

static int exists(const char *p)
{
  struct stat st;

  return stat(p, &st) == 0;
}

/* "did you mean" line for an unknown target, in buf. */
static const char *suggest(struct vrun_run *run, const char *name,
                           char *buf, size_t len)
{
  const char *best[3];
  size_t n = vrun_graph_suggest(run->graph, name, best, 3), i, o;

  if(!n)
    return NULL;
  o = (size_t)snprintf(buf, len, "did you mean ");
  for(i = 0; i < n && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%s'%s'",
                          i == 0 ? "" : i + 1 == n ? " or " : ", ", best[i]);
  if(o < len)
    snprintf(buf + o, len - o, "?");
  return buf;
}

/* No vrun.lua: hand the whole command line to make, if there is one. */
static void delegate_to_make(lua_State *L, struct vrun_run *run)
{
  char **argv;
  size_t i, n = 0;
  struct vrun_cli *cli = run->cli;

  if(!vrun_make_find())
    vrun_fatal(L, "write a vrun.lua, or name one with -f FILE",
               "No vrun.lua here (and no Makefile to delegate to)");
  {
    static const char note[] = "vrun: no vrun.lua here; running make "
      "(vrun delegates to make where a Makefile exists)\n";
    vrun_log_write(2, note, sizeof(note) - 1);
  }
  argv = vrun_make_argv(run, NULL);
  if(!argv)
    vrun_fatal(L, NULL, "out of memory");
  while(argv[n])
    n++;
  {
    char **full = realloc(argv, (n + cli->ntargets + 1) * sizeof(*full));
    if(!full) {
      vrun_make_argv_free(argv);
      vrun_fatal(L, NULL, "out of memory");
    }
    argv = full;
    /* targets go before the variables make_argv appended */
    memmove(argv + 2 + cli->ntargets, argv + 2,
            (n - 2 + 1) * sizeof(*argv));
    for(i = 0; i < cli->ntargets; i++)
      argv[2 + i] = cli->targets[i];
  }
  execvp("make", argv);
  vrun_fatal(L, NULL, "cannot run make: %s", strerror(errno));
}

static int pmain(lua_State *L)
{
  struct vrun_run *run = lua_touserdata(L, 1);
  struct vrun_ctx *ctx = run->ctx;
  struct vrun_cli *cli = run->cli;
  char **goals = NULL, hint[512], *msg;
  size_t ngoals = 0, i;
  int status;

  vrun_lua_install(L, run);
  if(cli->modules) {
    lua_pushinteger(L, vrun_modload_list(ctx));
    return 1;
  }
  if(!cli->file && !exists("vrun.lua")) {
    if(cli->list || cli->help)
      vrun_fatal(L, "write a vrun.lua, or name one with -f FILE",
                 "No vrun.lua here");
    delegate_to_make(L, run);
  }
  run->taskfile = strdup(cli->file ? cli->file : "vrun.lua");
  if(!run->taskfile)
    vrun_fatal(L, NULL, "out of memory");
  {
    char *slash = strrchr(run->taskfile, '/');
    run->taskdir = slash ? strndup(run->taskfile,
                                   (size_t)(slash - run->taskfile)) :
                           strdup(".");
    if(!run->taskdir)
      vrun_fatal(L, NULL, "out of memory");
    if(slash && !*run->taskdir) {
      free(run->taskdir);
      run->taskdir = strdup("/");
    }
  }
  if(access(run->taskfile, R_OK))
    vrun_fatal(L, NULL, "%s: %s", run->taskfile, strerror(errno));
  /* sh and capture may run while the task file loads */
  run->jobs = vrun_jobs_new(run);
  if(!run->jobs)
    vrun_fatal(L, NULL, "out of memory");
  vrun_lua_load_taskfile(L, run);

  if(cli->list) {
    list_tasks(run);
    lua_pushinteger(L, 0);
    return 1;
  }
  if(cli->help) {
    for(i = 0; i < cli->ntargets; i++) {
      if(!vrun_graph_find(run->graph, cli->targets[i]))
        vrun_fatal(L, suggest(run, cli->targets[i], hint, sizeof(hint)),
                   "No rule to make target '%s'", cli->targets[i]);
      help_task(run, cli->targets[i]);
    }
    lua_pushinteger(L, 0);
    return 1;
  }

  /* the goals: the command line's, else default_target, else the first */
  goals = calloc(cli->ntargets + 1, sizeof(*goals));
  if(!goals)
    vrun_fatal(L, NULL, "out of memory");
  for(i = 0; i < cli->ntargets; i++)
    goals[ngoals++] = cli->targets[i];
  if(!ngoals && run->graph->default_target)
    goals[ngoals++] = run->graph->default_target;
  if(!ngoals && run->graph->n)
    goals[ngoals++] = run->graph->tasks[0]->name;
  if(!ngoals) {
    free(goals);
    vrun_fatal(L, NULL, "No targets");
  }
  /* an existing file with no rule is a goal with nothing to do */
  for(i = 0; i < ngoals;) {
    if(!vrun_graph_find(run->graph, goals[i]) &&
       !vrun_make_defines(run, goals[i])) {
      if(exists(goals[i])) {
        if(!ctx->question)
          vrun_log(VRUN_LOG_INFO, "vrun: Nothing to be done for '%s'.",
                   goals[i]);
        memmove(goals + i, goals + i + 1, (ngoals - i - 1) *
                sizeof(*goals));
        ngoals--;
        continue;
      }
      {
        char name[512];
        snprintf(name, sizeof(name), "%s", goals[i]);
        free(goals);
        vrun_fatal(L, suggest(run, name, hint, sizeof(hint)),
                   "No rule to make target '%s'", name);
      }
    }
    i++;
  }
  if(vrun_jobs_prepare(run, L, goals, ngoals, &msg)) {
    free(goals);
    lua_pushstring(L, msg);
    free(msg);
    vrun_fatal(L, NULL, "%s", lua_tostring(L, -1));
  }
  for(i = 0; i < ngoals; i++) {
    if(vrun_jobs_goal(run->jobs, vrun_graph_find(run->graph, goals[i]))) {
      free(goals);
      vrun_fatal(L, NULL, "out of memory");
    }
  }
  free(goals);
  status = vrun_jobs_run(run->jobs);
  lua_pushinteger(L, status);
  return 1;
}

/* The one place a fatal error is printed, make-style; returns 2. */
static int report_line(const char *msg, const char *hint)
{
  if(strcmp(msg, "Interrupt") != 0)
    vrun_log(VRUN_LOG_ERROR, "*** %s.  Stop.", msg);
  if(hint)
    vrun_log(VRUN_LOG_ERROR, "%s", hint);
  return 2;
}

/* The reporter for errors raised under pmain. */
static int report(lua_State *L)
{
  const char *msg, *hint = NULL;

  if(lua_type(L, -1) == LUA_TTABLE) {
    lua_getfield(L, -1, "hint");
    hint = lua_tostring(L, -1);
    lua_getfield(L, -2, "msg");
    msg = lua_tostring(L, -1);
  }
  else
    msg = lua_tostring(L, -1);
  if(!msg)
    msg = "(error object is not a string)";
  return report_line(msg, hint);
}

/* Secret-looking environment variables are masked from the start, so a
** child echoing $GITHUB_TOKEN never shows it. */
static void register_env_secrets(void)
{
  extern char **environ;
  char name[256];
  char **e;

  for(e = environ; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    size_t n = eq ? (size_t)(eq - *e) : 0;
    if(!eq || n >= sizeof(name))
      continue;
    memcpy(name, *e, n);
    name[n] = '\0';
    if(vrun_redact_is_secret_name(name) ||
       vrun_redact_is_secret_value(eq + 1))
      vrun_redact_add(eq + 1);
  }
}

/* Where the binary is, and from that where modules and tasks are. */
static void find_dirs(struct vrun_ctx *ctx)
{
  char exe[PATH_MAX], p[PATH_MAX + 8];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  char *slash;

  if(n <= 0)
    n = (ssize_t)snprintf(exe, sizeof(exe), "%s/bin/vrun", VRUN_PREFIX);
  exe[n] = '\0';
  slash = strrchr(exe, '/');
  if(slash)
    *slash = '\0';
  ctx->exe_dir = strdup(exe);
  snprintf(p, sizeof(p), "%s/tasks", exe);
  if(exists(p)) {
    ctx->lib_dir = strdup(exe);
    ctx->share_dir = strdup(exe);
  }
  else {
    ctx->lib_dir = strdup(VRUN_PREFIX "/lib/vrun");
    ctx->share_dir = strdup(VRUN_PREFIX "/share/vrun");
  }
}

int main(int argc, char **argv)
{
  struct vrun_cli cli;
  struct vrun_ctx ctx;
  struct vrun_run run;
  char err[512], usage[4096];
  lua_State *L = NULL;
  size_t i;
  int status = 2;
  int sig;

  memset(&ctx, 0, sizeof(ctx));
  memset(&run, 0, sizeof(run));
  if(vrun_cli_parse(&cli, argc, argv, getenv("VRUNFLAGS"), err,
                    sizeof(err))) {
    vrun_cli_free(&cli);
    return report_line(err, NULL);
  }
  vrun_log_setup(cli.silent, cli.verbose);
  if(cli.version) {
    printf("vrun %s\n", VRUN_VERSION);
    vrun_cli_free(&cli);
    return 0;
  }
  if(cli.completions) {
    print_completions(cli.completions);
    vrun_cli_free(&cli);
    return 0;
  }
  if(cli.help && !cli.ntargets) {
    size_t n = vrun_cli_usage(usage, sizeof(usage));
    fwrite(usage, 1, n < sizeof(usage) ? n : sizeof(usage) - 1, stdout);
    vrun_cli_free(&cli);
    return 0;
  }
  for(i = 0; i < cli.ndirs; i++) {
    if(chdir(cli.dirs[i])) {
      snprintf(err, sizeof(err), "%s: %s", cli.dirs[i], strerror(errno));
      vrun_cli_free(&cli);
      return report_line(err, NULL);
    }
  }
  ctx.dry_run = cli.dry_run;
  ctx.silent = cli.silent;
  ctx.verbose = cli.verbose;
  ctx.keep_going = cli.keep_going;
  ctx.always_make = cli.always_make;
  ctx.question = cli.question;
  ctx.env_override = cli.env_override;
  ctx.jobs = cli.jobs;
  ctx.module_dirs = cli.module_dirs;
  ctx.n_module_dirs = cli.nmodule_dirs;
  find_dirs(&ctx);
  register_env_secrets();
  ctx.vars = vrun_vars_new(cli.env_override);
  run.ctx = &ctx;
  run.cli = &cli;
  run.graph = vrun_graph_new();
  run.included = calloc(1, sizeof(struct vrun_strmap));
  if(!ctx.exe_dir || !ctx.lib_dir || !ctx.share_dir || !ctx.vars ||
     !run.graph || !run.included)
    goto oom;
  for(i = 0; i < cli.nvars; i++) {
    char *eq = strchr(cli.vars[i], '=');
    *eq = '\0';
    if(vrun_redact_is_secret_name(cli.vars[i]) ||
       vrun_redact_is_secret_value(eq + 1))
      vrun_redact_add(eq + 1);
    if(vrun_vars_set(ctx.vars, VRUN_VAR_CMDLINE, cli.vars[i], eq + 1)) {
      *eq = '=';
      goto oom;
    }
    *eq = '=';
  }
  {
    char *flags = vrun_cli_child_flags(&cli), *kv;
    if(!flags)
      goto oom;
    kv = malloc(strlen(flags) + 11);
    if(!kv) {
      free(flags);
      goto oom;
    }
    snprintf(kv, strlen(flags) + 11, "VRUNFLAGS=%s", flags);
    free(flags);
    if(vrun_vars_add_env(ctx.vars, kv)) {
      free(kv);
      goto oom;
    }
    free(kv);
  }
  L = vrun_lua_new(&run);
  if(!L)
    goto oom;
  ctx.L = L;
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, &run);
  if(lua_pcall(L, 1, 1, 0))
    status = report(L);
  else
    status = (int)lua_tointeger(L, -1);
  fflush(stdout);
  sig = ctx.interrupted;
  if(sig) {
    /* die of the signal, so a calling shell or make sees it */
    vrun_cleanup_run_signal();
    signal(sig, SIG_DFL);
    raise(sig);
  }
  goto out;
oom:
  status = report_line("out of memory", NULL);
out:
  /* Lua is closed for its __gc (modules may finish work there); the rest
  ** is plain memory the process gives back by exiting. Sanitizer builds
  ** free it all, so a leak still shows. */
  vrun_lua_close(L);
  if(!FREE_AT_EXIT) {
    vrun_cleanup_free();
    return status;
  }
  vrun_jobs_free(run.jobs);
  vrun_graph_free(run.graph);
  vrun_vars_free(ctx.vars);
  if(run.included) {
    vrun_strmap_free(run.included, NULL);
    free(run.included);
  }
  if(run.make_targets) {
    vrun_strmap_free(run.make_targets, NULL);
    free(run.make_targets);
  }
  free(run.taskfile);
  free(run.taskdir);
  free(ctx.exe_dir);
  free(ctx.lib_dir);
  free(ctx.share_dir);
  vrun_cleanup_free();
  vrun_cli_free(&cli);
  return status;
}
