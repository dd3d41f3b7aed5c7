# docker module: cJSON, libarchive, libyaml, zlib and libcrypto (for
# streaming SHA-256); never libcurl: HTTP goes through the host.
docker_CFLAGS := $(shell $(PKG) --cflags libcjson libarchive yaml-0.1 zlib libcrypto)
docker_LIBS := $(shell $(PKG) --libs libcjson libarchive yaml-0.1 zlib libcrypto) -lpthread
