#!/usr/bin/env bash
# demo.sh: what `make demo` runs. Builds and tests examples/hello with
# vrun in a temporary copy, so the source tree stays clean.
# SPDX-License-Identifier: MIT
set -euo pipefail
: "${VRUN:?set VRUN to the vrun binary (make demo does)}"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vrun-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$here/hello" "$work/"
cd "$work/hello"
step() { printf '\n== %s\n' "$*"; "$@"; }
step "$VRUN" --list
step "$VRUN"                    # default goal: build
step "$VRUN"                    # up to date now: nothing runs
step "$VRUN" -q build && echo "(-q: up to date)"
step "$VRUN" test
step "$VRUN" -n -B build VERSION=1.0.0
step "$VRUN" -B test VERSION=1.0.0
step ./bin/hello --version
step "$VRUN" clean
# Release it: a throw-away git repository of the example with an
# unsigned tag, then `vrun release` packs the archives and checksums.
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com
export GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com
printf 'bin/\n' > .gitignore
git init -q -b main . && git add . && git commit -qm "hello 1.0.0"
git tag -a v1.0.0 -m "hello v1.0.0"
step "$VRUN" release
step ls -l bin
for f in bin/*_checksums.txt; do step cat "$f"; done
step tar tvzf bin/hello-linux-amd64-v1.0.0.tar.gz
printf '\ndemo: ok\n'
