/*
** compose.c: bump image tags in compose files. libyaml finds the
** `image:` scalars; the original bytes are spliced, so comments, quoting
** and layout stay as they were.
** SPDX-License-Identifier: MIT
*/
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "compose.h"

#define MAX_DEPTH 128

struct edit {
  size_t line;      /* 0-based */
  char *old;
  char *new;
};

struct frame {
  int map;          /* a mapping (else a sequence) */
  int want_key;     /* mapping: the next node is a key */
  int key_image;    /* mapping: the last key was "image" */
  int services;     /* mapping: the last key was "services" */
  int is_services;  /* this node is the top-level "services" mapping */
};

static char *slurp(const char *path, size_t *len, struct vrun_err *err)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL, *nb;
  size_t cap = 0, n = 0, r;

  if(!f) {
    VRUN_SET_ERR(err, VRUN_EIO, "cannot read %s: %s", path,
                 strerror(errno));
    return NULL;
  }
  for(;;) {
    if(n + 4096 + 1 > cap) {
      cap = cap ? cap * 2 : 65536;
      nb = realloc(buf, cap);
      if(!nb) {
        free(buf);
        fclose(f);
        VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
        return NULL;
      }
      buf = nb;
    }
    r = fread(buf + n, 1, cap - n - 1, f);
    n += r;
    if(r == 0)
      break;
  }
  if(ferror(f)) {
    free(buf);
    fclose(f);
    VRUN_SET_ERR(err, VRUN_EIO, "cannot read %s", path);
    return NULL;
  }
  fclose(f);
  buf[n] = 0;
  *len = n;
  return buf;
}

/* Length of a leading "v1.2.3" in a tag, or 0. */
static size_t version_len(const char *t)
{
  size_t i = 0;
  int part;

  if(t[i] == 'v')
    i++;
  for(part = 0; part < 3; part++) {
    if(part) {
      if(t[i] != '.')
        return 0;
      i++;
    }
    if(!isdigit((unsigned char)t[i]))
      return 0;
    while(isdigit((unsigned char)t[i]))
      i++;
  }
  return i;
}

/* The new value of an image scalar, malloc'd, or NULL to leave it. */
static char *new_value(const char *v, char *const *images, size_t n,
                       const char *tag)
{
  struct docker_ref r;
  struct vrun_err err;
  char *res = NULL;
  size_t i, vl, tl;

  if(docker_ref_parse(v, &r, &err))
    return NULL;
  for(i = 0; i < n && strcmp(images[i], r.repo); i++)
    ;
  if(i < n && r.tag && !r.digest && (vl = version_len(r.tag)) > 0) {
    size_t keep = strlen(v) - strlen(r.tag);  /* the text before the tag */
    tl = strlen(tag);
    res = malloc(keep + tl + strlen(r.tag + vl) + 1);
    if(res) {
      memcpy(res, v, keep);
      memcpy(res + keep, tag, tl);
      memcpy(res + keep + tl, r.tag + vl, strlen(r.tag + vl) + 1);
    }
    if(res && !strcmp(res, v)) {
      free(res);
      res = NULL;
    }
  }
  docker_ref_free(&r);
  return res;
}

/* Walk the YAML events and collect the edits. */
static int find_edits(const char *path, const char *buf, size_t len,
                      char *const *images, size_t n, const char *tag,
                      struct edit **edits, size_t *ne, struct vrun_err *err)
{
  yaml_parser_t p;
  yaml_event_t ev;
  struct frame st[MAX_DEPTH];
  int depth = 0, done = 0, rc = VRUN_OK;
  size_t cap = 0;

