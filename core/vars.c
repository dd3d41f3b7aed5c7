/*
** vars.c: vrun variables with make's precedence, and vrun_var_lookup.
** SPDX-License-Identifier: MIT
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "redact.h"
#include "strmap.h"
#include "vars.h"

extern char **environ;

/* Values by origin; env values are read from environ when asked. */
struct var {
  char *name;
  char *dflt;
  char *file;
  char *cmdline;
};

struct vrun_vars {
  struct vrun_strmap map;
  char **order;           /* names in first-set order, for exporting */
  size_t norder, caporder;
  int env_override;
  const struct vrun_overlay *ov;
  char **extra;           /* "NAME=value" always exported */
  size_t nextra;
  unsigned gen;           /* bumped on every change */
  char **envp;            /* cached child environment */
  char **envstr;          /* strings envp owns */
  size_t nenvstr;
  unsigned envgen;
  const struct vrun_overlay *envov;
  int envvalid;
};

struct vrun_vars *vrun_vars_new(int env_override)
{
  struct vrun_vars *v = calloc(1, sizeof(*v));

  if(v)
    v->env_override = env_override;
  return v;
}

static void free_var(void *p)
{
  struct var *x = p;

  free(x->name);
  free(x->dflt);
  free(x->file);
  free(x->cmdline);
  free(x);
}

static void drop_env(struct vrun_vars *v)
{
  size_t i;

  for(i = 0; i < v->nenvstr; i++)
    free(v->envstr[i]);
  free(v->envstr);
  free(v->envp);
  v->envstr = NULL;
  v->envp = NULL;
  v->nenvstr = 0;
  v->envvalid = 0;
}

void vrun_vars_free(struct vrun_vars *v)
{
  size_t i;

  if(!v)
    return;
  vrun_strmap_free(&v->map, free_var);
  for(i = 0; i < v->nextra; i++)
    free(v->extra[i]);
  free(v->extra);
  free(v->order);
  drop_env(v);
  free(v);
}

int vrun_vars_valid_name(const char *name)
{
  const unsigned char *p = (const unsigned char *)name;

  if(!*p || !(isalpha(*p) || *p == '_'))
    return 0;
  for(p++; *p; p++) {
    if(!(isalnum(*p) || *p == '_' || *p == '.' || *p == '-'))
      return 0;
  }
  return 1;
}

int vrun_vars_set(struct vrun_vars *v, int origin, const char *name,
                  const char *value)
{
  struct var *x = vrun_strmap_get(&v->map, name);
  char **slot, *copy = NULL;

  if(!vrun_vars_valid_name(name))
    return -1;
  if(!x) {
    if(!value)
      return 0;
    x = calloc(1, sizeof(*x));
    if(!x)
      return -1;
    if(v->norder == v->caporder) {
      size_t ncap = v->caporder ? v->caporder * 2 : 32;
      char **o = realloc(v->order, ncap * sizeof(*o));
      if(!o) {
        free(x);
        return -1;
      }
      v->order = o;
      v->caporder = ncap;
    }
    x->name = strdup(name);
    if(!x->name || vrun_strmap_put(&v->map, name, x, NULL)) {
      free(x->name);
      free(x);
      return -1;
    }
    v->order[v->norder++] = x->name;
  }
  if(origin == VRUN_VAR_DEFAULT)
    slot = &x->dflt;
  else if(origin == VRUN_VAR_FILE)
    slot = &x->file;
  else if(origin == VRUN_VAR_CMDLINE)
    slot = &x->cmdline;
  else
    return -1;
  if(value) {
    copy = strdup(value);
    if(!copy)
      return -1;
  }
  free(*slot);
  *slot = copy;
  v->gen++;
  return 0;
}

