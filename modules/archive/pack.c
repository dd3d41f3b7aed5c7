/*
** pack.c: build one reproducible tar.gz or zip archive, hashing the
** archive and each member in the same pass that writes them.
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

#include "pack.h"

#define PACK_BUF (1024 * 1024)

/* Where libarchive's output goes: the temp file, hashed on the way. */
struct pack_out {
  int fd;
  EVP_MD_CTX *md;
  uint64_t n;
  int err_no;
};

static la_ssize_t out_write(struct archive *a, void *ud, const void *buf,
                            size_t len)
{
  struct pack_out *o = ud;
  const char *p = buf;
  size_t left = len;

  (void)a;
  while(left) {
    ssize_t w = write(o->fd, p, left);
    if(w < 0) {
      if(errno == EINTR)
        continue;
      o->err_no = errno;
      return -1;
    }
    p += w;
    left -= (size_t)w;
  }
  EVP_DigestUpdate(o->md, buf, len);
  o->n += len;
  return (la_ssize_t)len;
}

void archive_hex(const unsigned char sha[32], char out[65])
{
  static const char hx[] = "0123456789abcdef";
  int i;

  for(i = 0; i < 32; i++) {
    out[i * 2] = hx[sha[i] >> 4];
    out[i * 2 + 1] = hx[sha[i] & 15];
  }
  out[64] = 0;
}

static int stopped(const volatile int *stop, const struct vrun_host *host)
{
  if(stop && *stop)
    return 1;
  return host && host->interrupted && host->interrupted(host->ctx);
}

/* Configure a fresh writer for the job's format; VRUN_OK or a code. */
static int setup_writer(struct archive *a, const struct archive_job *job,
                        struct vrun_err *err)
{
  char lvl[8];

  snprintf(lvl, sizeof(lvl), "%d", job->level);
  if(job->format == ARCHIVE_FMT_TGZ) {
    /* GNU tar's default format, as the original's `tar czf` */
    if(archive_write_set_format_gnutar(a) != ARCHIVE_OK ||
       archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
       archive_write_set_filter_option(a, "gzip", "compression-level",
                                       lvl) != ARCHIVE_OK ||
       /* no time in the gzip header: same input, same bytes */
       archive_write_set_filter_option(a, "gzip", "timestamp",
                                       NULL) != ARCHIVE_OK)
      return VRUN_SET_ERR(err, VRUN_EIO, "libarchive: %s",
                          archive_error_string(a));
    archive_write_set_bytes_per_block(a, 10240);
  }
  else {
    if(archive_write_set_format_zip(a) != ARCHIVE_OK ||
       archive_write_set_format_option(a, "zip", "compression-level",
                                       lvl) != ARCHIVE_OK)
      return VRUN_SET_ERR(err, VRUN_EIO, "libarchive: %s",
                          archive_error_string(a));
    /* a zip must end at its central directory: no block padding */
    archive_write_set_bytes_per_block(a, 0);
  }
  archive_write_set_bytes_in_last_block(a, 1);
  return VRUN_OK;
}

