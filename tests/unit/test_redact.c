/*
** test_redact.c: secret masking (core/redact.c).
** SPDX-License-Identifier: MIT
*/
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "tap.h"

static char *mask(const char *s)
{
  size_t n;
  int oom;
  char *r = vrun_redact(s, strlen(s), &n, &oom);

  return r ? r : strdup(s);
}

int main(void)
{
  char *r;

  r = mask("nothing registered");
  is_str(r, "nothing registered", "no secrets: output unchanged");
  free(r);

  vrun_redact_add("ghp_FAKE0123456789");
  vrun_redact_add("ab");  /* too short: would garble output */
  vrun_redact_add("hunter2");
  vrun_redact_add("hunter2-extended");

  r = mask("token=ghp_FAKE0123456789 end");
  is_str(r, "token=*** end", "registered value masked");
  free(r);

  r = mask("abc ab");
  is_str(r, "abc ab", "values shorter than the minimum are not registered");
  free(r);

  r = mask("hunter2-extended and hunter2");
  is_str(r, "*** and ***", "longest secret masked whole");
  free(r);

  r = mask("ghp_FAKE0123456789ghp_FAKE0123456789");
  is_str(r, "******", "adjacent occurrences");
  free(r);

  ok(vrun_redact_is_secret_name("GITHUB_TOKEN"), "TOKEN suffix");
  ok(vrun_redact_is_secret_name("SLACK_WEBHOOK"), "WEBHOOK suffix");
  ok(vrun_redact_is_secret_name("DOCKER_PASSWORD"), "PASSWORD suffix");
  ok(vrun_redact_is_secret_name("API_KEY"), "_KEY suffix");
  ok(!vrun_redact_is_secret_name("MONKEY"), "KEY without underscore");
  ok(!vrun_redact_is_secret_name("TAG"), "ordinary name");
  ok(vrun_redact_is_secret_value("github_pat_x"), "github_pat_ prefix");
  ok(vrun_redact_is_secret_value("xoxb-FAKE"), "xoxb- prefix");
  ok(!vrun_redact_is_secret_value("v1.2.3"), "ordinary value");
  return done_testing();
}
