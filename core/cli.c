/*
** cli.c: vrun's command line, with make's grammar: options, targets and
** VAR=value in any order, short options bundled (-ks), -j with an
** optional number, long options with unique prefixes, VRUNFLAGS first.
** SPDX-License-Identifier: MIT
*/
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "vars.h"

#define MAX_JOBS 1024

const struct vrun_cli_option vrun_cli_options[] = {
  { "file", 'f', VRUN_ARG_REQUIRED, "FILE", VRUN_OPT_FILE, 0,
    "Read FILE as the task file (default: vrun.lua)." },
  { "makefile", 0, VRUN_ARG_REQUIRED, "FILE", VRUN_OPT_FILE, 1, NULL },
  { "directory", 'C', VRUN_ARG_REQUIRED, "DIR", VRUN_OPT_DIRECTORY, 0,
    "Change to DIR first (repeatable, cumulative)." },
  { "dry-run", 'n', VRUN_ARG_NONE, NULL, VRUN_OPT_DRY_RUN, 0,
    "Print the commands that would run; run none." },
  { "just-print", 0, VRUN_ARG_NONE, NULL, VRUN_OPT_DRY_RUN, 1, NULL },
  { "recon", 0, VRUN_ARG_NONE, NULL, VRUN_OPT_DRY_RUN, 1, NULL },
  { "jobs", 'j', VRUN_ARG_OPTIONAL, "N", VRUN_OPT_JOBS, 0,
    "Run up to N commands at once (bare -j: CPUs)." },
  { "keep-going", 'k', VRUN_ARG_NONE, NULL, VRUN_OPT_KEEP_GOING, 0,
    "Keep going with what does not need the failure." },
  { "always-make", 'B', VRUN_ARG_NONE, NULL, VRUN_OPT_ALWAYS_MAKE, 0,
    "Consider every file target out of date." },
  { "silent", 's', VRUN_ARG_NONE, NULL, VRUN_OPT_SILENT, 0,
    "Do not echo commands." },
  { "quiet", 0, VRUN_ARG_NONE, NULL, VRUN_OPT_SILENT, 1, NULL },
  { "question", 'q', VRUN_ARG_NONE, NULL, VRUN_OPT_QUESTION, 0,
    "Run nothing; exit 1 if anything would run." },
  { "environment-overrides", 'e', VRUN_ARG_NONE, NULL,
    VRUN_OPT_ENV_OVERRIDES, 0,
    "Let the environment beat task-file assignments." },
  { "verbose", 'v', VRUN_ARG_NONE, NULL, VRUN_OPT_VERBOSE, 0,
    "Print more, and a Lua traceback with errors." },
  { "list", 0, VRUN_ARG_NONE, NULL, VRUN_OPT_LIST, 0,
    "List tasks and descriptions (-s: names only)." },
  { "help", 'h', VRUN_ARG_NONE, NULL, VRUN_OPT_HELP, 0,
    "This help, or a target's description and needs." },
  { "version", 0, VRUN_ARG_NONE, NULL, VRUN_OPT_VERSION, 0,
    "Print vrun's version." },
  { "completions", 0, VRUN_ARG_REQUIRED, "SHELL", VRUN_OPT_COMPLETIONS, 0,
    "Print a completion script for bash, zsh or fish." },
  { "module-path", 'M', VRUN_ARG_REQUIRED, "DIR", VRUN_OPT_MODULE_PATH, 0,
    "Look for modules in DIR first (repeatable)." },
  { "modules", 0, VRUN_ARG_NONE, NULL, VRUN_OPT_MODULES, 0,
    "List the modules vrun finds, with versions." },
  { NULL, 0, 0, NULL, 0, 0, NULL }
};

static int push(char ***arr, size_t *n, char *s)
{
  char **a = realloc(*arr, (*n + 1) * sizeof(**arr));

  if(!a)
    return -1;
  a[(*n)++] = s;
  *arr = a;
  return 0;
}

