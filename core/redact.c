/*
** redact.c: masking of registered secrets in everything vrun prints.
** SPDX-License-Identifier: MIT
**
** Secrets are few (a handful of tokens), output is lines, so a linear scan
** per secret is simpler and fast enough; no need for Aho-Corasick.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t nsecrets;

void vrun_redact_add(const char *value)
{
  size_t i;
  char *copy;
  char **grown;

  if(!value || strlen(value) < VRUN_REDACT_MIN_LEN)
    return;
  pthread_mutex_lock(&lock);
  for(i = 0; i < nsecrets; i++) {
    if(strcmp(secrets[i], value) == 0)
      goto out;
  }
  copy = strdup(value);
  grown = realloc(secrets, (nsecrets + 1) * sizeof(*secrets));
  if(!copy || !grown) {
    free(copy);
    if(grown)
      secrets = grown;
    goto out;
  }
  secrets = grown;
  /* Longest first, so a secret containing another is masked whole. */
  i = nsecrets++;
  while(i > 0 && strlen(secrets[i - 1]) < strlen(copy)) {
    secrets[i] = secrets[i - 1];
    i--;
  }
  secrets[i] = copy;
out:
  pthread_mutex_unlock(&lock);
}

/* Length of the secret that starts at p (at most `left` bytes), or 0. */
static size_t match_at(const char *p, size_t left)
{
  size_t i, n;

  for(i = 0; i < nsecrets; i++) {
    n = strlen(secrets[i]);
    if(n <= left && memcmp(p, secrets[i], n) == 0)
      return n;
  }
  return 0;
}

char *vrun_redact(const char *buf, size_t len, size_t *outlen, int *oom)
{
  size_t i, n, o = 0, cap;
  char *out = NULL;
  int found = 0;

  *oom = 0;
  pthread_mutex_lock(&lock);
  if(!nsecrets)
    goto done;
  for(i = 0; i < len && !found; i++)
    found = match_at(buf + i, len - i) != 0;
  if(!found)
    goto done;
  cap = len + 1;  /* "***" is never longer than a secret (>= 3 bytes) */
  out = malloc(cap);
  if(!out) {
    *oom = 1;
    goto done;
  }
  for(i = 0; i < len;) {
    n = match_at(buf + i, len - i);
    if(n) {
      memcpy(out + o, "***", 3);
      o += 3;
      i += n;
    }
    else
      out[o++] = buf[i++];
  }
  out[o] = '\0';
  *outlen = o;
done:
  pthread_mutex_unlock(&lock);
  return out;
}

static int ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);

  return a >= b && strcmp(s + a - b, suffix) == 0;
}

int vrun_redact_is_secret_name(const char *name)
{
  static const char *const suffixes[] = {
    "TOKEN", "SECRET", "PASSWORD", "WEBHOOK", "_KEY", NULL
  };
  int i;

  for(i = 0; suffixes[i]; i++) {
    if(ends_with(name, suffixes[i]))
      return 1;
  }
  return 0;
}

int vrun_redact_is_secret_value(const char *value)
{
  static const char *const prefixes[] = {
    "ghp_", "github_pat_", "xoxb-", "xoxp-", NULL
  };
  int i;

  for(i = 0; prefixes[i]; i++) {
    if(strncmp(value, prefixes[i], strlen(prefixes[i])) == 0)
      return 1;
  }
  return 0;
}
