/*
** expand.c: make-style expansion of command lines.
** SPDX-License-Identifier: MIT
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "vrun_module.h"

struct buf {
  char *p;
  size_t len, cap;
  int oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
  if(b->oom)
    return;
  if(b->len + n + 1 > b->cap) {
    size_t ncap = b->cap ? b->cap : 64;
    char *np;
    while(ncap < b->len + n + 1)
      ncap *= 2;
    np = realloc(b->p, ncap);
    if(!np) {
      b->oom = 1;
      return;
    }
    b->p = np;
    b->cap = ncap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

/* Index of the ')' closing the "$(" whose '(' is at s[0], or 0. */
static size_t closing(const char *s)
{
  size_t i, depth = 0;

  for(i = 0; s[i]; i++) {
    if(s[i] == '(')
      depth++;
    else if(s[i] == ')' && --depth == 0)
      return i;
  }
  return 0;
}

int vrun_expand(const char *in, vrun_expand_lookup_fn lookup, void *ud,
                const struct vrun_expand_auto *a, char **out,
                char *badvar, size_t badvarlen)
{
  struct buf b = { NULL, 0, 0, 0 };
  const char *p = in, *d;
  int rc = 0;

  *out = NULL;
  put(&b, "", 0);
  while(*p) {
    d = strchr(p, '$');
    if(!d) {
      put(&b, p, strlen(p));
      break;
    }
    put(&b, p, (size_t)(d - p));
    p = d + 1;
    if(*p == '$') {
      put(&b, "$", 1);
      p++;
    }
    else if(*p == '@' || *p == '<' || *p == '^') {
      const char *v = NULL;
      if(a)
        v = *p == '@' ? a->target : *p == '<' ? a->first_dep : a->all_deps;
      if(v)
        put(&b, v, strlen(v));
      p++;
    }
    else if(*p == '(') {
      size_t end = closing(p);
      char *name, *inner = NULL;
      const char *val;
      if(!end) {
        snprintf(badvar, badvarlen, "unterminated '$(' in '%s'", in);
        rc = VRUN_EINVAL;
        goto fail;
      }
      name = strndup(p + 1, end - 1);
      if(!name) {
        rc = VRUN_ENOMEM;
        goto fail;
      }
      if(strchr(name, '$')) {
        /* $(CC_$(ARCH)): the inner reference names the variable */
        rc = vrun_expand(name, lookup, ud, a, &inner, badvar, badvarlen);
        free(name);
        if(rc)
          goto fail;
        name = inner;
      }
      val = lookup(ud, name);
      if(!val) {
        snprintf(badvar, badvarlen, "%s", name);
        free(name);
        rc = VRUN_ENOENT;
        goto fail;
      }
      free(name);
      put(&b, val, strlen(val));
      p += end + 1;
    }
    else
      put(&b, "$", 1);  /* $NAME, ${NAME}, $1 ...: the shell's */
  }
  if(b.oom) {
    rc = VRUN_ENOMEM;
    goto fail;
  }
  *out = b.p;
  return 0;
fail:
  free(b.p);
  return rc;
}
