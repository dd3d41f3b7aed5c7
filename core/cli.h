/*
** cli.h: vrun's command line, with make's grammar.
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_CLI_H
#define VRUN_CLI_H

#include <stddef.h>

enum vrun_opt_arg {
  VRUN_ARG_NONE,
  VRUN_ARG_REQUIRED,
  VRUN_ARG_OPTIONAL    /* -j [N]: taken only when it is a number */
};

enum vrun_opt_id {
  VRUN_OPT_FILE, VRUN_OPT_DIRECTORY, VRUN_OPT_DRY_RUN, VRUN_OPT_JOBS,
  VRUN_OPT_KEEP_GOING, VRUN_OPT_ALWAYS_MAKE, VRUN_OPT_SILENT,
  VRUN_OPT_QUESTION, VRUN_OPT_ENV_OVERRIDES, VRUN_OPT_VERBOSE,
  VRUN_OPT_LIST, VRUN_OPT_HELP, VRUN_OPT_VERSION, VRUN_OPT_COMPLETIONS,
  VRUN_OPT_MODULE_PATH, VRUN_OPT_MODULES
};

/* One option. Aliases share the id and have alias set; each non-alias
** option has a page docs/options/<long>.md whose "Help:" is `help`. */
struct vrun_cli_option {
  const char *lng;       /* long name without "--" */
  char shrt;             /* short letter or 0 */
  int arg;               /* enum vrun_opt_arg */
  const char *argname;   /* for --help, e.g. "FILE" */
  int id;                /* enum vrun_opt_id */
  int alias;
  const char *help;
};

/* NULL-terminated (lng == NULL) table of every option. */
extern const struct vrun_cli_option vrun_cli_options[];

struct vrun_cli {
  const char *file;       /* -f */
  char **dirs;            /* -C, in order (cumulative, like make) */
  size_t ndirs;
  char **targets;
  size_t ntargets;
  char **vars;            /* "NAME=value" from the command line */
  size_t nvars;
  char **module_dirs;     /* -M */
  size_t nmodule_dirs;
  int dry_run, silent, verbose, keep_going, always_make, question;
  int env_override, jobs;
  int list, help, version, modules;
  const char *completions;
  /* storage for words split from VRUNFLAGS */
  char **envwords;
  size_t nenvwords;
};

/*
** Parse VRUNFLAGS (may be NULL; its options and variables come first, its
** other words are ignored) then argv[1..argc). Returns 0, or -1 with a
** one-line message in errbuf (no "vrun: " prefix). cli is zeroed first;
** free it with vrun_cli_free even on error. Strings point into argv or
** into cli's own storage.
*/
int vrun_cli_parse(struct vrun_cli *cli, int argc, char **argv,
                   const char *vrunflags, char *errbuf, size_t errlen);
void vrun_cli_free(struct vrun_cli *cli);

/*
** VRUNFLAGS for a nested vrun: -n -k -s -q -e -jN and the command-line
** variables (spaces and backslashes escaped). malloc'd; NULL on OOM.
*/
char *vrun_cli_child_flags(const struct vrun_cli *cli);

/* Write the `vrun --help` text to buf (truncated to len). Returns the
** length it needed. */
size_t vrun_cli_usage(char *buf, size_t len);

#endif
