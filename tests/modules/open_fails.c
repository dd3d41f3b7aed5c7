/*
** open_fails.c: a test module whose open refuses, with a message.
** SPDX-License-Identifier: MIT
*/
#include <stdio.h>

#include "vrun_module.h"

static int open_fails_open(lua_State *L, const struct vrun_host *h,
                           struct vrun_err *err)
{
  (void)L;
  (void)h;
  return VRUN_SET_ERR(err, VRUN_ENOENT, "no config file open_fails.conf");
}

const struct vrun_module vrun_module = {
  .abi = VRUN_ABI_VERSION,
  .name = "open_fails",
  .version = "0.1.0",
  .summary = "Test module whose open fails",
  .open = open_fails_open
};
