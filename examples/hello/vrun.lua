-- vrun.lua: build, test and clean the hello example with vrun.
-- SPDX-License-Identifier: MIT
-- Try: vrun, vrun test, vrun -n, vrun clean, vrun --list.

default { CC = "cc", CFLAGS = "-O2 -Wall -Wextra", VERSION = "dev" }

-- A file target: rebuilt only when missing or older than hello.c.
file "bin/hello" {
  desc = "Build the program",
  deps = { "hello.c" },
  run = function()
    sh "@mkdir -p bin"
    sh "$(CC) $(CFLAGS) -DHELLO_VERSION='\"$(VERSION)\"' -o $@ $<"
  end,
}

task "build" { desc = "Build bin/hello", deps = { "bin/hello" } }

task "test" {
  desc = "Run the tests against bin/hello",
  deps = { "bin/hello" },
  run = function() sh "sh tests/test.sh bin/hello" end,
}

task "clean" {
  desc = "Remove what the build made",
  run = function() sh "rm -rf bin" end,
}

default_target "build"

-- {====== releasing hello (tasks/release.lua) ======
-- `vrun release` from a tagged commit builds every platform and packs
-- bin/hello-<os>-<arch>-<tag>.tar.gz (.zip for windows) with a
-- sha256sum-format _checksums.txt each. This demo has no cross
-- compiler, so each "platform" is a native build under its name; a Go
-- project would say build = "make app-$(GOOS)-$(GOARCH)".
project {
  name = "hello",
  github = "vrun-examples/hello",
  platforms = { "linux/amd64", "linux/arm64", "windows/amd64" },
  build = function(goos, goarch)
    local exe = goos == "windows" and ".exe" or ""
    sh "@mkdir -p bin"
    sh(string.format("$(CC) $(CFLAGS) -DHELLO_VERSION='\"$(VERSION)\"' "
                     .. "-o bin/hello-%s-%s-prod%s hello.c",
                     goos, goarch, exe))
  end,
  archives = { { name = "hello", binaries = { "hello" } } },
}
include "release"
-- }======
