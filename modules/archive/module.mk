# archive module: libarchive for tar.gz/zip, libcrypto for streamed SHA-256
# of what is packed while it is packed.
# SPDX-License-Identifier: MIT
archive_CFLAGS := $(shell $(PKG) --cflags libarchive libcrypto)
archive_LIBS := $(shell $(PKG) --libs libarchive libcrypto) -lpthread
