# git module: libgit2.
# SPDX-License-Identifier: MIT
git_CFLAGS := $(shell $(PKG) --cflags libgit2)
git_LIBS := $(shell $(PKG) --libs libgit2)