static int parse_jobs(struct vrun_cli *cli, const char *s, char *errbuf,
                      size_t errlen)
{
  char *end;
  long n;

  errno = 0;
  n = strtol(s, &end, 10);
  if(errno || end == s || *end || n < 1 || n > MAX_JOBS) {
    snprintf(errbuf, errlen, "the '-j' option requires a positive integer "
             "argument up to %d, not '%s'", MAX_JOBS, s);
    return -1;
  }
  cli->jobs = (int)n;
  return 0;
}

static int all_digits(const char *s)
{
  if(!*s)
    return 0;
  for(; *s; s++) {
    if(!isdigit((unsigned char)*s))
      return 0;
  }
  return 1;
}

static int apply(struct vrun_cli *cli, const struct vrun_cli_option *o,
                 const char *arg, char *errbuf, size_t errlen)
{
  long ncpu;

  switch(o->id) {
  case VRUN_OPT_FILE:
    cli->file = arg;
    break;
  case VRUN_OPT_DIRECTORY:
    return push(&cli->dirs, &cli->ndirs, (char *)arg);
  case VRUN_OPT_DRY_RUN:
    cli->dry_run = 1;
    break;
  case VRUN_OPT_JOBS:
    if(arg)
      return parse_jobs(cli, arg, errbuf, errlen);
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cli->jobs = ncpu < 1 ? 1 : ncpu > MAX_JOBS ? MAX_JOBS : (int)ncpu;
    break;
  case VRUN_OPT_KEEP_GOING:
    cli->keep_going = 1;
    break;
  case VRUN_OPT_ALWAYS_MAKE:
    cli->always_make = 1;
    break;
  case VRUN_OPT_SILENT:
    cli->silent = 1;
    break;
  case VRUN_OPT_QUESTION:
    cli->question = 1;
    break;
  case VRUN_OPT_ENV_OVERRIDES:
    cli->env_override = 1;
    break;
  case VRUN_OPT_VERBOSE:
    cli->verbose = 1;
    break;
  case VRUN_OPT_LIST:
    cli->list = 1;
    break;
  case VRUN_OPT_HELP:
    cli->help = 1;
    break;
  case VRUN_OPT_VERSION:
    cli->version = 1;
    break;
  case VRUN_OPT_COMPLETIONS:
    if(strcmp(arg, "bash") && strcmp(arg, "zsh") && strcmp(arg, "fish")) {
      snprintf(errbuf, errlen, "unknown shell '%s' for --completions "
               "(use bash, zsh or fish)", arg);
      return -1;
    }
    cli->completions = arg;
    break;
  case VRUN_OPT_MODULE_PATH:
    return push(&cli->module_dirs, &cli->nmodule_dirs, (char *)arg);
  case VRUN_OPT_MODULES:
    cli->modules = 1;
    break;
  }
  return 0;
}

static const struct vrun_cli_option *find_long(const char *name, size_t len,
                                               int *ambiguous)
{
  const struct vrun_cli_option *o, *found = NULL;

  *ambiguous = 0;
  for(o = vrun_cli_options; o->lng; o++) {
    if(strlen(o->lng) == len && strncmp(o->lng, name, len) == 0)
      return o;
  }
  for(o = vrun_cli_options; o->lng; o++) {
    if(strncmp(o->lng, name, len) == 0) {
      if(found && found->id != o->id)
        *ambiguous = 1;
      found = o;
    }
  }
  return *ambiguous ? NULL : found;
}

static const struct vrun_cli_option *find_short(char c)
{
  const struct vrun_cli_option *o;

  for(o = vrun_cli_options; o->lng; o++) {
    if(o->shrt == c)
      return o;
  }
  return NULL;
}

/* A NAME=value word: returns 1 (valid), 0 (not an assignment), -1 bad. */
static int assignment(const char *s)
{
  const char *eq = strchr(s, '=');
  char name[256];
  size_t n;

  if(!eq)
    return 0;
  n = (size_t)(eq - s);
  if(!n || n >= sizeof(name))
    return -1;
  memcpy(name, s, n);
  name[n] = '\0';
  return vrun_vars_valid_name(name) ? 1 : -1;
}

