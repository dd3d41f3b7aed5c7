/*
** test_proc.c: argv subprocesses (core/proc.c): quoting of the echoed
** line, capture, exit status, dry-run.
** SPDX-License-Identifier: MIT
*/
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "proc.h"
#include "tap.h"

static const char *fmt(const char *const *argv)
{
  static char buf[256];

  vrun_proc_format(argv, buf, sizeof(buf));
  return buf;
}

int main(void)
{
  const char *a1[] = { "git", "tag", "-a", "v1.2.3", NULL };
  const char *a2[] = { "echo", "a b", "", "it's", "$HOME", NULL };
  const char *a3[] = { "printf", "%s-%s", "x", "y", NULL };
  const char *a4[] = { "sh", "-c", "exit 7", NULL };
  const char *a5[] = { "false", NULL };
  struct vrun_ctx ctx;
  struct vrun_err err;
  char *out = NULL;
  size_t len = 0;
  int st = -1, rc;

  memset(&ctx, 0, sizeof(ctx));
  is_str(fmt(a1), "git tag -a v1.2.3", "plain words stay bare");
  is_str(fmt(a2), "echo 'a b' '' 'it'\\''s' '$HOME'",
         "spaces, empty, quote and $ are shell-quoted");

  rc = vrun_proc_run(&ctx, a3, NULL, VRUN_RUN_CAPTURE | VRUN_RUN_QUIET,
                     &out, &len, &st, &err);
  is_int(rc, VRUN_OK, "capture: ok");
  is_str(out, "x-y", "capture: stdout collected");
  is_int(len, 3, "capture: length");
  free(out);

  rc = vrun_proc_run(&ctx, a4, NULL, VRUN_RUN_QUIET, NULL, NULL, &st, &err);
  is_int(rc, VRUN_EPROC, "non-zero exit is VRUN_EPROC");
  is_str(err.msg, "'sh -c 'exit 7'' exited with status 7", "... named");
  is_int(st, 7, "... with the exit status");
  rc = vrun_proc_run(&ctx, a4, NULL, VRUN_RUN_QUIET | VRUN_RUN_NOFAIL, NULL,
                     NULL, &st, &err);
  is_int(rc, VRUN_OK, "NOFAIL: ok");
  is_int(st, 7, "NOFAIL: exit status reported");

  ctx.dry_run = 1;
  out = NULL;
  rc = vrun_proc_run(&ctx, a3, NULL, VRUN_RUN_CAPTURE | VRUN_RUN_QUIET,
                     &out, &len, &st, &err);
  is_int(rc, VRUN_OK, "-n: ok");
  is_str(out, "", "-n: not run, empty capture");
  free(out);
  out = NULL;
  rc = vrun_proc_run(&ctx, a3, NULL, VRUN_RUN_CAPTURE | VRUN_RUN_QUIET |
                     VRUN_RUN_READONLY, &out, &len, &st, &err);
  is_str(out, "x-y", "-n: READONLY still runs");
  free(out);
  ctx.dry_run = 0;

  rc = vrun_proc_run(&ctx, a5, NULL, VRUN_RUN_QUIET | VRUN_RUN_CAPTURE,
                     &out, &len, &st, &err);
  is_int(rc, VRUN_EPROC, "a failing command: VRUN_EPROC");
  ok(out == NULL, "on error *out is NULL");
  return done_testing();
}
