/*
** test_cli.c: the argument parser (make's grammar) and the option pages.
** SPDX-License-Identifier: MIT
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tap.h"

static struct vrun_cli cli;
static char err[512];

static int parse(const char *flags, ...)
{
  char *argv[32];
  int argc = 1;
  va_list ap;
  char *a;

  argv[0] = "vrun";
  va_start(ap, flags);
  for(a = va_arg(ap, char *); a && argc < 31; a = va_arg(ap, char *))
    argv[argc++] = a;
  va_end(ap);
  argv[argc] = NULL;
  vrun_cli_free(&cli);
  return vrun_cli_parse(&cli, argc, argv, flags, err, sizeof(err));
}

/* Read a docs/options page's "Help:" line into buf. */
static int page_help(const char *name, char *buf, size_t len)
{
  char path[512], line[1024];
  const char *top = getenv("VRUN_TEST_TOP");
  FILE *f;
  int found = -1;

  snprintf(path, sizeof(path), "%s/docs/options/%s.md", top ? top : ".",
           name);
  f = fopen(path, "r");
  if(!f)
    return -1;
  while(fgets(line, sizeof(line), f)) {
    if(strncmp(line, "Help: ", 6) == 0) {
      line[strcspn(line, "\n")] = '\0';
      snprintf(buf, len, "%s", line + 6);
      found = 0;
      break;
    }
  }
  fclose(f);
  return found;
}

