/*
** layer.c: reproducible image layers (tar.gz blobs) built in one pass:
** libarchive writes the tar, which is hashed (the diff_id), gzipped with
** libdeflate and hashed again (the blob digest) on its way to the file.
**
** libdeflate compresses whole buffers, 3-4x faster than zlib at the same
** level, so the tar stream is cut into fixed 16 MiB pieces, each written
** as one gzip member. A multi-member gzip file is one valid gzip stream
** (RFC 1952 2.2; Go's gzip.Reader, used by Docker, containerd and skopeo,
** reads it whole, as eStargz layers rely on); fixed cut points keep the
** bytes reproducible.
** SPDX-License-Identifier: MIT
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <libdeflate.h>

#include "docker.h"

#define CHUNK (1 << 20)          /* file reads */
#define MEMBER (16 << 20)        /* tar bytes per gzip member */

struct sink {
  int fd;
  EVP_MD_CTX *tar_md;   /* over the tar stream: the diff_id */
  EVP_MD_CTX *gz_md;    /* over the gzip stream: the digest */
  struct libdeflate_compressor *cz;
  unsigned char *in;    /* MEMBER bytes of tar waiting */
  size_t in_len;
  unsigned char *out;   /* room for one compressed member */
  size_t out_size;
  uint64_t size;
  int failed;           /* errno of a failed write, or -1 */
};