/* Pack one member: header, then its bytes, hashed as they are read. */
static int pack_member(struct archive *a, struct archive_job *job,
                       struct archive_member *m, char *buf,
                       const volatile int *stop,
                       const struct vrun_host *host)
{
  struct archive_entry *e = NULL;
  struct stat st;
  EVP_MD_CTX *md = NULL;
  uint64_t done = 0;
  int fd, rc = VRUN_OK;

  fd = open(m->path, O_RDONLY | O_CLOEXEC);
  if(fd < 0)
    return VRUN_SET_ERR(&job->err, errno == ENOENT ? VRUN_ENOENT : VRUN_EIO,
                        "%s: %s", m->path, strerror(errno));
  if(fstat(fd, &st) || !S_ISREG(st.st_mode)) {
    close(fd);
    return VRUN_SET_ERR(&job->err, VRUN_EINVAL, "%s: not a regular file",
                        m->path);
  }
  m->size = (uint64_t)st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  e = archive_entry_new();
  md = EVP_MD_CTX_new();
  if(!e || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
    rc = VRUN_SET_ERR(&job->err, VRUN_ENOMEM, "out of memory");
    goto out;
  }
  archive_entry_set_pathname(e, m->name);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, (mode_t)job->mode);
  archive_entry_set_size(e, (la_int64_t)m->size);
  archive_entry_set_uid(e, job->uid);
  archive_entry_set_gid(e, job->gid);
  archive_entry_set_mtime(e, (time_t)job->mtime, 0);
  if(archive_write_header(a, e) != ARCHIVE_OK) {
    rc = VRUN_SET_ERR(&job->err, VRUN_EIO, "%s: %s", job->output,
                      archive_error_string(a));
    goto out;
  }
  while(done < m->size) {
    ssize_t r = read(fd, buf, PACK_BUF);
    if(r < 0 && errno == EINTR)
      continue;
    if(r < 0) {
      rc = VRUN_SET_ERR(&job->err, VRUN_EIO, "%s: %s", m->path,
                        strerror(errno));
      goto out;
    }
    if(r == 0 || done + (uint64_t)r > m->size) {
      /* the header already holds the size: a changing file is fatal */
      rc = VRUN_SET_ERR(&job->err, VRUN_EIO, "%s: file changed while "
                        "being archived", m->path);
      goto out;
    }
    EVP_DigestUpdate(md, buf, (size_t)r);
    if(archive_write_data(a, buf, (size_t)r) != r) {
      rc = VRUN_SET_ERR(&job->err, VRUN_EIO, "%s: %s", job->output,
                        archive_error_string(a));
      goto out;
    }
    done += (uint64_t)r;
    if(stopped(stop, host)) {
      rc = VRUN_SET_ERR(&job->err, VRUN_EINTR, "%s: interrupted",
                        job->output);
      goto out;
    }
  }
  EVP_DigestFinal_ex(md, m->sha, NULL);
out:
  EVP_MD_CTX_free(md);
  archive_entry_free(e);
  close(fd);
  return rc;
}

