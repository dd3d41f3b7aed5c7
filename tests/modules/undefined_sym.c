/*
** undefined_sym.c: a test module that needs a symbol nobody defines, so
** dlopen(RTLD_NOW) itself fails and vrun must report dlerror's text.
** SPDX-License-Identifier: MIT
*/
#include "vrun_module.h"

void vrun_test_no_such_function(void);

static int undefined_sym_open(lua_State *L, const struct vrun_host *h,
                              struct vrun_err *err)
{
  (void)L;
  (void)h;
  (void)err;
  vrun_test_no_such_function();
  return VRUN_OK;
}

const struct vrun_module vrun_module = {
  .abi = VRUN_ABI_VERSION,
  .name = "undefined_sym",
  .version = "0.1.0",
  .summary = "Test module with an unresolved symbol",
  .open = undefined_sym_open
};
