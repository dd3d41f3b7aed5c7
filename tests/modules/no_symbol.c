/*
** no_symbol.c: a shared object that is not a vrun module: its descriptor
** is hidden, so it exports no 'vrun_module'.
** SPDX-License-Identifier: MIT
*/
// cflags: -fvisibility=hidden
#include "vrun_module.h"

static int no_symbol_open(lua_State *L, const struct vrun_host *h,
                          struct vrun_err *err)
{
  (void)L;
  (void)h;
  (void)err;
  return VRUN_OK;
}

const struct vrun_module vrun_module = {
  .abi = VRUN_ABI_VERSION,
  .name = "no_symbol",
  .version = "1.0.0",
  .summary = "Not exported",
  .open = no_symbol_open
};