static int parse_words(struct vrun_cli *cli, int n, char **w, int fromenv,
                       char *errbuf, size_t errlen)
{
  int i, dashdash = 0;

  for(i = 0; i < n; i++) {
    char *a = w[i];
    if(!dashdash && strcmp(a, "--") == 0) {
      dashdash = 1;
      continue;
    }
    if(!dashdash && a[0] == '-' && a[1] == '-') {
      const char *name = a + 2, *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      const char *arg = eq ? eq + 1 : NULL;
      int amb;
      const struct vrun_cli_option *o = find_long(name, len, &amb);
      if(!o) {
        snprintf(errbuf, errlen, "%s option '--%.*s' (see 'vrun --help')",
                 amb ? "ambiguous" : "unknown", (int)len, name);
        return -1;
      }
      if(o->arg == VRUN_ARG_NONE && arg) {
        snprintf(errbuf, errlen, "option '--%s' takes no argument", o->lng);
        return -1;
      }
      if(o->arg == VRUN_ARG_REQUIRED && !arg) {
        if(i + 1 >= n) {
          snprintf(errbuf, errlen, "option '--%s' requires an argument",
                   o->lng);
          return -1;
        }
        arg = w[++i];
      }
      if(o->arg == VRUN_ARG_OPTIONAL && !arg && i + 1 < n &&
         all_digits(w[i + 1]))
        arg = w[++i];
      if(apply(cli, o, arg, errbuf, errlen))
        return -1;
    }
    else if(!dashdash && a[0] == '-' && a[1]) {
      const char *p;
      for(p = a + 1; *p; p++) {
        const struct vrun_cli_option *o = find_short(*p);
        const char *arg = NULL;
        if(!o) {
          snprintf(errbuf, errlen, "unknown option '-%c' (see 'vrun --help')",
                   *p);
          return -1;
        }
        if(o->arg != VRUN_ARG_NONE) {
          if(p[1])
            arg = p + 1;
          else if(o->arg == VRUN_ARG_REQUIRED) {
            if(i + 1 >= n) {
              snprintf(errbuf, errlen, "option '-%c' requires an argument",
                       *p);
              return -1;
            }
            arg = w[++i];
          }
          else if(i + 1 < n && all_digits(w[i + 1]))
            arg = w[++i];
          if(apply(cli, o, arg, errbuf, errlen))
            return -1;
          break;  /* the rest of the word was the argument */
        }
        if(apply(cli, o, NULL, errbuf, errlen))
          return -1;
      }
    }
    else {
      int as = assignment(a);
      if(as < 0) {
        snprintf(errbuf, errlen, "malformed variable assignment '%s' "
                 "(expected NAME=value)", a);
        return -1;
      }
      if(as > 0) {
        if(push(&cli->vars, &cli->nvars, a))
          goto oom;
      }
      else if(!fromenv && push(&cli->targets, &cli->ntargets, a))
        goto oom;
    }
  }
  return 0;
oom:
  snprintf(errbuf, errlen, "out of memory");
  return -1;
}

/* Split VRUNFLAGS into words; a backslash escapes the next character. */
static int split_env(struct vrun_cli *cli, const char *s)
{
  size_t len = strlen(s);

  while(*s) {
    char *word, *o;
    while(*s == ' ' || *s == '\t' || *s == '\n')
      s++;
    if(!*s)
      break;
    word = malloc(len + 2);
    if(!word)
      return -1;
    o = word;
    if(cli->nenvwords == 0 && *s != '-' &&
       !memchr(s, '=', strcspn(s, " \t\n")))
      *o++ = '-';  /* make-style "ks" without a dash */
    while(*s && *s != ' ' && *s != '\t' && *s != '\n') {
      if(*s == '\\' && s[1])
        s++;
      *o++ = *s++;
    }
    *o = '\0';
    if(push(&cli->envwords, &cli->nenvwords, word)) {
      free(word);
      return -1;
    }
  }
  return 0;
}