const char *vrun_vars_get(struct vrun_vars *v, const char *name,
                          int *origin)
{
  struct var *x;
  const char *env;
  int dummy;
  size_t i;

  if(!origin)
    origin = &dummy;
  if(v->ov) {
    for(i = 0; i < v->ov->n; i++) {
      if(strcmp(v->ov->names[i], name) == 0) {
        *origin = VRUN_VAR_OVERLAY;
        return v->ov->values[i];
      }
    }
  }
  x = vrun_strmap_get(&v->map, name);
  if(x && x->cmdline) {
    *origin = VRUN_VAR_CMDLINE;
    return x->cmdline;
  }
  env = getenv(name);
  if(x && x->file && !(v->env_override && env)) {
    *origin = VRUN_VAR_FILE;
    return x->file;
  }
  if(env) {
    *origin = VRUN_VAR_ENV;
    return env;
  }
  if(x && x->dflt) {
    *origin = VRUN_VAR_DEFAULT;
    return x->dflt;
  }
  *origin = VRUN_VAR_UNSET;
  return NULL;
}

void vrun_vars_set_overlay(struct vrun_vars *v,
                           const struct vrun_overlay *ov)
{
  v->ov = ov;
}

const struct vrun_overlay *vrun_vars_overlay(struct vrun_vars *v)
{
  return v->ov;
}

int vrun_vars_add_env(struct vrun_vars *v, const char *name_value)
{
  char **n = realloc(v->extra, (v->nextra + 1) * sizeof(*n));

  if(!n)
    return -1;
  v->extra = n;
  n[v->nextra] = strdup(name_value);
  if(!n[v->nextra])
    return -1;
  v->nextra++;
  v->gen++;
  return 0;
}

/* Put "name=value" into envp (n used entries), replacing name's entry. */
static int env_put(struct vrun_vars *v, char **envp, size_t *n,
                   const char *name, const char *value)
{
  size_t nl = strlen(name), vl = strlen(value), i;
  char *s = malloc(nl + vl + 2);

  if(!s)
    return -1;
  memcpy(s, name, nl);
  s[nl] = '=';
  memcpy(s + nl + 1, value, vl + 1);
  v->envstr[v->nenvstr++] = s;
  for(i = 0; i < *n; i++) {
    if(strncmp(envp[i], name, nl) == 0 && envp[i][nl] == '=') {
      envp[i] = s;
      return 0;
    }
  }
  envp[(*n)++] = s;
  return 0;
}

char **vrun_vars_environ(struct vrun_vars *v)
{
  size_t nenv = 0, n = 0, max, i;
  char **envp;

  if(v->envvalid && v->envgen == v->gen && v->envov == v->ov)
    return v->envp;
  drop_env(v);
  while(environ && environ[nenv])
    nenv++;
  max = nenv + v->norder + v->nextra + (v->ov ? v->ov->n : 0) + 1;
  envp = malloc(max * sizeof(*envp));
  v->envstr = malloc((max + 1) * sizeof(*v->envstr));
  if(!envp || !v->envstr) {
    free(envp);
    drop_env(v);
    return NULL;
  }
  v->envp = envp;
  for(i = 0; i < nenv; i++)
    envp[n++] = environ[i];
  for(i = 0; i < v->norder; i++) {
    const char *name = v->order[i], *val;
    int origin;
    val = vrun_vars_get(v, name, &origin);
    if(val && (origin == VRUN_VAR_CMDLINE || origin == VRUN_VAR_FILE) &&
       env_put(v, envp, &n, name, val))
      goto oom;
  }
  for(i = 0; v->ov && i < v->ov->n; i++) {
    if(env_put(v, envp, &n, v->ov->names[i], v->ov->values[i]))
      goto oom;
  }
  for(i = 0; i < v->nextra; i++) {
    const char *eq = strchr(v->extra[i], '=');
    char name[256];
    size_t nl = eq ? (size_t)(eq - v->extra[i]) : 0;
    if(!eq || nl >= sizeof(name))
      continue;
    memcpy(name, v->extra[i], nl);
    name[nl] = '\0';
    if(env_put(v, envp, &n, name, eq + 1))
      goto oom;
  }
  envp[n] = NULL;
  v->envvalid = 1;
  v->envgen = v->gen;
  v->envov = v->ov;
  return envp;
oom:
  drop_env(v);
  return NULL;
}

