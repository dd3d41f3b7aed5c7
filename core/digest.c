/*
** digest.c: SHA-256 (of memory or a file, streaming) and HMAC, through
** OpenSSL's EVP interface. Part of lib/vrun-svc.so.
** SPDX-License-Identifier: MIT
*/
#define VRUN_SVC_LIBRARY
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "svc.h"

#define CHUNK (256 * 1024)

/* SHA-256 of a file read in 256 KiB chunks: memory stays flat whatever
** the size. Returns VRUN_OK, VRUN_EIO, VRUN_EINTR or VRUN_ECRYPTO. */
int vrun_digest_sha256_file(struct vrun_ctx *ctx, const char *path,
                            unsigned char out[32], struct vrun_err *err)
{
  EVP_MD_CTX *md = NULL;
  unsigned char *buf = NULL;
  unsigned int len = 0;
  ssize_t n;
  int fd = -1, rc = VRUN_OK;

  if(!path || !out)
    return VRUN_SET_ERR(err, VRUN_EINVAL, "sha256_file: no path");
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if(fd < 0)
    return VRUN_SET_ERR(err, errno == ENOENT ? VRUN_ENOENT : VRUN_EIO,
                        "cannot read %s: %s", path, strerror(errno));
  buf = malloc(CHUNK);
  md = EVP_MD_CTX_new();
  if(!buf || !md) {
    rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "sha256_file: out of memory");
    goto out;
  }
  if(EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
    rc = VRUN_SET_ERR(err, VRUN_ECRYPTO, "sha256: init failed");
    goto out;
  }
  for(;;) {
    n = read(fd, buf, CHUNK);
    if(n < 0 && errno == EINTR)
      continue;
    if(n < 0) {
      rc = VRUN_SET_ERR(err, VRUN_EIO, "cannot read %s: %s", path,
                        strerror(errno));
      goto out;
    }
    if(n == 0)
      break;
    if(EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
      rc = VRUN_SET_ERR(err, VRUN_ECRYPTO, "sha256: update failed");
      goto out;
    }
    if(vrun_svc_core->interrupted(ctx)) {
      rc = VRUN_SET_ERR(err, VRUN_EINTR, "sha256 of %s interrupted", path);
      goto out;
    }
  }
  if(EVP_DigestFinal_ex(md, out, &len) != 1 || len != 32)
    rc = VRUN_SET_ERR(err, VRUN_ECRYPTO, "sha256: final failed");
out:
  EVP_MD_CTX_free(md);
  free(buf);
  close(fd);
  return rc;
}

/* SHA-256 of memory. Returns VRUN_OK or VRUN_ECRYPTO. */
int vrun_digest_sha256(const void *data, size_t len, unsigned char out[32])
{
  unsigned int olen = 0;

  if(!out || (!data && len))
    return VRUN_EINVAL;
  if(EVP_Digest(data ? data : "", len, out, &olen, EVP_sha256(), NULL) != 1
     || olen != 32)
    return VRUN_ECRYPTO;
  return VRUN_OK;
}

/* HMAC-SHA1 or HMAC-SHA256. Returns VRUN_OK, VRUN_EINVAL for another
** algorithm, or VRUN_ECRYPTO. */
int vrun_digest_hmac(const char *algo, const void *key, size_t keylen,
                     const void *data, size_t len,
                     unsigned char out[64], unsigned int *outlen,
                     struct vrun_err *err)
{
  const EVP_MD *md;
  unsigned int olen = 0;

  if(!algo || !out)
    return VRUN_SET_ERR(err, VRUN_EINVAL, "hmac: no algorithm");
  if(!strcmp(algo, "sha1"))
    md = EVP_sha1();
  else if(!strcmp(algo, "sha256"))
    md = EVP_sha256();
  else
    return VRUN_SET_ERR(err, VRUN_EINVAL, "hmac: unknown algorithm '%s' "
                        "(sha1 or sha256)", algo);
  if(keylen > 0x7fffffff)
    return VRUN_SET_ERR(err, VRUN_EINVAL, "hmac: key too long");
  if(!HMAC(md, key ? key : "", (int)keylen, data ? data : (const void *)"",
           len, out, &olen))
    return VRUN_SET_ERR(err, VRUN_ECRYPTO, "hmac-%s failed", algo);
  if(outlen)
    *outlen = olen;
  return VRUN_OK;
}
