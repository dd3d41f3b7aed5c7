/*
** test_expand.c: make-style expansion of command lines.
** SPDX-License-Identifier: MIT
*/
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "tap.h"
#include "vrun_module.h"

static const char *look(void *ud, const char *name)
{
  (void)ud;
  if(strcmp(name, "CC") == 0)
    return "gcc";
  if(strcmp(name, "ARCH") == 0)
    return "arm64";
  if(strcmp(name, "CC_arm64") == 0)
    return "aarch64-gcc";
  if(strcmp(name, "EMPTY") == 0)
    return "";
  return NULL;
}

static char bad[256];

static char *ex(const char *in, int *rc)
{
  struct vrun_expand_auto a = { "bin/hello", "hello.c", "hello.c util.c" };
  char *out = NULL;

  *rc = vrun_expand(in, look, NULL, &a, &out, bad, sizeof(bad));
  return out;
}

int main(void)
{
  int rc;
  char *s;

  s = ex("$(CC) -o $@ $^ # first $<", &rc);
  is_str(s, "gcc -o bin/hello hello.c util.c # first hello.c", "vars and "
         "automatic variables");
  free(s);
  s = ex("echo $$HOME $HOME ${HOME} $1 $? $", &rc);
  is_str(s, "echo $HOME $HOME ${HOME} $1 $? $", "$$ is $; the rest is the "
         "shell's");
  free(s);
  s = ex("$$(date) x$(EMPTY)y", &rc);
  is_str(s, "$(date) xy", "$$(cmd) is shell substitution; empty is fine");
  free(s);
  s = ex("$(CC_$(ARCH))", &rc);
  is_str(s, "aarch64-gcc", "nested reference");
  free(s);
  s = ex("rm -rf $(DIR)/", &rc);
  is_int(rc, VRUN_ENOENT, "unset is an error");
  ok(s == NULL, "and no output");
  is_str(bad, "DIR", "naming the variable");
  s = ex("echo $(CC", &rc);
  is_int(rc, VRUN_EINVAL, "unterminated $(");
  s = ex("", &rc);
  is_str(s, "", "empty string");
  free(s);
  {
    char *out;
    rc = vrun_expand("$@|$<|$^", look, NULL, NULL, &out, bad, sizeof(bad));
    is_str(out, "||", "no task: automatic variables are empty");
    free(out);
  }
  return done_testing();
}
