/*
** redact.h: masking of registered secrets in everything vrun prints.
** SPDX-License-Identifier: MIT
*/
#ifndef VRUN_REDACT_H
#define VRUN_REDACT_H

#include <stddef.h>

/* Shorter values are not registered: masking "ab" would garble output. */
#define VRUN_REDACT_MIN_LEN 3

/*
** Register a secret value. Thread-safe. Values shorter than
** VRUN_REDACT_MIN_LEN, and values already known, are ignored.
*/
void vrun_redact_add(const char *value);

/*
** Return a malloc'd copy of buf[0..len) with every registered secret
** replaced by "***", and its length in *outlen; the caller frees it.
** Returns NULL when nothing needs masking (use buf as it is) or when out
** of memory (the caller then prints nothing rather than leak).
*/
char *vrun_redact(const char *buf, size_t len, size_t *outlen, int *oom);

/* Non-zero if `name`/`value` look secret: names ending in TOKEN, SECRET,
** PASSWORD, WEBHOOK or _KEY; values starting ghp_, github_pat_, xoxb-,
** xoxp-. */
int vrun_redact_is_secret_name(const char *name);
int vrun_redact_is_secret_value(const char *value);

#endif
