# svc.mk: sources of lib/vrun-svc.so, the private library holding the
# services that need libcurl or libcrypto (loaded by core/host.c on first
# use, so the vrun binary links neither).
# SPDX-License-Identifier: MIT
SVC_SRC := core/svc.c core/http.c core/http_policy.c core/digest.c