  if(!yaml_parser_initialize(&p))
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
  while(!done && !rc) {
    struct frame *top = depth ? &st[depth - 1] : NULL;
    if(!yaml_parser_parse(&p, &ev)) {
      rc = VRUN_SET_ERR(err, VRUN_EINVAL, "%s:%zu: %s", path,
                        p.problem_mark.line + 1,
                        p.problem ? p.problem : "invalid YAML");
      break;
    }
    switch(ev.type) {
    case YAML_SCALAR_EVENT:
      if(top && top->map && top->want_key) {
        top->key_image = !strcmp((char *)ev.data.scalar.value, "image");
        top->services = depth == 1 &&
          !strcmp((char *)ev.data.scalar.value, "services");
      }
      /* only services.<name>.image: an "image" label or option stays */
      else if(top && top->map && top->key_image && depth == 3 &&
              st[1].is_services) {
        char *nv = new_value((char *)ev.data.scalar.value, images, n, tag);
        if(nv) {
          if(*ne == cap) {
            struct edit *e2 = realloc(*edits, (cap ? 2 * cap : 8) *
                                      sizeof(**edits));
            if(!e2) {
              free(nv);
              rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
              break;
            }
            *edits = e2;
            cap = cap ? 2 * cap : 8;
          }
          (*edits)[*ne].line = ev.start_mark.line;
          (*edits)[*ne].old = strdup((char *)ev.data.scalar.value);
          (*edits)[*ne].new = nv;
          (*ne)++;
        }
      }
      /* a scalar fills a key or value slot, like an alias */
      /* fall through */
    case YAML_ALIAS_EVENT:
      if(top && top->map)
        top->want_key = !top->want_key;
      break;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
      if(top && top->map)
        top->want_key = !top->want_key;
      if(depth == MAX_DEPTH) {
        rc = VRUN_SET_ERR(err, VRUN_EINVAL, "%s: nested too deeply", path);
        break;
      }
      st[depth].map = ev.type == YAML_MAPPING_START_EVENT;
      st[depth].want_key = 1;
      st[depth].key_image = 0;
      st[depth].services = 0;
      /* toggled above: a value slot now wants a key next */
      st[depth].is_services = top && top->services && top->want_key;
      depth++;
      break;
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
      if(depth)
        depth--;
      break;
    case YAML_STREAM_END_EVENT:
      done = 1;
      break;
    default:
      break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  return rc;
}

int docker_compose_bump(struct docker_ctx *dc, const char *path,
                        char *const *images, size_t n, const char *tag,
                        int *changed, struct vrun_err *err)
{
  const struct vrun_host *h = dc->host;
  struct edit *edits = NULL;
  size_t ne = 0, len = 0, i, line, off, ol, nl, olen, pos;
  char *buf, *out = NULL, *hit, *ls, *le;
  int rc;

  *changed = 0;
  buf = slurp(path, &len, err);
  if(!buf)
    return err->code;
  rc = find_edits(path, buf, len, images, n, tag, &edits, &ne, err);
  if(rc || !ne)
    goto done;
  out = malloc(len + ne * (strlen(tag) + 64) + 1);
  if(!out) {
    rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    goto done;
  }
  /* splice: copy the bytes up to each edited scalar, then the new text */
  olen = 0;
  pos = 0;
  line = 0;
  off = 0;
  for(i = 0; i < ne && !rc; i++) {
    while(line < edits[i].line && off < len) {
      ls = memchr(buf + off, '\n', len - off);
      off = ls ? (size_t)(ls - buf) + 1 : len;
      line++;
    }
    ls = buf + (off > pos ? off : pos);
    le = memchr(ls, '\n', len - (size_t)(ls - buf));
    if(!le)
      le = buf + len;
    ol = strlen(edits[i].old);
    hit = NULL;
    if((size_t)(le - ls) >= ol)
      hit = memmem(ls, (size_t)(le - ls), edits[i].old, ol);
    if(!hit) {
      rc = VRUN_SET_ERR(err, VRUN_EINVAL, "%s:%zu: cannot locate image "
                        "'%s' (a multi-line scalar?)", path,
                        edits[i].line + 1, edits[i].old);
      break;
    }
    nl = strlen(edits[i].new);
    memcpy(out + olen, buf + pos, (size_t)(hit - buf) - pos);
    olen += (size_t)(hit - buf) - pos;
    memcpy(out + olen, edits[i].new, nl);
    olen += nl;
    pos = (size_t)(hit - buf) + ol;
    if(h->dry_run(dc->vc)) {
      size_t lo = off, lend = (size_t)(le - buf);
      if(i == 0)
        h->log(dc->vc, VRUN_LOG_INFO, "--- %s\n+++ %s", path, path);
      h->log(dc->vc, VRUN_LOG_INFO, "@@ -%zu +%zu @@\n-%.*s\n+%.*s%s%.*s",
             edits[i].line + 1, edits[i].line + 1, (int)(lend - lo),
             buf + lo, (int)((size_t)(hit - buf) - lo), buf + lo,
             edits[i].new, (int)(lend - pos), buf + pos);
    }
  }
  if(rc)
    goto done;
  memcpy(out + olen, buf + pos, len - pos);
  olen += len - pos;
  *changed = 1;
  if(!h->dry_run(dc->vc)) {
    rc = h->write_file(dc->vc, path, out, olen, err);
    if(!rc)
      h->log(dc->vc, VRUN_LOG_INFO, "docker: %s: %zu image tag%s set to %s",
             path, ne, ne == 1 ? "" : "s", tag);
  }
done:
  for(i = 0; i < ne; i++) {
    free(edits[i].old);
    free(edits[i].new);
  }
  free(edits);
  free(out);
  free(buf);
  return rc;
}
