#!/bin/sh
# test.sh: checks bin/hello's output. Usage: sh tests/test.sh bin/hello
# SPDX-License-Identifier: MIT
set -u
bin=${1:-bin/hello}
fails=0
check() {  # check WANT ARGS...
  want=$1; shift
  got=$("$bin" "$@")
  if [ "$got" = "$want" ]; then echo "ok - $bin $*"
  else echo "not ok - $bin $*: got '$got', want '$want'"; fails=$((fails + 1)); fi
}
check "Hello, world!"
check "Hello, vrun!" vrun
[ "$fails" -eq 0 ]
