/*
** test_vars.c: variable precedence (make's), overlays, child environment.
** SPDX-License-Identifier: MIT
*/
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "redact.h"
#include "tap.h"
#include "vars.h"

static const char *env_get(char **envp, const char *name)
{
  size_t n = strlen(name);

  for(; envp && *envp; envp++) {
    if(strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
      return *envp + n + 1;
  }
  return NULL;
}

int main(void)
{
  struct vrun_vars *v = vrun_vars_new(0), *e;
  struct vrun_overlay *ov, *ov2;
  const char *names[] = { "X", "A" }, *vals[] = { "ovx", "ova" };
  const char *n2[] = { "A" }, *v2[] = { "inner" };
  struct vrun_ctx ctx;
  char **envp;
  int origin;

  unsetenv("X");
  is_str(vrun_vars_get(v, "X", &origin), NULL, "unset is NULL");
  is_int(origin, VRUN_VAR_UNSET, "origin UNSET");
  vrun_vars_set(v, VRUN_VAR_DEFAULT, "X", "dflt");
  is_str(vrun_vars_get(v, "X", &origin), "dflt", "default");
  setenv("X", "env", 1);
  is_str(vrun_vars_get(v, "X", &origin), "env", "environment > default");
  is_int(origin, VRUN_VAR_ENV, "origin ENV");
  vrun_vars_set(v, VRUN_VAR_FILE, "X", "file");
  is_str(vrun_vars_get(v, "X", NULL), "file", "file > environment");
  vrun_vars_set(v, VRUN_VAR_CMDLINE, "X", "cmd");
  is_str(vrun_vars_get(v, "X", &origin), "cmd", "command line > file");
  is_int(origin, VRUN_VAR_CMDLINE, "origin CMDLINE");
  vrun_vars_set(v, VRUN_VAR_CMDLINE, "X", NULL);
  is_str(vrun_vars_get(v, "X", NULL), "file", "unsetting one origin uncovers "
         "the next");

  e = vrun_vars_new(1);
  vrun_vars_set(e, VRUN_VAR_FILE, "X", "file");
  is_str(vrun_vars_get(e, "X", NULL), "env", "-e: environment > file");
  vrun_vars_set(e, VRUN_VAR_CMDLINE, "X", "cmd");
  is_str(vrun_vars_get(e, "X", NULL), "cmd", "-e: command line still wins");
  unsetenv("X");
  vrun_vars_set(e, VRUN_VAR_CMDLINE, "X", NULL);
  is_str(vrun_vars_get(e, "X", NULL), "file", "-e: file when no environment");
  vrun_vars_free(e);

  is_int(vrun_vars_set(v, VRUN_VAR_FILE, "1X", "a"), -1, "bad name refused");
  ok(vrun_vars_valid_name("_a.b-c1"), "names may hold . and -");
  ok(!vrun_vars_valid_name("a b"), "not spaces");

  ov = vrun_overlay_new(NULL, names, vals, 2);
  is_str(ov->key, "A=ova\nX=ovx", "overlay key is sorted");
  ov2 = vrun_overlay_new(ov, n2, v2, 1);
  is_str(ov2->key, "A=inner\nX=ovx", "nested overlay: inner wins, rest kept");
  vrun_vars_set_overlay(v, ov);
  is_str(vrun_vars_get(v, "X", &origin), "ovx", "overlay > command line");
  is_int(origin, VRUN_VAR_OVERLAY, "origin OVERLAY");

  /* children: command-line, file and overlay variables are exported */
  vrun_vars_set(v, VRUN_VAR_CMDLINE, "CMDV", "c1");
  vrun_vars_set(v, VRUN_VAR_DEFAULT, "DEFV", "d1");
  vrun_vars_add_env(v, "VRUNFLAGS=-n");
  envp = vrun_vars_environ(v);
  is_str(env_get(envp, "X"), "ovx", "overlay exported");
  is_str(env_get(envp, "A"), "ova", "overlay-only variable exported");
  is_str(env_get(envp, "CMDV"), "c1", "command line exported");
  is_str(env_get(envp, "DEFV"), NULL, "defaults are not exported");
  is_str(env_get(envp, "VRUNFLAGS"), "-n", "VRUNFLAGS exported");
  vrun_vars_set_overlay(v, NULL);
  envp = vrun_vars_environ(v);
  is_str(env_get(envp, "X"), "file", "environment follows the overlay");
  is_str(env_get(envp, "A"), NULL, "overlay gone");

  /* vrun_var_lookup registers secrets by name or value */
  memset(&ctx, 0, sizeof(ctx));
  ctx.vars = v;
  vrun_vars_set(v, VRUN_VAR_CMDLINE, "DEPLOY_TOKEN", "s3cr3t-value");
  vrun_vars_set(v, VRUN_VAR_CMDLINE, "PLAIN", "ghp_FAKE42");
  is_str(vrun_var_lookup(&ctx, "DEPLOY_TOKEN"), "s3cr3t-value", "lookup");
  vrun_var_lookup(&ctx, "PLAIN");
  {
    size_t n;
    int oom;
    char *m = vrun_redact("a s3cr3t-value b ghp_FAKE42", 27, &n, &oom);
    is_str(m, "a *** b ***", "looked-up secrets are masked");
    free(m);
  }
  vrun_overlay_free(ov);
  vrun_overlay_free(ov2);
  vrun_vars_free(v);
  return done_testing();
}
