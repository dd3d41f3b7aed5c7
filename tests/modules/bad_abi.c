/*
** bad_abi.c: a test module built for a future module ABI; vrun must
** refuse it before calling anything in it.
** SPDX-License-Identifier: MIT
*/
#include <stdio.h>

#include "vrun_module.h"

static int bad_abi_open(lua_State *L, const struct vrun_host *h,
                        struct vrun_err *err)
{
  (void)L;
  (void)h;
  return VRUN_SET_ERR(err, VRUN_EINVAL, "must never be called");
}

const struct vrun_module vrun_module = {
  .abi = VRUN_ABI_VERSION + 1,
  .name = "bad_abi",
  .version = "9.9.9",
  .summary = "Test module built for another ABI",
  .open = bad_abi_open
};