static int cmp_idx(const void *a, const void *b, void *names)
{
  char **nm = names;
  return strcmp(nm[*(const size_t *)a], nm[*(const size_t *)b]);
}

struct vrun_overlay *vrun_overlay_new(const struct vrun_overlay *base,
                                      const char *const *names,
                                      const char *const *values, size_t n)
{
  struct vrun_overlay *ov = calloc(1, sizeof(*ov));
  size_t max = (base ? base->n : 0) + n, i, j, klen = 1;
  size_t *idx = NULL;
  char **nm = NULL, **vl = NULL;

  if(!ov)
    return NULL;
  ov->names = calloc(max + 1, sizeof(char *));
  ov->values = calloc(max + 1, sizeof(char *));
  if(!ov->names || !ov->values)
    goto oom;
  /* later pairs replace earlier ones with the same name */
  for(i = 0; i < max; i++) {
    const char *name = i < (base ? base->n : 0) ? base->names[i] :
      names[i - (base ? base->n : 0)];
    const char *val = i < (base ? base->n : 0) ? base->values[i] :
      values[i - (base ? base->n : 0)];
    char *vc = strdup(val);
    if(!vc)
      goto oom;
    for(j = 0; j < ov->n; j++) {
      if(strcmp(ov->names[j], name) == 0)
        break;
    }
    if(j < ov->n) {
      free(ov->values[j]);
      ov->values[j] = vc;
      continue;
    }
    ov->names[ov->n] = strdup(name);
    if(!ov->names[ov->n]) {
      free(vc);
      goto oom;
    }
    ov->values[ov->n++] = vc;
  }
  /* sort by name so {A,B} and {B,A} are the same invoke */
  idx = malloc((ov->n + 1) * sizeof(*idx));
  nm = malloc((ov->n + 1) * sizeof(*nm));
  vl = malloc((ov->n + 1) * sizeof(*vl));
  if(!idx || !nm || !vl)
    goto oom;
  for(i = 0; i < ov->n; i++)
    idx[i] = i;
  qsort_r(idx, ov->n, sizeof(*idx), cmp_idx, ov->names);
  for(i = 0; i < ov->n; i++) {
    nm[i] = ov->names[idx[i]];
    vl[i] = ov->values[idx[i]];
    klen += strlen(nm[i]) + strlen(vl[i]) + 2;
  }
  memcpy(ov->names, nm, ov->n * sizeof(*nm));
  memcpy(ov->values, vl, ov->n * sizeof(*vl));
  free(idx);
  free(nm);
  free(vl);
  ov->key = malloc(klen);
  if(!ov->key)
    goto oom;
  ov->key[0] = '\0';
  {
    size_t o = 0;
    for(i = 0; i < ov->n; i++) {
      o += (size_t)snprintf(ov->key + o, klen - o, "%s%s=%s",
                            i ? "\n" : "", ov->names[i], ov->values[i]);
    }
  }
  return ov;
oom:
  free(idx);
  free(nm);
  free(vl);
  vrun_overlay_free(ov);
  return NULL;
}

void vrun_overlay_free(struct vrun_overlay *ov)
{
  size_t i;

  if(!ov)
    return;
  for(i = 0; ov->names && i < ov->n; i++) {
    free(ov->names[i]);
    free(ov->values[i]);
  }
  free(ov->names);
  free(ov->values);
  free(ov->key);
  free(ov);
}

const char *vrun_var_lookup(struct vrun_ctx *ctx, const char *name)
{
  const char *val;

  if(!ctx || !ctx->vars || !name)
    return NULL;
  val = vrun_vars_get(ctx->vars, name, NULL);
  if(val && (vrun_redact_is_secret_name(name) ||
             vrun_redact_is_secret_value(val)))
    vrun_redact_add(val);
  return val;
}
