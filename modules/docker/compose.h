/*
** compose.h: rewriting image tags in compose files (compose.c).
** SPDX-License-Identifier: MIT
*/
#ifndef DOCKER_COMPOSE_H
#define DOCKER_COMPOSE_H

#include "docker.h"

/*
** Set the version of every `image:` value in the YAML file at path whose
** repository is one of images[0..n) ("victoriametrics/vmagent") to tag,
** keeping any suffix after the version ("-cluster"). Only those bytes
** change. Under -n prints a diff and writes nothing. Returns VRUN_OK with
** *changed set, or an error with *err filled.
*/
int docker_compose_bump(struct docker_ctx *dc, const char *path,
                        char *const *images, size_t n, const char *tag,
                        int *changed, struct vrun_err *err);

#endif