int archive_job_run(struct archive_job *job, const volatile int *stop,
                    const struct vrun_host *host)
{
  struct archive *a = NULL;
  struct pack_out o;
  char *buf = NULL;
  size_t i;
  int rc = VRUN_OK;

  memset(&o, 0, sizeof(o));
  o.fd = -1;
  job->err.code = 0;
  job->err.msg[0] = 0;
  buf = malloc(PACK_BUF);
  o.md = EVP_MD_CTX_new();
  a = archive_write_new();
  if(!buf || !o.md || !a || !EVP_DigestInit_ex(o.md, EVP_sha256(), NULL)) {
    rc = VRUN_SET_ERR(&job->err, VRUN_ENOMEM, "out of memory");
    goto out;
  }
  /* O_EXCL: the name was registered for cleanup before it existed */
  o.fd = open(job->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if(o.fd < 0) {
    rc = VRUN_SET_ERR(&job->err, VRUN_EIO, "%s: %s", job->tmp,
                      strerror(errno));
    goto out;
  }
  rc = setup_writer(a, job, &job->err);
  if(rc)
    goto out;
  if(archive_write_open(a, &o, NULL, out_write, NULL) != ARCHIVE_OK) {
    rc = VRUN_SET_ERR(&job->err, VRUN_EIO, "%s: %s", job->output,
                      o.err_no ? strerror(o.err_no) :
                      archive_error_string(a));
    goto out;
  }
  for(i = 0; i < job->n_members; i++) {
    rc = pack_member(a, job, &job->members[i], buf, stop, host);
    if(rc)
      goto out;
  }
  if(archive_write_close(a) != ARCHIVE_OK) {
    rc = VRUN_SET_ERR(&job->err, VRUN_EIO, "%s: %s", job->output,
                      o.err_no ? strerror(o.err_no) :
                      archive_error_string(a));
    goto out;
  }
  EVP_DigestFinal_ex(o.md, job->sha, NULL);
  job->out_size = o.n;
  if(close(o.fd)) {
    o.fd = -1;
    rc = VRUN_SET_ERR(&job->err, VRUN_EIO, "%s: %s", job->tmp,
                      strerror(errno));
    goto out;
  }
  o.fd = -1;
  if(stopped(stop, host)) {
    rc = VRUN_SET_ERR(&job->err, VRUN_EINTR, "%s: interrupted",
                      job->output);
    goto out;
  }
  if(rename(job->tmp, job->output)) {
    rc = VRUN_SET_ERR(&job->err, VRUN_EIO, "%s: %s", job->output,
                      strerror(errno));
    goto out;
  }
out:
  /* free closes a writer not yet closed: that ends zlib's stream (a
  ** "failed" writer would skip it and leak zlib's state); what it
  ** writes goes to the temp file, removed below */
  if(a)
    archive_write_free(a);
  if(o.fd >= 0)
    close(o.fd);
  if(rc && job->tmp)
    unlink(job->tmp);
  EVP_MD_CTX_free(o.md);
  free(buf);
  job->rc = rc;
  return rc;
}

void archive_job_free(struct archive_job *job)
{
  size_t i;

  for(i = 0; i < job->n_members; i++) {
    free(job->members[i].path);
    free(job->members[i].name);
  }
  free(job->members);
  free(job->output);
  free(job->tmp);
  free(job->checksums);
  memset(job, 0, sizeof(*job));
}

char *archive_job_sums(const struct archive_job *job)
{
  const char *base = strrchr(job->output, '/');
  size_t cap = 0, len = 0, i;
  char hex[65], *s;

  base = base ? base + 1 : job->output;
  cap = 68 + strlen(base);
  for(i = 0; i < job->n_members; i++)
    cap += 68 + strlen(job->members[i].name);
  s = malloc(cap + 1);
  if(!s)
    return NULL;
  archive_hex(job->sha, hex);
  len += (size_t)snprintf(s + len, cap + 1 - len, "%s  %s\n", hex, base);
  for(i = 0; i < job->n_members; i++) {
    archive_hex(job->members[i].sha, hex);
    len += (size_t)snprintf(s + len, cap + 1 - len, "%s  %s\n", hex,
                            job->members[i].name);
  }
  return s;
}

int archive_sha256_file(const char *path, unsigned char out[32],
                        const volatile int *stop,
                        const struct vrun_host *host, struct vrun_err *err)
{
  EVP_MD_CTX *md = NULL;
  char *buf = NULL;
  int fd, rc = VRUN_OK;

  fd = open(path, O_RDONLY | O_CLOEXEC);
  if(fd < 0)
    return VRUN_SET_ERR(err, errno == ENOENT ? VRUN_ENOENT : VRUN_EIO,
                        "%s: %s", path, strerror(errno));
  buf = malloc(PACK_BUF);
  md = EVP_MD_CTX_new();
  if(!buf || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
    rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    goto out;
  }
  for(;;) {
    ssize_t r = read(fd, buf, PACK_BUF);
    if(r < 0 && errno == EINTR)
      continue;
    if(r < 0) {
      rc = VRUN_SET_ERR(err, VRUN_EIO, "%s: %s", path, strerror(errno));
      goto out;
    }
    if(!r)
      break;
    EVP_DigestUpdate(md, buf, (size_t)r);
    if(stopped(stop, host)) {
      rc = VRUN_SET_ERR(err, VRUN_EINTR, "%s: interrupted", path);
      goto out;
    }
  }
  EVP_DigestFinal_ex(md, out, NULL);
out:
  EVP_MD_CTX_free(md);
  free(buf);
  close(fd);
  return rc;
}

int archive_hash_members(const char *path,
                         void (*cb)(void *ud, const char *name,
                                    const unsigned char sha[32]),
                         void *ud, struct vrun_err *err)
{
  struct archive *a = archive_read_new();
  struct archive_entry *e;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char sha[32];
  int rc = VRUN_OK, r;

  if(!a || !md) {
    rc = VRUN_SET_ERR(err, VRUN_ENOMEM, "out of memory");
    goto out;
  }
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  if(archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
    rc = VRUN_SET_ERR(err, VRUN_EIO, "%s: %s", path,
                      archive_error_string(a));
    goto out;
  }
  for(;;) {
    char blk[65536];
    la_ssize_t len;

    r = archive_read_next_header(a, &e);
    if(r == ARCHIVE_EOF)
      break;
    if(r != ARCHIVE_OK) {
      rc = VRUN_SET_ERR(err, VRUN_EIO, "%s: %s", path,
                        archive_error_string(a));
      goto out;
    }
    if(archive_entry_filetype(e) != AE_IFREG)
      continue;
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for(;;) {
      /* archive_read_data, not _block: it fills sparse holes */
      len = archive_read_data(a, blk, sizeof(blk));
      if(!len)
        break;
      if(len < 0) {
        rc = VRUN_SET_ERR(err, VRUN_EIO, "%s: %s", path,
                          archive_error_string(a));
        goto out;
      }
      EVP_DigestUpdate(md, blk, (size_t)len);
    }
    EVP_DigestFinal_ex(md, sha, NULL);
    cb(ud, archive_entry_pathname(e), sha);
  }
out:
  EVP_MD_CTX_free(md);
  if(a)
    archive_read_free(a);
  return rc;
}
