# module.mk: build flags of the github module (cJSON; HTTP comes from the
# host, so no libcurl here).
# SPDX-License-Identifier: MIT
github_CFLAGS := $(shell $(PKG) --cflags libcjson)
github_LIBS   := $(shell $(PKG) --libs libcjson)
