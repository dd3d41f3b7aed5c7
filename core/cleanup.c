/*
** cleanup.c: paths to delete when the run is interrupted (temp files and
** the file target being made), unlinked from the signal handler.
** SPDX-License-Identifier: MIT
**
** A fixed array of atomic pointers: the handler only loads pointers and
** calls unlink(), both async-signal-safe; add/remove never block it.
*/
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "jobs.h"

#define SLOTS 1024

static _Atomic(char *) slots[SLOTS];

void vrun_cleanup_add(const char *path)
{
  char *copy, *expect;
  size_t i;

  if(!path)
    return;
  copy = strdup(path);
  if(!copy)
    return;
  for(i = 0; i < SLOTS; i++) {
    expect = NULL;
    if(atomic_compare_exchange_strong(&slots[i], &expect, copy))
      return;
  }
  free(copy);  /* full: 1024 temp files at once is not a real case */
}

void vrun_cleanup_remove(const char *path)
{
  size_t i;
  char *p;

  if(!path)
    return;
  for(i = 0; i < SLOTS; i++) {
    p = atomic_load(&slots[i]);
    if(p && strcmp(p, path) == 0) {
      if(atomic_compare_exchange_strong(&slots[i], &p, NULL)) {
        free(p);
        return;
      }
    }
  }
}

void vrun_cleanup_run_signal(void)
{
  size_t i;
  char *p;

  for(i = 0; i < SLOTS; i++) {
    p = atomic_load(&slots[i]);
    if(p)
      unlink(p);
  }
}

void vrun_cleanup_free(void)
{
  size_t i;

  for(i = 0; i < SLOTS; i++)
    free(atomic_exchange(&slots[i], NULL));
}