static int put(struct sink *k, const unsigned char *p, size_t n)
{
  ssize_t w;

  EVP_DigestUpdate(k->gz_md, p, n);
  k->size += n;
  while(n) {
    w = write(k->fd, p, n);
    if(w < 0) {
      if(errno == EINTR)
        continue;
      k->failed = errno;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Compress the waiting tar bytes as one gzip member and write it. */
static int flush_member(struct sink *k)
{
  size_t n;

  if(!k->in_len)
    return 0;
  n = libdeflate_gzip_compress(k->cz, k->in, k->in_len, k->out,
                               k->out_size);
  k->in_len = 0;
  if(!n) {
    k->failed = -1;
    return -1;
  }
  return put(k, k->out, n);
}

static la_ssize_t sink_write(struct archive *a, void *ud, const void *buf,
                             size_t n)
{
  struct sink *k = ud;
  const unsigned char *p = buf;
  size_t left = n, m;

  (void)a;
  EVP_DigestUpdate(k->tar_md, buf, n);
  while(left) {
    m = MEMBER - k->in_len;
    if(m > left)
      m = left;
    memcpy(k->in + k->in_len, p, m);
    k->in_len += m;
    p += m;
    left -= m;
    if(k->in_len == MEMBER && flush_member(k))
      return -1;
  }
  return (la_ssize_t)n;
}

static void hexdigest(EVP_MD_CTX *md, char out[DOCKER_DIGEST_LEN])
{
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int len = 0, i;

  EVP_DigestFinal_ex(md, d, &len);
  memcpy(out, "sha256:", 7);
  for(i = 0; i < len && i < 32; i++)
    snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry name (parent folders with a trailing '/'), sorted, in a
** malloc'd array of malloc'd strings; *count set. NULL on no memory. */
static char **entry_names(const struct docker_layer_file *files, size_t n,
                          size_t *count)
{
  size_t cap = 16, m = 0, i, j;
  char **v = malloc(cap * sizeof(*v));
  const char *d, *p;

  if(!v)
    return NULL;
  for(i = 0; i < n; i++) {
    d = files[i].dest;
    while(*d == '/')
      d++;
    for(p = d; ; p++) {
      if(*p && *p != '/')
        continue;
      if(m + 1 >= cap) {
        char **nv = realloc(v, 2 * cap * sizeof(*v));
        if(!nv)
          goto fail;
        v = nv;
        cap *= 2;
      }
      /* a folder is kept with its '/', a file without */
      v[m] = *p ? strndup(d, (size_t)(p - d) + 1) : strdup(d);
      if(!v[m])
        goto fail;
      for(j = 0; j < m && strcmp(v[j], v[m]); j++)
        ;
      if(j < m)
        free(v[m]);
      else
        m++;
      if(!*p)
        break;
    }
  }
  qsort(v, m, sizeof(*v), cmp_str);
  *count = m;
  return v;
fail:
  while(m)
    free(v[--m]);
  free(v);
  return NULL;
}

static int write_entry(struct archive *a, const char *name,
                       const struct docker_layer_file *f, long long epoch,
                       unsigned char *buf, struct vrun_err *err)
{
  struct archive_entry *e = archive_entry_new();
  struct stat st;
  int fd = -1, rc = VRUN_OK;
  ssize_t r;

  if(!e)
    return VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  archive_entry_set_pathname(e, name);
  archive_entry_set_mtime(e, (time_t)epoch, 0);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  if(!f) {
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
  }
  else {
    fd = open(f->src, O_RDONLY | O_CLOEXEC);
    if(fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
      rc = VRUN_SET_ERR(err, VRUN_EIO, "cannot read %s: %s", f->src,
                        fd < 0 ? strerror(errno) : "not a regular file");
      goto out;
    }
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, (mode_t)f->mode);
    archive_entry_set_size(e, st.st_size);
  }
  if(archive_write_header(a, e) != ARCHIVE_OK) {
    rc = VRUN_SET_ERR(err, VRUN_EIO, "layer: %s", archive_error_string(a));
    goto out;
  }
  while(fd >= 0) {
    r = read(fd, buf, CHUNK);
    if(r < 0 && errno == EINTR)
      continue;
    if(r < 0) {
      rc = VRUN_SET_ERR(err, VRUN_EIO, "cannot read %s: %s", f->src,
                        strerror(errno));
      break;
    }
    if(r == 0)
      break;
    if(archive_write_data(a, buf, (size_t)r) != r) {
      rc = VRUN_SET_ERR(err, VRUN_EIO, "layer: %s",
                        archive_error_string(a));
      break;
    }
  }
out:
  if(fd >= 0)
    close(fd);
  archive_entry_free(e);
  return rc;
}

int docker_layer_build(const struct docker_layer_file *files, size_t n,
                       long long epoch, int level, const char *out,
                       struct docker_layer *layer, struct vrun_err *err)
{
  struct sink k;
  struct archive *a = NULL;
  char **names = NULL;
  size_t nn = 0, i, j;
  unsigned char *buf = malloc(CHUNK);
  int rc = VRUN_OK;

  memset(layer, 0, sizeof(*layer));
  memset(&k, 0, sizeof(k));
  k.fd = -1;
  k.tar_md = EVP_MD_CTX_new();
  k.gz_md = EVP_MD_CTX_new();
  /* libdeflate's gzip header has mtime 0 and no name: the bytes depend
  ** on the input and the level only */
  k.cz = libdeflate_alloc_compressor(level);
  k.in = malloc(MEMBER);
  if(k.cz) {
    k.out_size = libdeflate_gzip_compress_bound(k.cz, MEMBER);
    k.out = malloc(k.out_size);
  }
  names = entry_names(files, n, &nn);
  if(!buf || !k.tar_md || !k.gz_md || !k.cz || !k.in || !k.out || !names) {
    rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    goto out;
  }
  EVP_DigestInit_ex(k.tar_md, EVP_sha256(), NULL);
  EVP_DigestInit_ex(k.gz_md, EVP_sha256(), NULL);
  k.fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if(k.fd < 0) {
    rc = VRUN_SET_ERR(err, VRUN_EIO, "cannot write %s: %s", out,
                      strerror(errno));
    goto out;
  }
  a = archive_write_new();
  if(!a || archive_write_set_format_ustar(a) != ARCHIVE_OK ||
     archive_write_open2(a, &k, NULL, sink_write, NULL, NULL) !=
     ARCHIVE_OK) {
    rc = VRUN_SET_ERR(err, VRUN_EIO, "layer: %s",
                      a ? archive_error_string(a) : "out of memory");
    goto out;
  }
  for(i = 0; i < nn && !rc; i++) {
    const struct docker_layer_file *f = NULL;
    size_t l = strlen(names[i]);
    if(names[i][l - 1] != '/') {
      for(j = 0; j < n; j++) {
        const char *d = files[j].dest;
        while(*d == '/')
          d++;
        if(!strcmp(d, names[i]))
          f = &files[j];
      }
    }
    rc = write_entry(a, names[i], f, epoch, buf, err);
  }
  if(!rc && archive_write_close(a) != ARCHIVE_OK)
    rc = VRUN_SET_ERR(err, VRUN_EIO, "layer: %s", archive_error_string(a));
  if(!rc && flush_member(&k))
    rc = VRUN_SET_ERR(err, VRUN_EIO, "cannot write %s: %s", out,
                      k.failed > 0 ? strerror(k.failed) :
                      "compression failed");
  if(!rc && close(k.fd))
    rc = VRUN_SET_ERR(err, VRUN_EIO, "cannot write %s: %s", out,
                      strerror(errno));
  k.fd = -1;
  if(!rc) {
    hexdigest(k.tar_md, layer->diff_id);
    hexdigest(k.gz_md, layer->digest);
    layer->size = k.size;
    layer->file = strdup(out);
    if(!layer->file)
      rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
  }
out:
  if(a)
    archive_write_free(a);
  if(k.fd >= 0)
    close(k.fd);
  if(rc)
    unlink(out);
  for(i = 0; names && i < nn; i++)
    free(names[i]);
  free(names);
  free(buf);
  free(k.in);
  free(k.out);
  if(k.cz)
    libdeflate_free_compressor(k.cz);
  EVP_MD_CTX_free(k.tar_md);
  EVP_MD_CTX_free(k.gz_md);
  return rc;
}