int vrun_cli_parse(struct vrun_cli *cli, int argc, char **argv,
                   const char *vrunflags, char *errbuf, size_t errlen)
{
  memset(cli, 0, sizeof(*cli));
  cli->jobs = 1;
  errbuf[0] = '\0';
  if(vrunflags && *vrunflags) {
    if(split_env(cli, vrunflags)) {
      snprintf(errbuf, errlen, "out of memory");
      return -1;
    }
    if(parse_words(cli, (int)cli->nenvwords, cli->envwords, 1, errbuf,
                   errlen)) {
      char msg[512];
      snprintf(msg, sizeof(msg), "in VRUNFLAGS: %s", errbuf);
      snprintf(errbuf, errlen, "%s", msg);
      return -1;
    }
  }
  if(argc > 1 && parse_words(cli, argc - 1, argv + 1, 0, errbuf, errlen))
    return -1;
  return 0;
}

void vrun_cli_free(struct vrun_cli *cli)
{
  size_t i;

  for(i = 0; i < cli->nenvwords; i++)
    free(cli->envwords[i]);
  free(cli->envwords);
  free(cli->dirs);
  free(cli->targets);
  free(cli->vars);
  free(cli->module_dirs);
  memset(cli, 0, sizeof(*cli));
}

char *vrun_cli_child_flags(const struct vrun_cli *cli)
{
  size_t cap = 64, len = 0, i;
  char *s, *p;

  for(i = 0; i < cli->nvars; i++)
    cap += 2 * strlen(cli->vars[i]) + 1;
  s = malloc(cap);
  if(!s)
    return NULL;
  len = (size_t)snprintf(s, cap, "%s%s%s%s%s", cli->dry_run ? " -n" : "",
                         cli->keep_going ? " -k" : "",
                         cli->silent ? " -s" : "",
                         cli->question ? " -q" : "",
                         cli->env_override ? " -e" : "");
  if(cli->jobs > 1)
    len += (size_t)snprintf(s + len, cap - len, " -j%d", cli->jobs);
  for(i = 0; i < cli->nvars; i++) {
    s[len++] = ' ';
    for(p = cli->vars[i]; *p; p++) {
      if(*p == ' ' || *p == '\\' || *p == '\t' || *p == '\n')
        s[len++] = '\\';
      s[len++] = *p;
    }
  }
  s[len] = '\0';
  if(s[0] == ' ')
    memmove(s, s + 1, len);
  return s;
}

size_t vrun_cli_usage(char *buf, size_t len)
{
  const struct vrun_cli_option *o;
  size_t n = 0;
  char left[64];

#define OUT(...) do {                                                   \
    int k_ = snprintf(buf + (n < len ? n : len),                        \
                      n < len ? len - n : 0, __VA_ARGS__);              \
    if(k_ > 0)                                                          \
      n += (size_t)k_;                                                  \
  } while(0)
  OUT("Usage: vrun [options] [target...] [VAR=value...]\n"
      "Runs the tasks of vrun.lua (Lua 5.4) like make runs a Makefile.\n"
      "\nOptions:\n");
  for(o = vrun_cli_options; o->lng; o++) {
    if(o->alias)
      continue;
    if(o->shrt)
      snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shrt, o->lng,
               o->argname ? (o->arg == VRUN_ARG_OPTIONAL ? "[=" : " ") : "",
               o->argname ? o->argname : "");
    else
      snprintf(left, sizeof(left), "    --%s%s%s", o->lng,
               o->argname ? " " : "", o->argname ? o->argname : "");
    if(o->arg == VRUN_ARG_OPTIONAL)
      snprintf(left + strlen(left), sizeof(left) - strlen(left), "]");
    {
      /* wrap the help at 79 columns, continuing under itself */
      const char *h = o->help;
      int first = 1;
      while(*h) {
        size_t take = strlen(h);
        if(take > 48) {
          take = 48;
          while(take && h[take] != ' ')
            take--;
          if(!take)
            take = 48;
        }
        OUT("  %-28s %.*s\n", first ? left : "", (int)take, h);
        first = 0;
        h += take;
        while(*h == ' ')
          h++;
      }
    }
  }
  OUT("\nVariables: VAR=value on the command line > var.VAR = ... in the "
      "task file\n> environment > default { VAR = ... }; -e puts the "
      "environment first.\nVRUNFLAGS in the environment is read before "
      "the arguments.\n"
      "Exit status: 0 done, 1 with -q when not up to date, 2 on error.\n");
#undef OUT
  return n;
}
