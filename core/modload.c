/*
** modload.c: placeholder until the module loader lands (issue 3).
** SPDX-License-Identifier: MIT
*/
#include <stdio.h>

#include "ctx.h"
#include "log.h"

void vrun_modload_install(lua_State *L, struct vrun_ctx *ctx)
{
  (void)L;
  (void)ctx;
}

int vrun_modload_preload(lua_State *L, struct vrun_ctx *ctx,
                         const char *name, struct vrun_err *err)
{
  (void)L;
  (void)ctx;
  return VRUN_SET_ERR(err, VRUN_ENOTSUP,
                      "module '%s': modules are not enabled", name);
}

int vrun_modload_list(struct vrun_ctx *ctx)
{
  (void)ctx;
  vrun_log(VRUN_LOG_ERROR, "modules are not enabled in this build");
  return 2;
}

const struct vrun_host *vrun_host_get(struct vrun_ctx *ctx)
{
  (void)ctx;
  return NULL;
}
