/*
** util.c: small helpers of the docker module (digests, strings).
** SPDX-License-Identifier: MIT
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "docker.h"

void docker_digest_of(const void *data, size_t len,
                      char out[DOCKER_DIGEST_LEN])
{
  unsigned char md[SHA256_DIGEST_LENGTH];
  size_t i;

  /* one-shot hash of an in-memory JSON document; libcrypto's SHA256 is
  ** used here (not host->sha256) so worker threads may call it too */
  SHA256((const unsigned char *)data, len, md);
  memcpy(out, "sha256:", 7);
  for(i = 0; i < sizeof(md); i++)
    snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

char *docker_aprintf(const char *fmt, ...)
{
  va_list ap;
  int n;
  char *p;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if(n < 0)
    return NULL;
  p = malloc((size_t)n + 1);
  if(!p)
    return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}
