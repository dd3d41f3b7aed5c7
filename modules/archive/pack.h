/*
** pack.h: the archive module's C side, shared by its two files: building
** one reproducible archive (run on worker threads), checksum files.
** SPDX-License-Identifier: MIT
*/
#ifndef ARCHIVE_PACK_H
#define ARCHIVE_PACK_H

#include <stdint.h>
#include <stddef.h>

#include "vrun_module.h"

#define ARCHIVE_FMT_TGZ 1
#define ARCHIVE_FMT_ZIP 2

/* One file to pack: where it is, and the name it gets inside. */
struct archive_member {
  char *path;
  char *name;
  uint64_t size;            /* filled while packing */
  unsigned char sha[32];    /* of the file's bytes, filled while packing */
};

/* One archive to build. Strings are malloc'd and owned by the job. */
struct archive_job {
  char *output;             /* final name */
  char *tmp;                /* <output>.tmp-XXXXXX, written then renamed */
  char *checksums;          /* sha256sum-format file to write, or NULL */
  int format;               /* ARCHIVE_FMT_* */
  int level;                /* deflate level, 0-9 */
  int64_t mtime;
  int uid, gid;
  int mode;                 /* permission bits of every member */
  struct archive_member *members;  /* sorted by name before packing */
  size_t n_members;
  /* results */
  uint64_t out_size;
  unsigned char sha[32];    /* of the archive */
  int rc;                   /* VRUN_OK or a VRUN_E* code */
  struct vrun_err err;
};

/*
** Build job->output through job->tmp. Returns VRUN_OK, or a code with
** job->err filled and the temp file removed. Stops early (VRUN_EINTR)
** when *stop becomes non-zero or the host reports an interrupt. Safe to
** call from any thread: uses no Lua and only thread-safe host services.
*/
int archive_job_run(struct archive_job *job, const volatile int *stop,
                    const struct vrun_host *host);

/* Free everything a job owns (not the job itself). */
void archive_job_free(struct archive_job *job);

/*
** The text of a sha256sum-format checksum file for a built job: the
** archive's base name first, then each member under its in-archive name,
** in the order given. Returns a malloc'd NUL-terminated string the caller
** frees, or NULL when out of memory.
*/
char *archive_job_sums(const struct archive_job *job);

/*
** SHA-256 of a file, streamed with OpenSSL. Returns VRUN_OK, or a code
** with *err filled.
*/
int archive_sha256_file(const char *path, unsigned char out[32],
                        const volatile int *stop,
                        const struct vrun_host *host, struct vrun_err *err);

/* Lower-case hex of a digest into out (65 bytes). */
void archive_hex(const unsigned char sha[32], char out[65]);

/*
** Hash every regular member of an archive file (any format libarchive
** reads). For each member, call cb(ud, name, sha). Returns VRUN_OK or a
** code with *err filled.
*/
int archive_hash_members(const char *path,
                         void (*cb)(void *ud, const char *name,
                                    const unsigned char sha[32]),
                         void *ud, struct vrun_err *err);

#endif