/* The man page, whole, or NULL. */
static char *man_page(void)
{
  char path[512], *buf;
  const char *top = getenv("VRUN_TEST_TOP");
  FILE *f;
  long n;

  snprintf(path, sizeof(path), "%s/docs/vrun.1", top ? top : ".");
  f = fopen(path, "r");
  if(!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  rewind(f);
  buf = calloc(1, (size_t)n + 1);
  if(buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

int main(void)
{
  char *man = man_page();
  const struct vrun_cli_option *o;
  char usage[8192], help[1100], *flags, *line;
  int maxw = 0;

  is_int(parse(NULL, "-n", "build", "CC=gcc", "-k", "test", NULL), 0,
         "options, targets and variables interleave");
  ok(cli.dry_run && cli.keep_going, "-n and -k set");
  is_int(cli.ntargets, 2, "two targets");
  is_str(cli.targets[1], "test", "in order");
  is_int(cli.nvars, 1, "one variable");
  is_str(cli.vars[0], "CC=gcc", "kept whole");

  parse(NULL, "-ksB", NULL);
  ok(cli.keep_going && cli.silent && cli.always_make, "bundled short options");

  parse(NULL, "-j", "4", "all", NULL);
  is_int(cli.jobs, 4, "-j N as two words");
  is_int(cli.ntargets, 1, "N is not a target");
  parse(NULL, "-j8", NULL);
  is_int(cli.jobs, 8, "-jN");
  parse(NULL, "--jobs=3", NULL);
  is_int(cli.jobs, 3, "--jobs=N");
  parse(NULL, "-j", "all", NULL);
  ok(cli.jobs >= 1, "bare -j: the CPU count");
  is_str(cli.targets[0], "all", "and the next word stays a target");
  is_int(parse(NULL, "-j0", NULL), -1, "-j0 refused");
  is_int(parse(NULL, "--jobs=2x", NULL), -1, "--jobs=2x refused");
  is_int(parse(NULL, "-j", "99999", NULL), -1, "-j too big refused");

  parse(NULL, "-C", "a", "-Cb", "--directory=c", NULL);
  is_int(cli.ndirs, 3, "-C is repeatable");
  is_str(cli.dirs[1], "b", "-CDIR");
  is_str(cli.dirs[2], "c", "--directory=DIR");

  parse(NULL, "-f", "x.lua", "--makefile=y.lua", NULL);
  is_str(cli.file, "y.lua", "-f / --makefile, last wins");

  parse(NULL, "-M", "m1", "--module-path", "m2", "--modules", NULL);
  is_int(cli.nmodule_dirs, 2, "-M repeatable");
  is_str(cli.module_dirs[1], "m2", "in order");
  ok(cli.modules, "--modules");

  parse(NULL, "--just-print", "--recon", "--quiet", NULL);
  ok(cli.dry_run && cli.silent, "make's long aliases");
  parse(NULL, "--dry", NULL);
  ok(cli.dry_run, "unique prefix of a long option");
  is_int(parse(NULL, "--ver", NULL), -1, "ambiguous prefix refused");
  is_str(err, "ambiguous option '--ver' (see 'vrun --help')", "and said so");

  is_int(parse(NULL, "-x", NULL), -1, "unknown short option");
  is_str(err, "unknown option '-x' (see 'vrun --help')", "message");
  is_int(parse(NULL, "-f", NULL), -1, "missing argument");
  is_str(err, "option '-f' requires an argument", "message");
  is_int(parse(NULL, "--list=1", NULL), -1, "argument to a flag refused");

  is_int(parse(NULL, "=x", NULL), -1, "empty variable name refused");
  is_int(parse(NULL, "A B=x", NULL), -1, "space in a name refused");
  is_str(err, "malformed variable assignment 'A B=x' (expected NAME=value)",
         "message");
  parse(NULL, "X=a=b", "Y=", NULL);
  is_str(cli.vars[0], "X=a=b", "value may hold '='");
  is_str(cli.vars[1], "Y=", "and may be empty");

  parse(NULL, "--", "-n", NULL);
  ok(!cli.dry_run && cli.ntargets == 1, "-- ends the options");

  parse(NULL, "--completions", "zsh", NULL);
  is_str(cli.completions, "zsh", "--completions SHELL");
  is_int(parse(NULL, "--completions", "tcsh", NULL), -1,
         "unknown shell refused");

  /* VRUNFLAGS: options and variables first, targets ignored */
  parse("-n -j2 A=x\\ y stray", "B=1", "t", NULL);
  ok(cli.dry_run, "VRUNFLAGS -n");
  is_int(cli.jobs, 2, "VRUNFLAGS -j2");
  is_int(cli.nvars, 2, "variables from both");
  is_str(cli.vars[0], "A=x y", "backslash escapes a space");
  is_int(cli.ntargets, 1, "words in VRUNFLAGS are not targets");
  parse("ks", NULL);
  ok(cli.keep_going && cli.silent, "make-style letters without a dash");
  is_int(parse("--nope", NULL), -1, "bad VRUNFLAGS refused");
  ok(strncmp(err, "in VRUNFLAGS: ", 14) == 0, "and blamed");

  parse(NULL, "-n", "-k", "-s", "-j3", "A=x y", "B=c\\d", NULL);
  flags = vrun_cli_child_flags(&cli);
  is_str(flags, "-n -k -s -j3 A=x\\ y B=c\\\\d", "flags for a nested vrun");
  parse(flags, NULL);
  free(flags);
  is_str(cli.vars[0], "A=x y", "round trip: space");
  is_str(cli.vars[1], "B=c\\d", "round trip: backslash");
  is_int(cli.jobs, 3, "round trip: -j");

  /* every option has a page whose Help: is the --help text */
  vrun_cli_usage(usage, sizeof(usage));
  for(line = usage; line && *line;) {
    char *nl = strchr(line, '\n');
    int w = nl ? (int)(nl - line) : (int)strlen(line);
    if(w > maxw)
      maxw = w;
    line = nl ? nl + 1 : NULL;
  }
  ok(maxw <= 79, "--help fits in 79 columns (widest: %d)", maxw);
  for(o = vrun_cli_options; o->lng; o++) {
    if(o->alias)
      continue;
    if(page_help(o->lng, help, sizeof(help))) {
      ok(0, "docs/options/%s.md exists", o->lng);
      continue;
    }
    is_str(help, o->help, "docs/options/%s.md Help: matches cli.c", o->lng);
    {
      /* --help wraps long lines: compare with spaces squeezed */
      char a[8192], b[1100];
      size_t x, y;
      for(x = y = 0; usage[x] && y < sizeof(a) - 1; x++) {
        if(usage[x] == '\n' || (usage[x] == ' ' && y && a[y - 1] == ' '))
          a[y++] = ' ';
        else
          a[y++] = usage[x];
        while(y > 1 && a[y - 1] == ' ' && a[y - 2] == ' ')
          y--;
      }
      a[y] = '\0';
      snprintf(b, sizeof(b), "%s", o->help);
      ok(strstr(a, b) != NULL, "--help shows --%s", o->lng);
    }
    {
      /* roff spells --dry-run as \-\-dry\-run */
      char roff[128];
      size_t k = 0;
      const char *c;
      for(c = "--"; *c; c++) {
        roff[k++] = '\\';
        roff[k++] = *c;
      }
      for(c = o->lng; *c && k < sizeof(roff) - 3; c++) {
        if(*c == '-')
          roff[k++] = '\\';
        roff[k++] = *c;
      }
      roff[k] = '\0';
      ok(man && strstr(man, roff), "docs/vrun.1 documents --%s", o->lng);
    }
  }
  free(man);
  vrun_cli_free(&cli);
  return done_testing();
}
