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
