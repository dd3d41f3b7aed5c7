# docker module: cJSON, libarchive, libyaml, libdeflate and libcrypto (for
# streaming SHA-256); never libcurl: HTTP goes through the host.
docker_CFLAGS := $(shell $(PKG) --cflags libcjson libarchive yaml-0.1 libcrypto libdeflate)
docker_LIBS := $(shell $(PKG) --libs libcjson libarchive yaml-0.1 libcrypto libdeflate) -lpthread
