# vrun: build, test, install, bench, demo.
# SPDX-License-Identifier: MIT
#
#   make                 build ./vrun, ./modules/*.so, ./lib/vrun-svc.so
#   make test            build and run every test (TAP, via prove)
#   make check-asan      the same tests under AddressSanitizer + UBSan
#   make install         PREFIX=/usr/local DESTDIR=
#   make bench           benchmarks against make, tar+gzip, sha256sum, curl
#   make demo            release examples/hello with vrun
#
# O=DIR puts every build output under DIR (check-asan uses build/asan).
# Nothing here names a module or a core file: folders are found by wildcard,
# and a module's libraries come from its modules/<name>/module.mk.

VERSION  := 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
O        ?= .
# Intermediate files (objects, test binaries) go under B.
B        := $(if $(filter .,$(O)),build,$(O)/build)
CC       ?= cc
CFLAGS   ?= -O2 -g
PKG      ?= pkg-config

WARN     := -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror=implicit-function-declaration
DEFS     := -D_GNU_SOURCE -DVRUN_VERSION='"$(VERSION)"' -DVRUN_PREFIX='"$(PREFIX)"'
LUA_CFLAGS := $(shell $(PKG) --cflags lua5.4)
LUA_LIBS   := $(shell $(PKG) --libs lua5.4)
ALL_CFLAGS  = $(WARN) $(DEFS) -Icore $(LUA_CFLAGS) $(CFLAGS)

# The host services that need libcurl/libcrypto live in a private library
# loaded on first use, so a run that needs none pays nothing for them
# (linking libcurl costs ~4 ms per start). core/svc.mk sets SVC_SRC.
SVC_SRC  :=
-include core/svc.mk
SVC_LIBS  := $(shell $(PKG) --libs libcurl libcrypto 2>/dev/null) -lpthread
SVC_CFLAGS := $(shell $(PKG) --cflags libcurl libcrypto 2>/dev/null)

CORE_SRC := $(filter-out core/main.c $(SVC_SRC),$(wildcard core/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(B)/obj/%.o)
SVC_OBJ  := $(SVC_SRC:%.c=$(B)/obj/pic/%.o)
MAIN_OBJ := $(B)/obj/core/main.o
CORE_LIBS := $(LUA_LIBS) -ldl -lpthread -lm

MODULES  := $(notdir $(patsubst %/,%,$(dir $(wildcard modules/*/*.c))))
MODULES  := $(sort $(MODULES))
MODULE_SO := $(MODULES:%=$(O)/modules/%.so)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
TESTMOD_SRC := $(wildcard tests/modules/*.c)
TESTMOD_SO  := $(TESTMOD_SRC:tests/modules/%.c=$(B)/tests/modules/%.so)

.PHONY: FORCE all test check-asan install uninstall bench demo clean tests-build

all: $(O)/vrun $(MODULE_SO) $(if $(SVC_SRC),$(O)/lib/vrun-svc.so) \
     $(O)/vrun-module.pc $(O)/data

# PREFIX is compiled in (install paths): rebuild when it changes.
$(B)/prefix.txt: FORCE
	@mkdir -p $(@D)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' > $@
FORCE:
$(MAIN_OBJ) $(CORE_OBJ) $(O)/vrun-module.pc: $(B)/prefix.txt

$(O)/vrun: $(MAIN_OBJ) $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/obj/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SVC_CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(O)/lib/vrun-svc.so: $(SVC_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -o $@ $^ $(SVC_LIBS)

# A build tree outside the source tree still finds tasks/ and lua/.
$(O)/data:
	@if [ "$(abspath $(O))" != "$(CURDIR)" ]; then mkdir -p $(O); \
	  ln -sfn $(CURDIR)/tasks $(O)/tasks; ln -sfn $(CURDIR)/lua $(O)/lua; fi
.PHONY: $(O)/data

# One rule per module: modules/<name>/*.c -> $(O)/modules/<name>.so, with
# <name>_CFLAGS / <name>_LIBS from modules/<name>/module.mk.
-include $(wildcard modules/*/module.mk)
define module_rule
$(O)/modules/$(1).so: $(wildcard modules/$(1)/*.c) $(wildcard modules/$(1)/*.h) core/vrun_module.h
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$($(1)_CFLAGS) -fPIC -shared -o $$@ $$(filter %.c,$$^) $$($(1)_LIBS)
endef
$(foreach m,$(MODULES),$(eval $(call module_rule,$(m))))

$(O)/vrun-module.pc: Makefile $(B)/prefix.txt
	@mkdir -p $(@D)
	@printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include' \
	  'moduledir=$${prefix}/lib/vrun/modules' '' 'Name: vrun-module' \
	  'Description: Build modules for the vrun task runner' \
	  'Version: $(VERSION)' 'Requires: lua5.4' \
	  'Cflags: -I$${includedir}' > $@

# Unit tests link every core object except main.o.
$(B)/tests/unit/%: tests/unit/%.c $(CORE_OBJ) tests/unit/tap.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(CORE_OBJ) $(CORE_LIBS)

# Test modules build against the public header only. A file may set its own
# flags on a line "// cflags: ..." (e.g. to hide the vrun_module symbol).
$(B)/tests/modules/%.so: tests/modules/%.c core/vrun_module.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -Icore $(LUA_CFLAGS) $(CFLAGS) -fPIC -shared \
	  $$(sed -n 's|^// cflags: ||p' $<) -o $@ $<

tests-build: all $(UNIT_BIN) $(TESTMOD_SO)

test: tests-build
	O=$(abspath $(O)) B=$(abspath $(B)) VRUN=$(abspath $(O))/vrun tests/run.sh

check-asan:
	$(MAKE) O=build/asan CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
	  LDFLAGS='-fsanitize=address,undefined' test

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/vrun/modules \
	  $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/vrun
	install -m 755 $(O)/vrun $(DESTDIR)$(PREFIX)/bin/vrun
	$(if $(MODULE_SO),install -m 644 $(MODULE_SO) $(DESTDIR)$(PREFIX)/lib/vrun/modules/)
	$(if $(SVC_SRC),install -m 644 $(O)/lib/vrun-svc.so $(DESTDIR)$(PREFIX)/lib/vrun/)
	install -m 644 core/vrun_module.h $(DESTDIR)$(PREFIX)/include/vrun_module.h
	install -m 644 $(O)/vrun-module.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/vrun-module.pc
	[ ! -f docs/vrun.1 ] || install -m 644 docs/vrun.1 $(DESTDIR)$(PREFIX)/share/man/man1/vrun.1
	cp -R tasks lua $(DESTDIR)$(PREFIX)/share/vrun/
	[ ! -d completions ] || cp -R completions $(DESTDIR)$(PREFIX)/share/vrun/

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/bin/vrun $(DESTDIR)$(PREFIX)/lib/vrun \
	  $(DESTDIR)$(PREFIX)/share/vrun $(DESTDIR)$(PREFIX)/include/vrun_module.h \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/vrun-module.pc \
	  $(DESTDIR)$(PREFIX)/share/man/man1/vrun.1

bench: all
	VRUN=$(abspath $(O))/vrun bench/run.sh

demo: all
	VRUN=$(abspath $(O))/vrun examples/demo.sh

clean:
	rm -rf $(B) $(O)/vrun $(O)/modules/*.so $(O)/lib $(O)/vrun-module.pc build tests/out bench/out

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
